import CSystemd
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The socket file brised binds itself: stale files from a crashed daemon are removed, a live
/// daemon's socket or a file that is not a socket is never touched.
enum SocketFile {
    /// Prepares `path` for binding.
    ///
    /// - Throws: `DaemonError` `.socket` when another process listens there, the path is not a socket,
    ///   its directory is missing, or the path is too long for `sockaddr_un`.
    static func prepare(_ path: String) throws(DaemonError) {
        guard path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else {
            throw DaemonError(.socket, "the socket path \(path) is longer than a Unix socket address allows (107 bytes)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !directory.isEmpty, !(FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue) {
            throw DaemonError(.socket, "the socket's directory \(directory) does not exist (RuntimeDirectory=brise creates /run/brise under systemd)")
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }  // nothing there
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw DaemonError(.socket, "\(path) exists and is not a socket; refusing to replace it")
        }
        if isListening(path) {
            throw DaemonError(.socket, "another process is already listening on \(path) (is brised running?)")
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw DaemonError(.socket, "cannot remove the stale socket \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Whether a process accepts connections on `path`.
    static func isListening(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return status == 0
    }

    /// Sets the mode and group of a socket file brised created.
    ///
    /// - Throws: `DaemonError` `.socket` or `.permission`.
    static func setPermissions(_ path: String, mode: UInt32, group: String?) throws(DaemonError) {
        if let group {
            let gid: gid_t
            if let number = UInt32(group) {
                gid = number
            } else if let entry = getgrnam(group) {
                gid = entry.pointee.gr_gid
            } else {
                throw DaemonError(.permission, "socket_group: no group named \"\(group)\"")
            }
            guard chown(path, uid_t.max, gid) == 0 else {
                throw DaemonError(.socket, "cannot give \(path) to group \(group): \(String(cString: strerror(errno)))")
            }
        }
        guard chmod(path, mode_t(mode)) == 0 else {
            throw DaemonError(.socket, "cannot set the mode of \(path): \(String(cString: strerror(errno)))")
        }
    }
}
