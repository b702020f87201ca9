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

    /// Creates a message.
    ///
    /// - Parameters:
    ///   - role: The role.
    ///   - content: The text.
    ///   - toolCalls: The assistant's tool calls.
    ///   - toolCallID: The call a tool result answers.
    public init(_ role: Role, _ content: String = "", toolCalls: [ToolCall] = [], toolCallID: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
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
