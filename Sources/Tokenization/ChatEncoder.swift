/// Builds a conversation's token ids in a chat format.
///
/// Structure (turn markers, system and tool blocks) is inserted as control-token ids looked up by
/// their text; every piece of message text is tokenized as plain text on its own, as mistral-common
/// does, so nothing a user, a tool or a document says can become a control token.
public struct ChatEncoder: Sendable {
    /// The tokenizer.
    public let tokenizer: Tokenizer
    /// The format.
    public let format: ChatFormat
    /// The tokens that open and close the model's thinking (nil: the vocabulary has none).
    public let thinking: ThinkingTokens?

    /// Creates an encoder for `format`.
    ///
    /// - Parameters:
    ///   - tokenizer: The model's tokenizer.
    ///   - format: The format; `nil` detects it from the vocabulary's chat template.
    /// - Throws: `TokenizerError` `.unknownChatFormat` when no format is given and none is detected.
    public init(tokenizer: Tokenizer, format: ChatFormat? = nil) throws {
        self.tokenizer = tokenizer
        guard let format = format ?? ChatFormat.detect(template: tokenizer.vocabulary.chatTemplate, vocabulary: tokenizer.vocabulary)
        else {
            throw TokenizerError(.unknownChatFormat, "cannot tell the chat format from the model's template; name one")
        }
        self.format = format
        thinking = ThinkingTokens(vocabulary: tokenizer.vocabulary)
    }

    /// The id of control token `text`.
    func control(_ text: String) throws -> TokenID {
        guard let id = tokenizer.vocabulary.id(forText: text) else {
            throw TokenizerError(.invalidChat, "the vocabulary has no \(text) token, which format \(format) needs")
        }
        return id
    }

    func text(_ text: String) -> [TokenID] { tokenizer.encode(text) }

    /// The token ids of a conversation, ready for the model (BOS included).
    ///
    /// Thinking is encoded as mistral-common encodes it (v13): `[THINK]…[/THINK]` where the chunk
    /// stands. ChatML writes an assistant's thinking after the last user message as Qwen3's template
    /// does (`<think>\n…\n</think>\n\n`, with a `<think>` vocabulary) and drops it before, as that
    /// template and DeepSeek-R1's do; Gemma has no thinking and drops it.
    ///
    /// - Parameters:
    ///   - messages: The conversation.
    ///   - tools: The functions the model may call.
    ///   - addGenerationPrompt: For ChatML and Gemma, open the assistant's turn at the end (Mistral
    ///     formats have no generation prompt: the model continues after `[/INST]`). Not after a
    ///     prefix message, which the model continues.
    /// - Returns: The ids.
    /// - Throws: `TokenizerError` `.invalidChat` when the vocabulary lacks a token the format needs,
    ///   for thinking where mistral-common refuses it (a user or tool message, a format before v13),
    ///   and for a prefix message that is not the last one or not an assistant's.
    public func encode(_ messages: [ChatMessage], tools: [ToolDefinition] = [], addGenerationPrompt: Bool = true) throws
        -> [TokenID]
    {
        if format.mistralVersion == nil, let index = messages.firstIndex(where: \.hasImages) {
            throw TokenizerError(.invalidChat, "messages[\(index)]: format \(format) has no image tokens")
        }
        return switch format {
        case .chatML: try encodeChatML(messages, tools: tools, addGenerationPrompt: addGenerationPrompt)
        case .gemma: try encodeGemma(messages, addGenerationPrompt: addGenerationPrompt)
        default: try encodeMistral(messages, tools: tools, version: format.mistralVersion ?? 3)
        }
    }

    /// The conversation as text with control tokens shown, for display and debugging.
    public func render(_ messages: [ChatMessage], tools: [ToolDefinition] = [], addGenerationPrompt: Bool = true) throws
        -> String
    {
        try tokenizer.decode(encode(messages, tools: tools, addGenerationPrompt: addGenerationPrompt), renderSpecial: true)
    }

    // MARK: - Mistral

