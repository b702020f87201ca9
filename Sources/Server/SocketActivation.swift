import CSystemd
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The listening socket systemd hands over (`LISTEN_FDS`, `LISTEN_PID`, `LISTEN_FDNAMES`), read with
/// libsystemd's `sd_listen_fds`.
public enum SocketActivation {
    /// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
    public static let firstDescriptor: Int32 = 3

    /// The handed-over stream Unix socket, if systemd passed one to this process.
    ///
    /// Unsets the `LISTEN_*` variables so children do not inherit them.
    ///
    /// - Returns: The descriptor, or nil when the daemon was not socket-activated.
    /// - Throws: `DaemonError` `.socket` when descriptors were passed but none is a listening stream
    ///   Unix socket, or more than one was passed.
    public static func takeListeningSocket() throws -> Int32? {
        let count = sd_listen_fds(1)
        guard count != 0 else { return nil }
        guard count > 0 else {
            throw DaemonError(.socket, "sd_listen_fds failed: \(String(cString: strerror(-count)))")
        }
        guard count == 1 else {
            throw DaemonError(.socket, "systemd passed \(count) sockets; brised listens on exactly one (check ListenStream= in brised.socket)")
        }
        let fd = firstDescriptor
        guard sd_is_socket_unix(fd, Int32(SOCK_STREAM.rawValue), 1, nil, 0) > 0 else {
            throw DaemonError(.socket, "the socket systemd passed (fd \(fd)) is not a listening stream Unix socket")
        }
        return fd
    }
}
