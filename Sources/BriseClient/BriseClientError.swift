public import WireProtocol

/// What went wrong talking to brised: the daemon's typed errors (mirroring the interface's errors),
/// or a connection or protocol failure on this side.
public struct BriseClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure.
    public var code: Code
    /// A readable account, with the numbers the daemon sent.
    public var message: String
    /// The Varlink error name, when the daemon replied with an error.
    public var errorName: String?
    /// The error's parameters as the daemon sent them.
    public var parameters: [String: WireJSON]

    /// Creates an error.
    public init(_ code: Code, _ message: String, errorName: String? = nil, parameters: [String: WireJSON] = [:]) {
        self.code = code
        self.message = message
        self.errorName = errorName
        self.parameters = parameters
    }

    public var description: String { message }

    /// The kinds of failure.
    public enum Code: String, Sendable, Equatable {
        /// The socket could not be reached, or the connection broke.
        case connection
        /// The daemon sent something that is not a Varlink reply of the expected shape.
        case protocolError
        /// A parameter was missing, of the wrong type or out of range (`InvalidParameter`).
        case invalidParameter
        /// The prompt and max_tokens do not fit the daemon's context (`ContextOverflow`).
        case contextOverflow
        /// Too many requests are waiting (`Busy`).
        case busy
        /// This user may not use the daemon (`PermissionDenied`).
        case permissionDenied
        /// The daemon is stopping (`ShuttingDown`).
        case shuttingDown
        /// The request waited or ran too long (`Timeout`).
        case timeout
        /// The daemon does not know the method or interface (an older or newer daemon).
        case notFound
        /// Another Varlink error.
        case other
    }

    /// The error for a Varlink error reply.
    static func reply(name: String, parameters: [String: WireJSON]) -> BriseClientError {
        func int(_ key: String) -> String {
            if case .int(let value)? = parameters[key] { return String(value) }
            return "?"
        }
        func string(_ key: String) -> String {
            if case .string(let value)? = parameters[key] { return value }
            return "?"
        }
        let short = String(name.split(separator: ".").last ?? "")
        let (code, message): (Code, String)
        switch short {
        case "InvalidParameter":
            let reason = parameters["reason"] != nil ? ": \(string("reason"))" : ""
            (code, message) = (.invalidParameter, "invalid parameter \(string("parameter"))\(reason)")
        case "ContextOverflow":
            (code, message) = (
                .contextOverflow,
                "the prompt (\(int("prompt_tokens")) tokens) and max_tokens \(int("max_tokens")) exceed the daemon's context of \(int("context_length")) tokens"
            )
        case "Busy": (code, message) = (.busy, "brised is busy: \(int("queued")) requests waiting (limit \(int("limit")))")
        case "PermissionDenied":
            (code, message) = (.permissionDenied, "brised does not allow uid \(int("uid")) / gid \(int("gid")) (see allowed_users, allowed_groups)")
        case "ShuttingDown": (code, message) = (.shuttingDown, "brised is shutting down")
        case "Timeout":
            let seconds: String = if case .double(let value)? = parameters["seconds"] { String(value) } else { int("seconds") }
            (code, message) = (.timeout, "timed out after \(seconds) s: \(string("reason"))")
        case "MethodNotFound", "InterfaceNotFound", "MethodNotImplemented":
            (code, message) = (.notFound, "brised does not know \(string(short == "InterfaceNotFound" ? "interface" : "method"))")
        default: (code, message) = (.other, "\(name) \(parameters)")
        }
        return BriseClientError(code, message, errorName: name, parameters: parameters)
    }
}
