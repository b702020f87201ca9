// MARK: - ChatML (Qwen2.5) and Gemma

extension ChatEncoder {
    /// Qwen2.5's template (`tokenizer.chat_template` of the Qwen2.5 GGUFs), token by token: the text
    /// between control tokens is tokenized on its own, which is what llama.cpp does with the
    /// rendered template too (special tokens split the text into independent fragments).
    func encodeChatML(_ messages: [ChatMessage], tools: [ToolDefinition], addGenerationPrompt: Bool) throws -> [TokenID] {
        try Self.checkPrefix(messages)
        let start = try control("<|im_start|>")
        let end = try control("<|im_end|>")
        var out: [TokenID] = []
        func turn(_ body: String, close: Bool = true) {
            out.append(start)
            out += text(body)
            if close {
                out.append(end)
                out += text("\n")
            }
        }
        var rest = messages[...]
        let system = rest.first?.role == .system ? rest.removeFirst().text : nil
        if !tools.isEmpty {
            var body = "system\n" + (system ?? "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
            body += "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            body += "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
            for tool in tools { body += "\n" + tool.json.serialized }
            body += "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
            body += "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>"
            turn(body)
        } else {
            turn("system\n" + (system ?? "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."))
        }
        var previous: ChatMessage.Role? = nil
        let items = Array(rest)
        let lastUser = items.lastIndex { $0.role == .user } ?? -1
        for (index, message) in items.enumerated() {
            switch message.role {
            case .system, .user:
                turn(message.role.rawValue + "\n" + message.text)
            case .assistant:
                var body = "assistant"
                if !message.text.isEmpty { body += "\n" + message.text }
                for call in message.toolCalls {
                    body += "\n<tool_call>\n{\"name\": \"" + call.name + "\", \"arguments\": " + call.arguments.serialized + "}\n</tool_call>"
                }
                // Qwen3's template: the thinking of the turns after the last user message, between
                // <think> tokens (ids, not text a user could type); earlier turns' thinking is dropped.
                if index > lastUser, let thinking, thinking.style == .angle, let reasoning = message.reasoning {
                    out.append(start)
                    out += text("assistant\n")
                    out.append(thinking.open)
                    out += text("\n" + reasoning.trimmingNewlines() + "\n")
                    let open = message.chunks.contains { if case .thinking(_, closed: false) = $0 { true } else { false } }
                    if !open {
                        out.append(thinking.close)
                        out += text("\n\n" + String(body.dropFirst("assistant".count).drop { $0 == "\n" }))
                    }
                    if !message.prefix {
                        out.append(end)
                        out += text("\n")
                    }
                } else {
                    turn(body, close: !message.prefix)
                }
            case .tool:
                var body = previous == .tool ? "" : "user"
                body += "\n<tool_response>\n" + message.text + "\n</tool_response>"
                let last = index + 1 == items.count || items[index + 1].role != .tool
                if previous != .tool { out.append(start) }
                out += text(body)
                if last {
                    out.append(end)
                    out += text("\n")
                }
            }
            previous = message.role
        }
        if addGenerationPrompt && messages.last?.prefix != true { turn("assistant\n", close: false) }
        return out
    }

    /// Gemma 3's template: BOS, then `<start_of_turn>user|model\n…<end_of_turn>\n`; a system message
    /// is prepended to the first user turn followed by a blank line. Gemma has no tool format.
    func encodeGemma(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> [TokenID] {
        try Self.checkPrefix(messages)
        let start = try control("<start_of_turn>")
        let end = try control("<end_of_turn>")
        var out: [TokenID] = []
        if let bos = tokenizer.vocabulary.bos { out.append(bos) }
        var rest = messages[...]
        var prefix = rest.first?.role == .system ? rest.removeFirst().text + "\n\n" : ""
        for message in rest {
            let role = message.role == .assistant ? "model" : "user"
            out.append(start)
            out += text(role + "\n" + prefix + message.text.trimmingWhitespace())
            prefix = ""
            if message.prefix { break }
            out.append(end)
            out += text("\n")
        }
        if addGenerationPrompt && messages.last?.prefix != true {
            out.append(start)
            out += text("model\n")
        }
        return out
    }
}

extension String {
    func trimmingNewlines() -> String {
        var scalars = Substring(self)
        while scalars.first == "\n" { scalars = scalars.dropFirst() }
        while scalars.last == "\n" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
