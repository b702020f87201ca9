import Foundation
import Testing
import TestSupport
import Tokenization

/// Thinking in conversations: encodings identical to mistral-common's (Fixtures/tokenization/thinking.json,
/// from scripts/make-thinking-fixtures.py: every thinking case of its tests/test_tokenizer_v13.py and
/// our own, through `MistralTokenizer.encode_chat_completion` on the synthetic v13 Tekken vocabulary),
/// the thinking tokens found in vocabularies, and tool calls found inside and after the thinking.
@Suite(.enabled(if: TokenizerFixtures.mistralVocabulariesPresent, TokenizerFixtures.missingVocabularies))
struct ThinkingTests {
    struct Case: Decodable {
        struct Message: Decodable {
            enum Content: Decodable {
                case text(String)
                case chunks([Chunk])
                init(from decoder: any Decoder) throws {
                    let c = try decoder.singleValueContainer()
                    if let text = try? c.decode(String.self) { self = .text(text) } else { self = .chunks(try c.decode([Chunk].self)) }
                }
            }
            struct Chunk: Decodable {
                let type: String
                let text: String?
                let thinking: String?
                let closed: Bool?
            }
            struct Call: Decodable {
                let name: String
                let arguments: String
                let id: String?
            }
            let role: String
            let content: Content
            let tool_calls: [Call]?
            let tool_call_id: String?
            let prefix: Bool?
        }
        struct Tool: Decodable {
            let name: String
            let description: String
        }
        let name: String
        let messages: [Message]
        let tools: [Tool]
        let ids: [Int32]?
        let text: String?
        let error: String?
    }

    static let cases = (try? TokenizerFixtures.decode([Case].self, "tokenization/thinking.json")) ?? []

