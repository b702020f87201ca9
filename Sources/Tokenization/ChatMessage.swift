/// One message of a conversation.
public struct ChatMessage: Sendable, Equatable {
    /// Who speaks.
    public enum Role: String, Sendable, Equatable {
        case system, user, assistant, tool
    }

    /// The role.
    public var role: Role
    /// The text (for a tool message: the tool's result, usually JSON text).
    public var content: String
    /// The calls an assistant message makes (instead of content).
    public var toolCalls: [ToolCall]
    /// For a tool message: the id of the call it answers.
    public var toolCallID: String?
    /// The content as chunks of text and thinking, in order (mistral-common's `TextChunk` and
    /// `ThinkChunk`); when not empty it is the message's content and `content` must be empty.
    public var chunks: [ContentChunk]
    /// For the last message, an assistant one: the model continues it (no end of turn is written;
    /// mistral-common's `prefix`).
    public var prefix: Bool

    /// One piece of a message's content.
    public enum ContentChunk: Sendable, Equatable {
        /// Text.
        case text(String)
        /// Thinking: `[THINK]text[/THINK]`, or `[THINK]text` when not closed (the thought goes on).
        case thinking(String, closed: Bool = true)
        /// An image (user messages, Mistral formats), as its grid of image tokens: `columns` `[IMG]`
        /// per row, `[IMG_BREAK]` between rows, `[IMG_END]` after the last (mistral-common's
        /// `ImageChunk`; the pixels travel beside the conversation).
        case image(columns: Int, rows: Int)
    }

    /// Creates a message.
    ///
    /// - Parameters:
    ///   - role: The role.
    ///   - content: The text.
    ///   - reasoning: For an assistant message: its thinking, before the text (OpenAI's
    ///     `reasoning_content`, one closed think chunk in mistral-common's terms).
    ///   - toolCalls: The assistant's tool calls.
    ///   - toolCallID: The call a tool result answers.
    ///   - prefix: The model continues this (last, assistant) message.
    public init(
        _ role: Role, _ content: String = "", reasoning: String? = nil, toolCalls: [ToolCall] = [], toolCallID: String? = nil,
        prefix: Bool = false
    ) {
        self.role = role
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.prefix = prefix
        if let reasoning {
            self.content = ""
            chunks = [.thinking(reasoning)] + (content.isEmpty ? [] : [.text(content)])
        } else {
            self.content = content
            chunks = []
        }
    }

    /// Creates a message whose content is chunks of text and thinking.
    public init(_ role: Role, chunks: [ContentChunk], toolCalls: [ToolCall] = [], toolCallID: String? = nil, prefix: Bool = false) {
        self.role = role
        content = ""
        self.chunks = chunks
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.prefix = prefix
    }

    /// Whether any chunk is an image.
    public var hasImages: Bool {
        chunks.contains { if case .image = $0 { true } else { false } }
    }

    /// Whether any chunk is thinking.
    public var hasThinking: Bool {
        chunks.contains { if case .thinking = $0 { true } else { false } }
    }

    /// The text of the content, thinking left out (text chunks joined as mistral-common's normalizer
    /// joins them: with a blank line).
    public var text: String {
        guard !chunks.isEmpty else { return content }
        return chunks.compactMap { if case .text(let t) = $0, !t.isEmpty { t } else { nil } }.joined(separator: "\n\n")
    }

    /// The thinking, its chunks joined by a line break (as mistral-common's `to_openai` joins them
    /// into `reasoning_content`), or nil without any.
    public var reasoning: String? {
        let thoughts = chunks.compactMap { if case .thinking(let t, _) = $0 { t } else { nil } }
        return thoughts.isEmpty ? nil : thoughts.joined(separator: "\n")
    }
}

/// A function call requested by the model.
public struct ToolCall: Sendable, Equatable {
    /// The function's name.
    public var name: String
    /// The arguments (a JSON object).
    public var arguments: ChatJSON
    /// The call's id (Mistral v3/v7/v11 carry nine alphanumerics; v13 has none).
    public var id: String?

    /// Creates a call.
    public init(name: String, arguments: ChatJSON, id: String? = nil) {
        self.name = name
        self.arguments = arguments
        self.id = id
    }
}

/// A function the model may call.
public struct ToolDefinition: Sendable, Equatable {
    /// The function's name.
    public var name: String
    /// What it does.
    public var description: String
    /// Its parameters as a JSON schema.
    public var parameters: ChatJSON

    /// Creates a definition.
    public init(name: String, description: String, parameters: ChatJSON) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }

    /// `{"type": "function", "function": {"name", "description", "parameters"}}`, as the templates
    /// and mistral-common render a tool.
    public var json: ChatJSON {
        .object([
            ("type", .string("function")),
            ("function", .object([("name", .string(name)), ("description", .string(description)), ("parameters", parameters)])),
        ])
    }
}
