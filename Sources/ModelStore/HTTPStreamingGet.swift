import CCurl
import Foundation

/// One HTTP GET whose answer is handed to callbacks as it arrives, blocking the caller until it ends.
///
/// Built on libcurl's easy interface (http and https; redirects followed with the request's headers
/// kept, so a `Range` survives Hugging Face's redirect to its CDN). Each piece of the body is handed
/// to `onBody` on the calling thread before libcurl reads more from the socket, so a disk slower than
/// the network slows the download (TCP flow control) instead of piling it up in memory: memory stays
/// at libcurl's receive buffer whatever the file's size. Either callback stops the transfer by
/// returning `false`.
struct HTTPStreamingGet {
    /// The status line and headers of an answer (header names lowercased).
    struct Head: Sendable {
        var status: Int
        var headers: [String: String]
    }

    /// How a transfer ended.
    enum Outcome: Sendable {
        /// The whole body arrived.
        case completed
        /// A callback returned `false`.
        case stopped
        /// The connection failed, timed out or dropped before the body ended.
        case failed(String)
    }

    /// Seconds without any byte before the transfer counts as dropped.
    var idleTimeout: Double

    /// Runs the request.
    ///
    /// - Parameters:
    ///   - url: The URL.
    ///   - headers: Request headers (`Range`, `If-Range`).
    ///   - onHead: Called once with the final answer's head (after redirects).
    ///   - onBody: Called with each piece of the body, in order.
    /// - Returns: How it ended.
    func run(
        url: URL, headers: [String: String], onHead: @escaping @Sendable (Head) -> Bool,
        onBody: @escaping @Sendable (Data) -> Bool
    ) -> Outcome {
        if let failure = ccurl_load() { return .failed(String(cString: failure)) }
        guard let curl = ccurl_easy_init() else { return .failed("libcurl could not start a transfer") }
        defer { ccurl_easy_cleanup(curl) }
        let transfer = Transfer(curl: curl, onHead: onHead, onBody: onBody)
        let context = Unmanaged.passRetained(transfer)
        defer { context.release() }

        var list: UnsafeMutablePointer<curl_slist>?
        // Identity: a compressed body's byte offsets are not the file's, and ranges must be.
        for line in ["Accept-Encoding: identity"] + headers.map({ "\($0.key): \($0.value)" }) {
            list = ccurl_slist_append(list, line)
        }
        defer { ccurl_slist_free_all(list) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errors in
            _ = ccurl_set_string(curl, CURLOPT_URL, url.absoluteString)
            _ = ccurl_set_headers(curl, list)
            _ = ccurl_set_string(curl, CURLOPT_USERAGENT, "brise-model-store")
            _ = ccurl_set_long(curl, CURLOPT_FOLLOWLOCATION, 1)
            _ = ccurl_set_long(curl, CURLOPT_MAXREDIRS, 10)
            _ = ccurl_set_long(curl, CURLOPT_NOSIGNAL, 1)
            _ = ccurl_set_long(curl, CURLOPT_CONNECTTIMEOUT, max(1, Int(idleTimeout)))
            // Dropped: less than 1 byte per second for `idleTimeout` seconds.
            _ = ccurl_set_long(curl, CURLOPT_LOW_SPEED_LIMIT, 1)
            _ = ccurl_set_long(curl, CURLOPT_LOW_SPEED_TIME, max(1, Int(idleTimeout)))
            _ = ccurl_set_pointer(curl, CURLOPT_ERRORBUFFER, errors.baseAddress)
            _ = ccurl_set_pointer(curl, CURLOPT_HEADERDATA, context.toOpaque())
            _ = ccurl_set_pointer(curl, CURLOPT_WRITEDATA, context.toOpaque())
            _ = ccurl_set_callback(curl, CURLOPT_HEADERFUNCTION) { data, size, count, raw in
                let transfer = Unmanaged<Transfer>.fromOpaque(raw!).takeUnretainedValue()
                transfer.header(UnsafeRawBufferPointer(start: data, count: size * count))
                return size * count
            }
            _ = ccurl_set_callback(curl, CURLOPT_WRITEFUNCTION) { data, size, count, raw in
                let transfer = Unmanaged<Transfer>.fromOpaque(raw!).takeUnretainedValue()
                // Anything other than the byte count (here 0) makes libcurl stop with CURLE_WRITE_ERROR.
                return transfer.body(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
            }
            return ccurl_easy_perform(curl)
        }
        if code == CURLE_OK {
            // An answer without a body (a 404 with no text, a 416) still has a head.
            if !transfer.headDelivered, !transfer.deliverHead() { return .stopped }
            return .completed
        }
        if transfer.stopped { return .stopped }
        let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return .failed(detail.isEmpty ? String(cString: ccurl_easy_strerror(code)) : detail)
    }

    /// The state of one transfer, reached from libcurl's callbacks through their context pointer.
    /// Only the thread running `curl_easy_perform` touches it.
    private final class Transfer {
        let curl: UnsafeMutableRawPointer
        let onHead: @Sendable (Head) -> Bool
        let onBody: @Sendable (Data) -> Bool
        private var headers: [String: String] = [:]
        private(set) var headDelivered = false
        private(set) var stopped = false

        init(curl: UnsafeMutableRawPointer, onHead: @escaping @Sendable (Head) -> Bool, onBody: @escaping @Sendable (Data) -> Bool) {
            self.curl = curl
            self.onHead = onHead
            self.onBody = onBody
        }

        /// One header line. A status line starts a new answer (after a redirect, the next hop's).
        func header(_ bytes: UnsafeRawBufferPointer) {
            let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if line.hasPrefix("HTTP/") {
                headers = [:]
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }

        func deliverHead() -> Bool {
            headDelivered = true
            if !onHead(Head(status: ccurl_response_code(curl), headers: headers)) {
                stopped = true
                return false
            }
            return true
        }

        func body(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard !stopped else { return false }
            if !headDelivered, !deliverHead() { return false }
            if !onBody(Data(bytes)) {
                stopped = true
                return false
            }
            return true
        }
    }
}
