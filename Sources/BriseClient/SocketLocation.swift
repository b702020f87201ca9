/// Where the daemon's socket is.
///
/// The client library grows around this (connect, call, stream) in the client issue; for now it
/// resolves the path every client must agree on.
public struct SocketLocation: Sendable, Hashable, CustomStringConvertible {
    /// The socket's path.
    public var path: String

    /// The system daemon's socket path, as `systemd/brised.socket` will create it.
    public static let systemPath = "/run/brise/brised.sock"

    /// Creates a location.
    ///
    /// - Parameter path: The socket's path.
    public init(path: String) {
        self.path = path
    }

    /// The socket named by `BRISE_SOCKET` in `environment`, else the system path.
    ///
    /// - Parameter environment: The process environment (pass it in; nothing here reads globals).
    /// - Returns: The location.
    public static func resolve(environment: [String: String]) -> SocketLocation {
        if let path = environment["BRISE_SOCKET"], !path.isEmpty {
            return SocketLocation(path: path)
        }
        return SocketLocation(path: systemPath)
    }

    public var description: String { path }
}
