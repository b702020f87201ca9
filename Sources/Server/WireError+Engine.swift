import Engine
import WireProtocol

extension WireError {
    /// The engine's error as Varlink's: the one place engine codes become wire errors.
    init(_ error: EngineError) {
        switch error.code {
        case .busy:
            self = .busy(queued: error.queued ?? 0, limit: error.queueLimit ?? 0)
        case .queueTimeout, .requestTimeout, .thermalTimeout:
            self = .timeout(seconds: error.seconds ?? 0, reason: error.message)
        case .shuttingDown:
            self = .shuttingDown
        case .invalidRequest:
            self = .invalidParameter(parameter: error.parameter.map { "options.\(VarlinkCall.wireName($0))" } ?? "prompt", reason: error.message)
        case .evaluationFailed:
            self = .invalidParameter(parameter: "request", reason: "the model failed: \(error.message)")
        }
    }
}