    private func encodeMistral(_ messages: [ChatMessage], tools: [ToolDefinition], version: Int) throws -> [TokenID] {
        try Self.checkPrefix(messages)
        var out: [TokenID] = []
        if let bos = tokenizer.vocabulary.bos { out.append(bos) }
        let eos = try tokenizer.vocabulary.eos ?? control("</s>")
        let userIndices = messages.indices.filter { messages[$0].role == .user }
        let toolsAt = version >= 13 ? userIndices.first : userIndices.last
        let systemText = messages.filter { $0.role == .system }.map(\.text).joined(separator: "\n\n")
        let toolsJSON = ChatJSON.array(tools.map(\.json)).serialized

        for (index, message) in messages.enumerated() {
            if message.hasThinking, message.role == .user || message.role == .tool {
                throw TokenizerError(.invalidChat, "messages[\(index)]: only system and assistant messages may hold thinking")
            }
            if message.hasImages, message.role != .user {
                throw TokenizerError(.invalidChat, "messages[\(index)]: only user messages may hold images")
            }
            switch message.role {
            case .system:
                // v3 folds system text into the last user turn; v7+ keeps it where it is.
                if version >= 7 {
                    out += [try control("[SYSTEM_PROMPT]")] + (try content(of: message, at: index, version: version))
                        + [try control("[/SYSTEM_PROMPT]")]
                } else if message.hasThinking {
                    throw TokenizerError(.invalidChat, "messages[\(index)]: format \(format) has no thinking (v13 has)")
                }
            case .user:
                if !tools.isEmpty && index == toolsAt {
                    out += [try control("[AVAILABLE_TOOLS]")] + text(toolsJSON) + [try control("[/AVAILABLE_TOOLS]")]
                }
                let foldsSystem = version < 7 && index == userIndices.last && !systemText.isEmpty
                if message.hasImages {
                    out += [try control("[INST]")] + (try imageContent(of: message, system: foldsSystem ? systemText : nil))
                        + [try control("[/INST]")]
                } else {
                    var content = message.text
                    if foldsSystem { content = systemText + "\n\n" + content }
                    out += [try control("[INST]")] + text(content) + [try control("[/INST]")]
                }
            case .assistant:
                if version < 7 {
                    // mistral-common's v2/v3: content or calls, never both.
                    if message.hasThinking {
                        throw TokenizerError(.invalidChat, "messages[\(index)]: format \(format) has no thinking (v13 has)")
                    }
                    if message.toolCalls.isEmpty {
                        out += text(String(message.text.reversed().drop { $0 == " " }.reversed()))
                    } else {
                        let calls = ChatJSON.array(message.toolCalls.map { call in
                            var pairs: [(key: String, value: ChatJSON)] = [("name", .string(call.name)), ("arguments", call.arguments)]
                            if let id = call.id { pairs.append(("id", .string(id))) }
                            return .object(pairs)
                        })
                        out += [try control("[TOOL_CALLS]")] + text(calls.serialized)
                    }
                } else {
                    // v7+: the content (thinking included), then the calls.
                    out += try content(of: message, at: index, version: version, trimmingTrailingSpaces: true)
                    if version < 11, !message.toolCalls.isEmpty {
                        let calls = ChatJSON.array(message.toolCalls.map { call in
                            var pairs: [(key: String, value: ChatJSON)] = [("name", .string(call.name)), ("arguments", call.arguments)]
                            if let id = call.id { pairs.append(("id", .string(id))) }
                            return .object(pairs)
                        })
                        out += [try control("[TOOL_CALLS]")] + text(calls.serialized)
                    }
                    if version >= 11 {
                        for call in message.toolCalls {
                            out += [try control("[TOOL_CALLS]")] + text(call.name)
                            if version == 11, let id = call.id { out += [try control("[CALL_ID]")] + text(id) }
                            out += [try control("[ARGS]")] + text(call.arguments.serialized)
                        }
                    }
                }
                if !message.prefix { out.append(eos) }
            case .tool:
                out.append(try control("[TOOL_RESULTS]"))
                if version < 7 {
                    let content = (try? ChatJSON(parsing: message.text)) ?? .string(message.text)
                    out += text(ChatJSON.object([("content", content), ("call_id", .string(message.toolCallID ?? ""))]).serialized)
                } else if version < 13 {
                    out += text(message.toolCallID ?? "") + [try control("[TOOL_CONTENT]")] + text(message.text)
                } else {
                    out += text(message.text)
                }
                out.append(try control("[/TOOL_RESULTS]"))
            }
        }
        return out
    }

