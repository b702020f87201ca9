import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP address for the HTTP API: a literal IPv4 or bracketed IPv6 address (or `localhost`) and a port.
public struct HTTPAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// Parses `HOST:PORT` (`127.0.0.1:8080`, `[::1]:8080`, `localhost:8080`).
    ///
    /// - Throws: `DaemonError` `.configuration` for anything else, or a port outside 1…65535.
    public init(parsing text: String) throws(DaemonError) {
        let expected = "HOST:PORT with a literal address, e.g. 127.0.0.1:8080 or [::1]:8080"
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw DaemonConfiguration.invalid("http_listen", text, expected)
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw DaemonConfiguration.invalid("http_listen", text, expected) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = Int(portText), (1...65535).contains(port), !host.isEmpty else {
            throw DaemonConfiguration.invalid("http_listen", text, expected)
        }
        if host == "localhost" { host = "127.0.0.1" }
        var v4 = in_addr()
        var v6 = in6_addr()
        let isAddress = String(host).withCString { inet_pton(AF_INET, $0, &v4) == 1 || inet_pton(AF_INET6, $0, &v6) == 1 }
        guard isAddress else { throw DaemonConfiguration.invalid("http_listen", text, expected) }
        self.host = String(host)
        self.port = port
    }

    /// Whether the address is loopback (127.0.0.0/8 or ::1).
    public var isLoopback: Bool { host.hasPrefix("127.") || host == "::1" }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
