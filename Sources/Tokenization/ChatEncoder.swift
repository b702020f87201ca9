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
    /// - Parameters:
    ///   - messages: The conversation.
    ///   - tools: The functions the model may call.
    ///   - addGenerationPrompt: For ChatML and Gemma, open the assistant's turn at the end (Mistral
    ///     formats have no generation prompt: the model continues after `[/INST]`).
    /// - Returns: The ids.
    /// - Throws: `TokenizerError` `.invalidChat` when the vocabulary lacks a token the format needs.
    public func encode(_ messages: [ChatMessage], tools: [ToolDefinition] = [], addGenerationPrompt: Bool = true) throws
        -> [TokenID]
    {
        switch format {
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
        var out: [TokenID] = []
        if let bos = tokenizer.vocabulary.bos { out.append(bos) }
        let eos = try tokenizer.vocabulary.eos ?? control("</s>")
        let userIndices = messages.indices.filter { messages[$0].role == .user }
        let toolsAt = version >= 13 ? userIndices.first : userIndices.last
        let systemText = messages.filter { $0.role == .system }.map(\.content).joined(separator: "\n\n")
        let toolsJSON = ChatJSON.array(tools.map(\.json)).serialized

        for (index, message) in messages.enumerated() {
            switch message.role {
            case .system:
                // v3 folds system text into the last user turn; v7+ keeps it where it is.
                if version >= 7 { out += [try control("[SYSTEM_PROMPT]")] + text(message.content) + [try control("[/SYSTEM_PROMPT]")] }
            case .user:
                if !tools.isEmpty && index == toolsAt {
                    out += [try control("[AVAILABLE_TOOLS]")] + text(toolsJSON) + [try control("[/AVAILABLE_TOOLS]")]
                }
                var content = message.content
                if version < 7 && index == userIndices.last && !systemText.isEmpty { content = systemText + "\n\n" + content }
                out += [try control("[INST]")] + text(content) + [try control("[/INST]")]
            case .assistant:
                if message.toolCalls.isEmpty {
                    out += text(String(message.content.reversed().drop { $0 == " " }.reversed()))
                } else if version < 11 {
                    let calls = ChatJSON.array(message.toolCalls.map { call in
                        var pairs: [(key: String, value: ChatJSON)] = [("name", .string(call.name)), ("arguments", call.arguments)]
                        if let id = call.id { pairs.append(("id", .string(id))) }
                        return .object(pairs)
                    })
                    out += [try control("[TOOL_CALLS]")] + text(calls.serialized)
                } else {
                    for call in message.toolCalls {
                        out += [try control("[TOOL_CALLS]")] + text(call.name)
                        if version == 11, let id = call.id { out += [try control("[CALL_ID]")] + text(id) }
                        out += [try control("[ARGS]")] + text(call.arguments.serialized)
                    }
                }
                out.append(eos)
            case .tool:
                out.append(try control("[TOOL_RESULTS]"))
                if version < 7 {
                    let content = (try? ChatJSON(parsing: message.content)) ?? .string(message.content)
                    out += text(ChatJSON.object([("content", content), ("call_id", .string(message.toolCallID ?? ""))]).serialized)
                } else if version < 13 {
                    out += text(message.toolCallID ?? "") + [try control("[TOOL_CONTENT]")] + text(message.content)
                } else {
                    out += text(message.content)
                }
                out.append(try control("[/TOOL_RESULTS]"))
            }
        }
        return out
    }
}