    /// A message's content as mistral-common's v7+ normalizer and instruct tokenizer give it: empty
    /// text chunks dropped, neighbouring text chunks joined by a blank line; content that is all text
    /// is one string (for an assistant, its trailing spaces trimmed); otherwise each chunk in order,
    /// thinking as `[THINK]…[/THINK]` (`[THINK]…` when the chunk is open), text untrimmed.
    private func content(of message: ChatMessage, at index: Int, version: Int, trimmingTrailingSpaces: Bool = false) throws
        -> [TokenID]
    {
        guard message.hasThinking else {
            let whole = message.text
            return text(trimmingTrailingSpaces ? String(whole.reversed().drop { $0 == " " }.reversed()) : whole)
        }
        guard version >= 13 else {
            throw TokenizerError(.invalidChat, "messages[\(index)]: format \(format) has no thinking (v13 has)")
        }
        guard let thinking, thinking.style == .mistral else {
            throw TokenizerError(.invalidChat, "messages[\(index)] holds thinking, and the vocabulary has no [THINK] and [/THINK] tokens")
        }
        var out: [TokenID] = []
        var pending: [String] = []
        func flush() {
            if !pending.isEmpty { out += text(pending.joined(separator: "\n\n")) }
            pending.removeAll()
        }
        for chunk in message.chunks {
            switch chunk {
            case .text(let piece):
                if !piece.isEmpty { pending.append(piece) }
            case .thinking(let thought, let closed):
                flush()
                out.append(thinking.open)
                out += text(thought)
                if closed { out.append(thinking.close) }
            case .image:
                break  // refused outside user messages before this is called
            }
        }
        flush()
        return out
    }

    /// A user message's content with images, as mistral-common's instruct tokenizer gives it: an image
    /// that comes last after only text moves first (its `force_img_first`); neighbouring text chunks
    /// joined by a blank line, each run of text tokenized on its own; each image as its placeholders
    /// (`[IMG]` per token, `[IMG_BREAK]` after each row but the last, `[IMG_END]`). A v3 system prompt
    /// comes first, tokenized alone with a blank line after it.
    private func imageContent(of message: ChatMessage, system: String?) throws -> [TokenID] {
        var chunks = message.chunks
        if chunks.count >= 2, case .image = chunks.last!,
            chunks.dropLast().allSatisfy({ if case .text = $0 { true } else { false } })
        {
            chunks.insert(chunks.removeLast(), at: 0)
        }
        let image = try control("[IMG]")
        let rowBreak = try control("[IMG_BREAK]")
        let end = try control("[IMG_END]")
        var out: [TokenID] = []
        if let system { out += text(system + "\n\n") }
        var pending: [String] = []
        func flush() {
            if !pending.isEmpty { out += text(pending.joined(separator: "\n\n")) }
            pending.removeAll()
        }
        for chunk in chunks {
            switch chunk {
            case .text(let piece):
                if !piece.isEmpty { pending.append(piece) }
            case .thinking:
                break  // refused for user messages before this is called
            case .image(let columns, let rows):
                flush()
                guard columns >= 1, rows >= 1, columns <= 1 << 16, rows <= 1 << 16 else {
                    throw TokenizerError(.invalidChat, "an image of \(columns)×\(rows) tokens")
                }
                for row in 0..<rows {
                    out += Array(repeating: image, count: columns)
                    out.append(row == rows - 1 ? end : rowBreak)
                }
            }
        }
        flush()
        return out
    }

    /// Where each image's placeholders start in `tokens` (a run of `[IMG]` ids begins; text never
    /// encodes to control ids), in order; empty when the vocabulary has no `[IMG]`.
    public func imagePositions(in tokens: [TokenID]) -> [Int] {
        guard let image = tokenizer.vocabulary.id(forText: "[IMG]") else { return [] }
        let rowBreak = tokenizer.vocabulary.id(forText: "[IMG_BREAK]")
        var starts: [Int] = []
        for (i, token) in tokens.enumerated() where token == image {
            if i == 0 || (tokens[i - 1] != image && tokens[i - 1] != rowBreak) { starts.append(i) }
        }
        return starts
    }

    /// Refuses `prefix` anywhere but on a last, assistant message.
    static func checkPrefix(_ messages: [ChatMessage]) throws {
        for (index, message) in messages.enumerated() where message.prefix {
            guard index == messages.count - 1, message.role == .assistant else {
                throw TokenizerError(.invalidChat, "messages[\(index)]: only the last message, an assistant one, may be a prefix")
            }
        }
    }
}
