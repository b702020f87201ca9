/// Reads the tool calls out of a model's generated tokens.
///
/// Mistral formats mark calls with control tokens: v3/v7 `[TOOL_CALLS][{"name", "arguments", "id"}…]`,
/// v11 `[TOOL_CALLS]name[CALL_ID]id[ARGS]{…}`, v13 `[TOOL_CALLS]name[ARGS]{…}` (repeated for parallel
/// calls). ChatML (Qwen) wraps `{"name", "arguments"}` in `<tool_call>…</tool_call>`. Gemma has none.
///
/// A reasoning model may call a tool in its thinking as well as after it (llama-server loses the
/// calls made inside `[THINK]`: its issue #29248). The output is first split at the thinking tokens
/// (by id), and each part is searched for calls: a call ends at the next call, at `[/THINK]` or at
/// the end.
public struct ToolCallParser: Sendable {
    /// The encoder whose format and tokenizer are used.
    public let encoder: ChatEncoder

    /// Creates a parser for `encoder`'s format.
    public init(encoder: ChatEncoder) {
        self.encoder = encoder
    }

    /// The text before any call, and the calls.
    public struct Result: Sendable, Equatable {
        /// Assistant text outside the calls (and outside the thinking).
        public var content: String
        /// The calls, in order (those made while thinking included).
        public var calls: [ToolCall]
        /// The thinking's text outside the calls (nil: the output has no thinking).
        public var reasoning: String?

        /// Creates a result.
        public init(content: String, calls: [ToolCall], reasoning: String? = nil) {
            self.content = content
            self.calls = calls
            self.reasoning = reasoning
        }
    }

    /// Parses generated ids (an end-of-sequence token, if present, ends the output).
    ///
    /// - Parameters:
    ///   - ids: The generated ids.
    ///   - startsInThinking: The output begins inside the thinking (the prompt opened it).
    /// - Returns: The content, the calls and the reasoning.
    /// - Throws: `TokenizerError` `.invalidToolCall` when a call is malformed, `.invalidTokenID` for
    ///   an id outside the vocabulary.
    public func parse(_ ids: [TokenID], startsInThinking: Bool = false) throws -> Result {
        var ids = ids[...]
        if let eos = encoder.tokenizer.vocabulary.eos, let end = ids.firstIndex(of: eos) { ids = ids[..<end] }
        guard let thinking = encoder.thinking else { return try parseSegment(ids) }
        var content: [String] = []
        var reasoning: [String]? = nil
        var calls: [ToolCall] = []
        var inside = startsInThinking
        var start = ids.startIndex
        func take(_ end: Int) throws {
            let part = try parseSegment(ids[start..<end])
            calls += part.calls
            if inside {
                reasoning = (reasoning ?? []) + [part.content]
            } else if !part.content.isEmpty {
                content.append(part.content)
            }
        }
        for index in ids.indices where ids[index] == (inside ? thinking.close : thinking.open) {
            try take(index)
            inside.toggle()
            start = index + 1
        }
        try take(ids.endIndex)
        return Result(content: content.joined(), calls: calls, reasoning: reasoning?.joined())
    }

    /// The content and calls of a part of the output without thinking tokens.
    private func parseSegment(_ ids: ArraySlice<TokenID>) throws -> Result {
        let tokenizer = encoder.tokenizer
        let vocabulary = tokenizer.vocabulary
        switch encoder.format {
        case .gemma:
            return Result(content: try tokenizer.decode(ids), calls: [])
        case .chatML:
            return try parseChatML(try tokenizer.decode(ids))
        default:
            break
        }
        guard let marker = vocabulary.id(forText: "[TOOL_CALLS]"), let first = ids.firstIndex(of: marker) else {
            return Result(content: try tokenizer.decode(ids), calls: [])
        }
        let content = try tokenizer.decode(ids[..<first])
        let version = encoder.format.mistralVersion ?? 3
        if version < 11 {
            let json = try ChatJSON(parsing: try tokenizer.decode(ids[(first + 1)...]))
            guard case .array(let items) = json else { throw TokenizerError(.invalidToolCall, "[TOOL_CALLS] is not followed by a JSON array") }
            let calls = try items.map { item -> ToolCall in
                guard case .string(let name)? = item["name"] else { throw TokenizerError(.invalidToolCall, "a call has no name") }
                var id: String? = nil
                if case .string(let value)? = item["id"] { id = value }
                return ToolCall(name: name, arguments: item["arguments"] ?? .object([]), id: id)
            }
            return Result(content: content, calls: calls)
        }
        // v11 / v13: [TOOL_CALLS] name ([CALL_ID] id)? [ARGS] json, repeated.
        let args = vocabulary.id(forText: "[ARGS]")
        let callID = vocabulary.id(forText: "[CALL_ID]")
        var calls: [ToolCall] = []
        var rest = ids[(first + 1)...]
        while true {
            let next = rest.firstIndex(of: marker) ?? rest.endIndex
            let call = rest[..<next]
            guard let args, let argsIndex = call.firstIndex(of: args) else {
                throw TokenizerError(.invalidToolCall, "a tool call has no [ARGS]")
            }
            var nameEnd = argsIndex
            var id: String? = nil
            if let callID, let idIndex = call[..<argsIndex].firstIndex(of: callID) {
                nameEnd = idIndex
                id = try tokenizer.decode(call[(idIndex + 1)..<argsIndex])
            }
            let name = try tokenizer.decode(call[..<nameEnd]).trimmingWhitespace()
            let arguments = try ChatJSON(parsing: try tokenizer.decode(call[(argsIndex + 1)...]))
            calls.append(ToolCall(name: name, arguments: arguments, id: id))
            guard next < rest.endIndex else { break }
            rest = rest[(next + 1)...]
        }
        return Result(content: content, calls: calls)
    }

    private func parseChatML(_ text: String) throws -> Result {
        var content = ""
        var calls: [ToolCall] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "<tool_call>") {
            content += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstRange(of: "</tool_call>") else {
                throw TokenizerError(.invalidToolCall, "<tool_call> is not closed")
            }
            let json = try ChatJSON(parsing: String(rest[open.upperBound..<close.lowerBound]))
            guard case .string(let name)? = json["name"] else { throw TokenizerError(.invalidToolCall, "a call has no name") }
            calls.append(ToolCall(name: name, arguments: json["arguments"] ?? .object([])))
            rest = rest[close.upperBound...]
        }
        content += rest
        return Result(content: content.trimmingWhitespace(), calls: calls)
    }
}
