/// A protocol-level error: what the daemon replies when a message cannot be served, as the Varlink
/// error name and its parameters.
public enum WireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A message exceeded the size limit (the connection is then closed).
    case messageTooLarge(limit: Int)
    /// The bytes are not a JSON object of the Varlink call shape.
    case invalidMessage(reason: String)
    /// No such method (org.varlink.service.MethodNotFound).
    case methodNotFound(method: String)
    /// No such interface (org.varlink.service.InterfaceNotFound).
    case interfaceNotFound(interface: String)
    /// A parameter is missing, of the wrong type or out of range.
    case invalidParameter(parameter: String, reason: String)
    /// The prompt and max_tokens do not fit the context.
    case contextOverflow(promptTokens: Int, maxTokens: Int, contextLength: Int)
    /// Too many requests are queued.
    case busy(queued: Int, limit: Int)
    /// The peer may not use the daemon.
    case permissionDenied(uid: Int, gid: Int)
    /// The daemon is stopping.
    case shuttingDown
    /// A request waited too long.
    case timeout(seconds: Double, reason: String)

    /// The Varlink error name on the wire.
    public var name: String {
        switch self {
        case .messageTooLarge, .invalidMessage: "org.varlink.service.InvalidParameter"
        case .methodNotFound: "org.varlink.service.MethodNotFound"
        case .interfaceNotFound: "org.varlink.service.InterfaceNotFound"
        case .invalidParameter: "\(InferenceInterface.name).InvalidParameter"
        case .contextOverflow: "\(InferenceInterface.name).ContextOverflow"
        case .busy: "\(InferenceInterface.name).Busy"
        case .permissionDenied: "\(InferenceInterface.name).PermissionDenied"
        case .shuttingDown: "\(InferenceInterface.name).ShuttingDown"
        case .timeout: "\(InferenceInterface.name).Timeout"
        }
    }

    /// The error's parameters, as the interface declares them.
    public var parameters: [String: WireJSON] {
        switch self {
        case .messageTooLarge(let limit):
            ["parameter": .string("message"), "reason": .string("message exceeds the limit of \(limit) bytes")]
        case .invalidMessage(let reason): ["parameter": .string("message"), "reason": .string(reason)]
        case .methodNotFound(let method): ["method": .string(method)]
        case .interfaceNotFound(let interface): ["interface": .string(interface)]
        case .invalidParameter(let parameter, let reason): ["parameter": .string(parameter), "reason": .string(reason)]
        case .contextOverflow(let prompt, let maxTokens, let context):
            ["prompt_tokens": .int(Int64(prompt)), "max_tokens": .int(Int64(maxTokens)), "context_length": .int(Int64(context))]
        case .busy(let queued, let limit): ["queued": .int(Int64(queued)), "limit": .int(Int64(limit))]
        case .permissionDenied(let uid, let gid): ["uid": .int(Int64(uid)), "gid": .int(Int64(gid))]
        case .shuttingDown: [:]
        case .timeout(let seconds, let reason): ["seconds": .double(seconds), "reason": .string(reason)]
        }
    }

    public var description: String { "\(name) \(parameters)" }
}