    /// The fixture parsed keeping the order of keys (a tool's schema is rendered in its order).
    static let ordered = try? ChatJSON(parsing: String(decoding: try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tokenization/thinking.json"))), as: UTF8.self))

    static func element(_ value: ChatJSON?, _ index: Int) -> ChatJSON? {
        guard case .array(let items)? = value, items.indices.contains(index) else { return nil }
        return items[index]
    }

    /// The fixture's message as ours; tool-call arguments that are not JSON stay a string, as
    /// mistral-common's `_parse_json_content` leaves them.
    static func message(_ m: Case.Message) throws -> ChatMessage {
        let role = try #require(ChatMessage.Role(rawValue: m.role))
        let calls = (m.tool_calls ?? []).map { call in
            ToolCall(name: call.name, arguments: (try? ChatJSON(parsing: call.arguments)) ?? .string(call.arguments), id: call.id)
        }
        switch m.content {
        case .text(let text):
            return ChatMessage(role, text, toolCalls: calls, toolCallID: m.tool_call_id, prefix: m.prefix ?? false)
        case .chunks(let chunks):
            let converted: [ChatMessage.ContentChunk] = chunks.map {
                $0.type == "thinking" ? .thinking($0.thinking ?? "", closed: $0.closed ?? true) : .text($0.text ?? "")
            }
            return ChatMessage(role, chunks: converted, toolCalls: calls, toolCallID: m.tool_call_id, prefix: m.prefix ?? false)
        }
    }

    @Test func everyMistralCommonThinkingCaseIsInTheFixture() {
        // The cases of mistral-common's tests/test_tokenizer_v13.py that hold thinking, and ours.
        let names = Set(Self.cases.map(\.name))
        #expect(Self.cases.count == 21)
        for name in [
            "mc/end_to_end_v13", "mc/assistant_think_text", "mc/assistant_open_think_text_calls", "mc/system_text_think_text",
            "mc/system_two_texts_two_thinks", "mc/system_open_think", "mc/think_chunk_closed", "mc/think_chunk_open",
        ] {
            #expect(names.contains(name), "\(name)")
        }
        // mistral-common's own expected text for its end-to-end conversation (EXPECTED_TEXT_V13).
        #expect(Self.cases.first?.text?.hasSuffix("[TOOL_RESULTS]R2[/TOOL_RESULTS][THINK]T1[/THINK]A2</s>[INST]U2[/INST]") == true)
    }

    @Test(arguments: cases.map(\.name))
    func encodesAsMistralCommon(name: String) throws {
        let item = try #require(Self.cases.first { $0.name == name })
        let tokenizer = try TokenizerFixtures.tokenizer(TokenizerFixtures.tekkenV13Synthetic)
        let encoder = try ChatEncoder(tokenizer: tokenizer, format: .mistralV13)
        let messages = try item.messages.map(Self.message)
        let index = try #require(Self.cases.firstIndex { $0.name == name })
        let tools = try item.tools.enumerated().map { t, tool in
            ToolDefinition(
                name: tool.name, description: tool.description,
                parameters: try #require(Self.element(Self.element(Self.ordered, index)?["tools"], t)?["parameters"]))
        }
        let expected = try #require(item.ids, "\(name): mistral-common refused it: \(item.error ?? "")")
        let ids = try encoder.encode(messages, tools: tools)
        #expect(ids == expected, "\(name)\n  expected \(expected)\n  actual   \(ids)")
        #expect(try tokenizer.decode(ids, renderSpecial: true) == item.text, "\(name)")
    }

    @Test func thinkingTokensAreFoundInTheVocabulary() throws {
        let synthetic = try TokenizerFixtures.tokenizer(TokenizerFixtures.tekkenV13Synthetic)
        #expect(ThinkingTokens(vocabulary: synthetic.vocabulary) == ThinkingTokens(open: 22, close: 23, style: .mistral))
        // The real 240718 Tekken vocabulary (Nemo) has no [THINK]; nor does a model encoder need one.
        let tekken = try TokenizerFixtures.tokenizer(TokenizerFixtures.tekken)
        #expect(ThinkingTokens(vocabulary: tekken.vocabulary) == nil)
        #expect(try ChatEncoder(tokenizer: tekken, format: .mistralV7Tekken).thinking == nil)
    }

    @Test func aThoughtOpenAtTheEndOfThePromptIsWhereTheReplyBegins() throws {
        let tokenizer = try TokenizerFixtures.tokenizer(TokenizerFixtures.tekkenV13Synthetic)
        let encoder = try ChatEncoder(tokenizer: tokenizer, format: .mistralV13)
        let thinking = try #require(encoder.thinking)
        let open = try encoder.encode([ChatMessage(.user, "U"), ChatMessage(.assistant, chunks: [.thinking("Let me", closed: false)], prefix: true)])
        #expect(open.last != thinking.open && thinking.promptEndsInside(open, vocabulary: tokenizer.vocabulary))
        let closed = try encoder.encode([ChatMessage(.user, "U"), ChatMessage(.assistant, chunks: [.thinking("Done")], prefix: true)])
        #expect(!thinking.promptEndsInside(closed, vocabulary: tokenizer.vocabulary))
        // A system prompt's open thought is closed by [/SYSTEM_PROMPT]: the reply does not begin inside it.
        let system = try encoder.encode([ChatMessage(.system, chunks: [.text("S"), .thinking("TS", closed: false)]), ChatMessage(.user, "U")])
        #expect(system.contains(thinking.open) && !thinking.promptEndsInside(system, vocabulary: tokenizer.vocabulary))
    }

    @Test func thinkingWhereMistralCommonRefusesItIsAnError() throws {
        let synthetic = try TokenizerFixtures.tokenizer(TokenizerFixtures.tekkenV13Synthetic)
        let v13 = try ChatEncoder(tokenizer: synthetic, format: .mistralV13)
        let thought = ChatMessage(.assistant, "A", reasoning: "T")
        // Before v13 ("Think not implemented for tokenizer < V13"), in a user message, a prefix not last.
        #expect(throws: TokenizerError.self) { try ChatEncoder(tokenizer: synthetic, format: .mistralV11).encode([ChatMessage(.user, "U"), thought]) }
        #expect(throws: TokenizerError.self) { try v13.encode([ChatMessage(.user, chunks: [.thinking("T")])]) }
        #expect(throws: TokenizerError.self) { try v13.encode([ChatMessage(.assistant, "A", prefix: true), ChatMessage(.user, "U")]) }
        // A v13 vocabulary without [THINK] (the real 240718 Tekken one) cannot hold thinking.
        let tekken = try TokenizerFixtures.tokenizer(TokenizerFixtures.tekken)
        #expect(throws: TokenizerError.self) { try ChatEncoder(tokenizer: tekken, format: .mistralV13).encode([ChatMessage(.user, "U"), thought]) }
    }

    /// llama-server loses the calls a model makes inside [THINK] (its issue #29248): ours finds them
    /// there and after the thinking, and keeps the thinking's text apart.
    @Test func toolCallsInsideAndAfterTheThinkingAreParsed() throws {
        let tokenizer = try TokenizerFixtures.tokenizer(TokenizerFixtures.tekkenV13Synthetic)
        let encoder = try ChatEncoder(tokenizer: tokenizer, format: .mistralV13)
        let thinking = try #require(encoder.thinking)
        let calls = try #require(tokenizer.vocabulary.id(forText: "[TOOL_CALLS]"))
        let args = try #require(tokenizer.vocabulary.id(forText: "[ARGS]"))
        let eos = try #require(tokenizer.vocabulary.eos)
        let text = { (s: String) in tokenizer.encode(s) }
        let parser = ToolCallParser(encoder: encoder)

        // A call inside the thinking, one after it.
        let ids = [thinking.open] + text("I need the weather.") + [calls] + text("get_weather") + [args] + text("{\"city\": \"Paris\"}")
            + [thinking.close] + text("Checking both.") + [calls] + text("get_time") + [args] + text("{\"zone\": \"CET\"}") + [eos]
        let parsed = try parser.parse(ids)
        #expect(parsed.calls.map(\.name) == ["get_weather", "get_time"])
        #expect(parsed.calls.first?.arguments == .object([("city", .string("Paris"))]))
        #expect(parsed.reasoning == "I need the weather.")
        #expect(parsed.content == "Checking both.")

        // Only inside a thinking the prompt opened (no [THINK] in the output), left open at the end.
        let inside = text("Call it now.") + [calls] + text("get_weather") + [args] + text("{\"city\": \"Oslo\"}")
        let open = try parser.parse(inside, startsInThinking: true)
        #expect(open.calls.map(\.name) == ["get_weather"] && open.reasoning == "Call it now." && open.content.isEmpty)
        // Without knowing the prompt opened it, the same ids are a call after plain text.
        #expect(try parser.parse(inside).reasoning == nil)

        // "[THINK]" written as text is not thinking: the split is by id.
        let plain = text("[THINK]not a thought[/THINK] answer")
        #expect(!plain.contains(thinking.open))
        let notThinking = try parser.parse(plain)
        #expect(notThinking.reasoning == nil && notThinking.content == "[THINK]not a thought[/THINK] answer")
    }
}
