import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A deliberately low-level Varlink client for tests: raw bytes in and out over a blocking Unix
/// socket, so tests can also send what no well-behaved client would.
final class VarlinkTestClient {
    private(set) var fd: Int32
    private var buffer: [UInt8] = []

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DaemonTestError("socket: \(String(cString: strerror(errno)))") }
        let status = UnixSocketAddress.with(path) { connect(fd, $0, $1) }
        guard status == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw DaemonTestError("connect \(path): \(message)")
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    /// Sends raw bytes; false when the daemon closed the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// Sends a call.
    @discardableResult
    func call(_ method: String, _ parameters: [String: Any] = [:], more: Bool = false, oneway: Bool = false) -> Bool {
        var message: [String: Any] = ["method": method, "parameters": parameters]
        if more { message["more"] = true }
        if oneway { message["oneway"] = true }
        let data = try! JSONSerialization.data(withJSONObject: message)
        return send(Array(data) + [0])
    }

    /// The next message as a JSON object; nil when the daemon closed the connection.
    ///
    /// - Throws: `DaemonTestError` after `timeout` seconds without a whole message.
    func receive(timeout: Double = 30) throws -> [String: Any]? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let message = Array(buffer[..<end])
                buffer.removeFirst(end + 1)
                guard let object = try JSONSerialization.jsonObject(with: Data(message)) as? [String: Any] else {
                    throw DaemonTestError("not a JSON object: \(String(decoding: message, as: UTF8.self))")
                }
                return object
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw DaemonTestError("no reply within \(timeout) s") }
            var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pollFD, 1, Int32(min(remaining, 1) * 1000))
            if ready < 0, errno != EINTR { throw DaemonTestError("poll: \(String(cString: strerror(errno)))") }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return nil }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == ECONNRESET { return nil }
                throw DaemonTestError("recv: \(String(cString: strerror(errno)))")
            }
            buffer += chunk[..<n]
        }
    }

    /// Calls and collects every reply up to the last one (no `continues`), or the error.
    func collect(_ method: String, _ parameters: [String: Any] = [:], more: Bool = false, timeout: Double = 120) throws -> [[String: Any]] {
        guard call(method, parameters, more: more) else { throw DaemonTestError("the daemon closed the connection") }
        var replies: [[String: Any]] = []
        while let reply = try receive(timeout: timeout) {
            replies.append(reply)
            if reply["error"] != nil || (reply["continues"] as? Bool) != true { return replies }
        }
        throw DaemonTestError("the connection closed after \(replies.count) replies")
    }

    /// Whether the daemon has closed the connection (reads and discards what is pending).
    func isClosedByPeer(within timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            do {
                if try receive(timeout: max(0.05, deadline.timeIntervalSinceNow)) == nil { return true }
            } catch {
                return false
            }
        }
        return false
    }
}
