/// Why the engine did not run a request, or stopped it: a code to branch on, and a message for
/// people. The daemon maps each code to its protocol's error in one place.
public struct EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// Every slot is taken and the queue is full.
        case busy
        /// The request waited for a slot longer than allowed.
        case queueTimeout
        /// The request ran longer than allowed.
        case requestTimeout
        /// A thermal pause lasted longer than allowed.
        case thermalTimeout
        /// The engine is stopping.
        case shuttingDown
        /// The request cannot run on this model (empty prompt, context overflow, bad id or sampling value).
        case invalidRequest
        /// The model failed while evaluating (the sequence's cache was dropped).
        case evaluationFailed
    }

    public var code: Code
    public var message: String
    /// For `busy`: requests waiting and the most that may.
    public var queued: Int?
    public var queueLimit: Int?
    /// For the timeouts: the limit, in seconds.
    public var seconds: Double?
    /// For `invalidRequest`: the parameter at fault, when one is (its Swift name).
    public var parameter: String?

    public init(
        _ code: Code, _ message: String, queued: Int? = nil, queueLimit: Int? = nil, seconds: Double? = nil, parameter: String? = nil
    ) {
        self.code = code
        self.parameter = parameter
        self.message = message
        self.queued = queued
        self.queueLimit = queueLimit
        self.seconds = seconds
    }

    public var description: String { message }
}
