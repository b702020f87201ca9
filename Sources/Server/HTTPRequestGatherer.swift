import NIOCore
package import NIOHTTP1

/// Gathers a connection's request parts (head, body chunks, end) into whole requests, the body
/// bounded: past `limit` bytes the rest is dropped and the request marked too large. Used by
/// `HTTPServer` for each connection and by the `http` fuzz target.
package struct HTTPRequestGatherer {
    /// A request read whole.
    package struct Request {
        package var head: HTTPRequestHead
        package var body: [UInt8]
        /// The body passed the limit (answer 413).
        package var tooLarge: Bool
    }

    let limit: Int
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    package init(limit: Int) {
        self.limit = limit
    }

    /// Takes one part; the request once its end has come.
    package mutating func read(_ part: HTTPServerRequestPart) -> Request? {
        switch part {
        case .head(let next):
            head = next
            body = []
            tooLarge = false
        case .body(let chunk):
            if body.count + chunk.readableBytes > limit { tooLarge = true } else { body += chunk.readableBytesView }
        case .end:
            guard let head else { return nil }
            self.head = nil
            return Request(head: head, body: body, tooLarge: tooLarge)
        }
        return nil
    }
}
