import Foundation
import Tokenization

/// Fuzz target 2: the tokenizers, the streaming detokenizer, the chat encoder, the tool-call parser
/// and the order-keeping JSON parser on arbitrary bytes, id sequences and message lists, over every
/// vocabulary present (SentencePiece and byte-level BPE; Tekken, Qwen2, Gemma; Mistral v1–v13,
/// ChatML and Gemma templates).
///
/// Input: byte 0 picks the vocabulary, byte 1 the mode, the rest is the payload.
public final class TokenizerFuzzer: Sendable {
    let vocabularies: FuzzVocabularies

    public init(vocabularies: FuzzVocabularies = FuzzVocabularies()) {
        self.vocabularies = vocabularies
    }

    public func run(_ data: [UInt8]) {
        guard data.count >= 2, !vocabularies.entries.isEmpty else { return }
        let entry = vocabularies.pick(data[0])
        let mode = data[1]
        let payload = Array(data.dropFirst(2))
        switch mode % 4 {
        case 0: text(payload, entry, flags: mode >> 2)
        case 1: ids(payload, entry)
        case 2: chat(payload, entry)
        default: json(payload, entry)
        }
    }

    /// Arbitrary bytes as text (invalid UTF-8 repaired as a client's JSON string would never carry it,
    /// but a file or a flag might), encoded with and without special-token parsing, and decoded back.
    func text(_ payload: [UInt8], _ entry: FuzzVocabularies.Entry, flags: UInt8) {
        let text = String(decoding: payload, as: UTF8.self)
        let ids = entry.tokenizer.encode(text, addSpecial: flags & 1 != 0, parseSpecial: flags & 2 != 0)
        let count = entry.tokenizer.vocabulary.count
        precondition(ids.allSatisfy { $0 >= 0 && Int($0) < count }, "encode made an id outside the vocabulary")
        stream(ids, entry)
    }

    /// Little-endian 32-bit values as ids: mostly inside the vocabulary, some outside (which must throw).
    func ids(_ payload: [UInt8], _ entry: FuzzVocabularies.Entry) {
        let count = UInt32(entry.tokenizer.vocabulary.count)
        var ids: [TokenID] = []
        var index = 0
        while index + 4 <= payload.count {
            let raw = UInt32(payload[index]) | UInt32(payload[index + 1]) << 8 | UInt32(payload[index + 2]) << 16 | UInt32(payload[index + 3]) << 24
            // Values with the top bit set are kept as they are (negative or huge ids); the rest fold into the vocabulary.
            ids.append(raw & 0x8000_0000 != 0 ? TokenID(bitPattern: raw) : TokenID(raw % (count + 8)))
            index += 4
        }
        stream(ids, entry)
        if let encoder = entry.chatEncoder {
            _ = try? ToolCallParser(encoder: encoder).parse(ids)
        }
    }

    /// The streaming detokenizer's pieces, concatenated, equal the whole decode; an id outside the
    /// vocabulary throws from both.
    func stream(_ ids: [TokenID], _ entry: FuzzVocabularies.Entry) {
        var detokenizer = StreamingDetokenizer(tokenizer: entry.tokenizer)
        var streamed = ""
        var failed = false
        for id in ids {
            do {
                streamed += try detokenizer.append(id)
            } catch {
                failed = true
                break
            }
        }
        streamed += detokenizer.finish()
        let whole = try? entry.tokenizer.decode(ids)
        precondition(failed == (whole == nil), "the streaming detokenizer and decode disagree on whether \(ids) is valid")
        if let whole {
            precondition(streamed == whole, "streamed \(streamed.debugDescription) but decode gives \(whole.debugDescription) for \(ids)")
        }
        _ = try? entry.tokenizer.decode(ids, renderSpecial: true)
    }

    /// A message list built from the payload: fields separated by NUL; the first byte of each field
    /// picks the role and whether it carries a tool call (with arguments parsed as JSON) or defines a tool.
    func chat(_ payload: [UInt8], _ entry: FuzzVocabularies.Entry) {
        guard let encoder = entry.chatEncoder else { return }
        let roles: [ChatMessage.Role] = [.system, .user, .assistant, .tool]
        var messages: [ChatMessage] = []
        var tools: [ToolDefinition] = []
        for field in payload.split(separator: 0, omittingEmptySubsequences: false).prefix(16) {
            guard let head = field.first else { continue }
            let text = String(decoding: field.dropFirst(), as: UTF8.self)
            let role = roles[Int(head & 3)]
            switch head >> 2 & 3 {
            case 0:
                messages.append(ChatMessage(role, text))
            case 1:
                let arguments = (try? ChatJSON(parsing: text)) ?? .object([("text", .string(text))])
                let call = ToolCall(name: String(text.prefix(8)), arguments: arguments, id: head & 0x10 != 0 ? "abcDEF123" : nil)
                messages.append(ChatMessage(.assistant, "", toolCalls: [call]))
            case 2:
                messages.append(ChatMessage(.tool, text, toolCallID: head & 0x10 != 0 ? "abcDEF123" : nil))
            default:
                let schema = (try? ChatJSON(parsing: text)) ?? .object([("type", .string("object"))])
                tools.append(ToolDefinition(name: String(text.prefix(12)), description: text, parameters: schema))
            }
        }
        guard let ids = try? encoder.encode(messages, tools: tools) else { return }
        let count = entry.tokenizer.vocabulary.count
        precondition(ids.allSatisfy { $0 >= 0 && Int($0) < count }, "the chat encoder made an id outside the vocabulary")
        _ = try? ToolCallParser(encoder: encoder).parse(ids)
        _ = try? encoder.render(messages, tools: tools)
    }

    /// The order-keeping JSON parser: whatever parses serializes, and the serialization parses to the
    /// same value (NaN aside, which JSON text cannot carry).
    func json(_ payload: [UInt8], _ entry: FuzzVocabularies.Entry) {
        let text = String(decoding: payload, as: UTF8.self)
        guard let value = try? ChatJSON(parsing: text) else { return }
        let serialized = value.serialized
        if !serialized.contains("NaN"), !serialized.contains("Infinity") {
            let again = try? ChatJSON(parsing: serialized)
            precondition(again != nil, "\(serialized.debugDescription) (serialized from \(text.debugDescription)) does not parse")
        }
        if let encoder = entry.chatEncoder {
            let ids = entry.tokenizer.encode(serialized)
            _ = try? ToolCallParser(encoder: encoder).parse(ids)
        }
    }
}
