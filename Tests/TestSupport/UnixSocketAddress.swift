import Foundation

#if canImport(Glibc)
public import Glibc
#endif

/// A `sockaddr_un` for a path, for tests that bind or connect Unix sockets by hand.
public enum UnixSocketAddress {
    /// Calls `body` with the address of `path` (truncated to what `sun_path` holds) and its length.
    public static func with<R>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
