/// Why the daemon could not start or keep serving: a coded error with a message that says what to do.
public struct DaemonError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public var code: Code
    /// What went wrong, with the values involved.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// The kinds of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String {
            case configuration, socket, model, permission
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A configuration value (file, flag or environment) is missing or invalid.
        public static var configuration: Self { .init(.configuration) }
        /// The socket could not be bound, taken over or served.
        public static var socket: Self { .init(.socket) }
        /// The model could not be loaded.
        public static var model: Self { .init(.model) }
        /// A user or group name in the configuration does not exist.
        public static var permission: Self { .init(.permission) }

        public var description: String { base.rawValue }
    }
}
