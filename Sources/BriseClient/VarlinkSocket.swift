import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A blocking Unix stream socket carrying NUL-terminated Varlink messages. One caller at a time;
/// `shutdown()` may be called from any thread to wake a blocked `receive()`.
final class VarlinkSocket: @unchecked Sendable {
    // @unchecked Sendable: `buffer` is touched only by the one reading thread; `fd` is closed once,
    // under `closeLock`, and shutdown(2) is thread-safe.
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var closed = false
    private let closeLock = NSLock()
    /// The largest reply accepted.
    static let maximumMessageBytes = 64 << 20

    /// Connects to `path`.
    ///
    /// - Throws: `BriseClientError` `.connection` naming the path and the reason.
    init(path: String) throws(BriseClientError) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BriseClientError(.connection, "cannot create a socket: \(Self.lastError())") }
        var address = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else {
            Glibc.close(fd)
            throw BriseClientError(.connection, "the socket path \(path) is too long")
        }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard status == 0 else {
            let reason = Self.lastError()
            Glibc.close(fd)
            throw BriseClientError(
                .connection,
                "cannot connect to brised at \(path): \(reason) (is brised running? set BRISE_SOCKET to its socket)")
        }
        self.fd = fd
    }

    deinit { close() }

    /// Sends one message (the NUL is added).
    func send(_ message: [UInt8]) throws(BriseClientError) {
        let bytes = message + [0]
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BriseClientError(.connection, "the connection to brised broke: \(Self.lastError())")
            }
            offset += n
        }
    }

    /// The next message (without its NUL), or nil when the daemon closed the connection.
    func receive() throws(BriseClientError) -> [UInt8]? {
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let message = Array(buffer[..<end])
                buffer.removeFirst(end + 1)
                return message
            }
            guard buffer.count <= Self.maximumMessageBytes else {
                throw BriseClientError(.protocolError, "a reply from brised exceeds \(Self.maximumMessageBytes) bytes")
            }
            var chunk = [UInt8](repeating: 0, count: 16384)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return nil }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET || errno == EBADF || errno == ENOTCONN { return nil }
                throw BriseClientError(.connection, "reading from brised failed: \(Self.lastError())")
            }
            buffer += chunk[..<n]
        }
    }

    /// Ends the connection both ways: a blocked `receive()` returns nil, the daemon sees a hang-up.
    func shutdown() {
        closeLock.lock()
        defer { closeLock.unlock() }
        if !closed { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// Closes the descriptor.
    func close() {
        closeLock.lock()
        defer { closeLock.unlock() }
        if !closed {
            closed = true
            _ = Glibc.close(fd)
        }
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
