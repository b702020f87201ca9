import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A `NOTIFY_SOCKET` of the test's own: a datagram Unix socket that collects what the daemon sends
/// to "systemd" (`READY=1`, `STATUS=…`, `WATCHDOG=1`, `STOPPING=1`, …).
final class NotifyListener {
    let path: String
    private let fd: Int32
    private(set) var messages: [String] = []

    init(path: String) throws {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DaemonTestError("socket: \(String(cString: strerror(errno)))") }
        let status = UnixSocketAddress.with(path) { bind(fd, $0, $1) }
        guard status == 0 else { throw DaemonTestError("bind \(path): \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Reads datagrams until one contains `assignment` (e.g. `READY=1`) or `timeout` passes.
    ///
    /// - Returns: Whether it arrived.
    @discardableResult
    func wait(for assignment: String, timeout: Double) -> Bool {
        if messages.contains(where: { Self.assignments($0).contains(assignment) }) { return true }
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pollFD, 1, Int32(min(deadline.timeIntervalSinceNow, 0.5) * 1000)) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { continue }
            let message = String(decoding: buffer[..<n], as: UTF8.self)
            messages.append(message)
            if Self.assignments(message).contains(assignment) { return true }
        }
        return false
    }

    /// Every assignment received so far whose key is `key` (`STATUS`), values only.
    func values(of key: String) -> [String] {
        messages.flatMap(Self.assignments).compactMap { $0.hasPrefix(key + "=") ? String($0.dropFirst(key.count + 1)) : nil }
    }

    static func assignments(_ message: String) -> [String] {
        message.split(separator: "\n").map(String.init)
    }
}
