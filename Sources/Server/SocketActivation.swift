import CSystemd
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The listening sockets systemd hands over (`LISTEN_FDS`, `LISTEN_PID`, `LISTEN_FDNAMES`), read with
/// libsystemd's `sd_listen_fds_with_names`: the Varlink socket, and optionally the HTTP one, told
/// apart by `FileDescriptorName=` (`http` for the HTTP socket; any other name, or none, is Varlink).
public enum SocketActivation {
    /// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
    public static let firstDescriptor: Int32 = 3

    /// The `FileDescriptorName=` of the HTTP socket unit (brised-http.socket).
    public static let httpName = "http"

    /// What systemd passed.
    public struct Sockets: Sendable, Equatable {
        public var varlink: Int32?
        public var http: Int32?
    }

    /// The handed-over stream Unix sockets, if systemd passed any to this process.
    ///
    /// Unsets the `LISTEN_*` variables so children do not inherit them.
    ///
    /// - Returns: The descriptors (both nil when the daemon was not socket-activated).
    /// - Throws: `DaemonError` `.socket` when a passed descriptor is not a listening stream Unix socket,
    ///   or more than one Varlink or HTTP socket was passed.
    public static func takeListeningSockets() throws -> Sockets {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        defer {
            if let names {
                var index = 0
                while let name = names[index] {
                    free(name)
                    index += 1
                }
                free(names)
            }
        }
        guard count != 0 else { return Sockets() }
        guard count > 0 else {
            throw DaemonError(.socket, "sd_listen_fds failed: \(String(cString: strerror(-count)))")
        }
        guard count <= 2 else {
            throw DaemonError(.socket, "systemd passed \(count) sockets; brised takes one for Varlink and at most one for HTTP (FileDescriptorName=http)")
        }
        var sockets = Sockets()
        for index in 0..<Int(count) {
            let fd = firstDescriptor + Int32(index)
            let name = names.flatMap { $0[index] }.map { String(cString: $0) } ?? ""
            guard sd_is_socket_unix(fd, Int32(SOCK_STREAM.rawValue), 1, nil, 0) > 0 else {
                throw DaemonError(.socket, "the socket systemd passed (fd \(fd), \(name.isEmpty ? "unnamed" : name)) is not a listening stream Unix socket")
            }
            if name == httpName {
                guard sockets.http == nil else { throw DaemonError(.socket, "systemd passed two sockets named \(httpName)") }
                sockets.http = fd
            } else {
                guard sockets.varlink == nil else {
                    throw DaemonError(.socket, "systemd passed two Varlink sockets (name the HTTP one FileDescriptorName=\(httpName))")
                }
                sockets.varlink = fd
            }
        }
        guard sockets.varlink != nil else {
            throw DaemonError(.socket, "systemd passed only the HTTP socket; brised.socket (Varlink) must be passed too")
        }
        return sockets
    }
}
