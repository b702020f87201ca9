import NIOCore
import NIOEmbedded
import NIOHTTP1
import Server
import WireProtocol

/// Fuzz target 7: bytes as an HTTP client sends them, through what brised's HTTP face runs before an
/// answer — NIO's HTTP/1.1 parser and server pipeline exactly as `HTTPServer` configures it
/// (pipelining assistance, the protocol-error handler that answers 400 and closes), its request
/// gathering with the body bound (`HTTPRequestGatherer`),
/// the API-key check, then routing and body decoding into the request builder (`OpenAIRequest`, as
/// the request target) — with a response written back through the pipeline for every request, so
/// pipelined requests are released one by one as on a real connection. The bytes arrive in chunks
/// whose size the first byte picks (a request split anywhere). A trap is a finding.
public final class HTTPFuzzer: Sendable {
    let requests: RequestFuzzer
    /// The body bound (brised's `max_message_bytes` is larger; a small one keeps inputs fast).
    static let bodyLimit = 1 << 16

    public init(vocabularies: FuzzVocabularies = FuzzVocabularies()) {
        requests = RequestFuzzer(vocabularies: vocabularies)
    }

    /// Runs one input.
    ///
    /// - Returns: How many requests were read whole (and answered).
    @discardableResult
    public func run(_ data: [UInt8]) -> Int {
        guard let first = data.first else { return 0 }
        let chunk = first == 0 ? max(data.count, 1) : Int(first % 64) + 1
        let channel = EmbeddedChannel()
        do {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
        } catch {
            return 0
        }
        var gatherer = HTTPRequestGatherer(limit: Self.bodyLimit)
        var answered = 0
        var rest = data.dropFirst()[...]
        feeding: while !rest.isEmpty {
            let piece = rest.prefix(chunk)
            rest = rest.dropFirst(piece.count)
            do {
                try channel.writeInbound(channel.allocator.buffer(bytes: piece))
            } catch {
                break feeding  // a protocol error: NIO answered 400 and closed
            }
            while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
                guard let request = gatherer.read(part) else { continue }
                answered += 1
                guard respond(to: request, on: channel) else { break feeding }
            }
            while (try? channel.readOutbound(as: ByteBuffer.self)) != nil {}
        }
        _ = try? channel.finish(acceptAlreadyClosed: true)
        return answered
    }

    /// Decodes the request as the HTTP face does and writes a response; false when the connection
    /// ends (the request asked to close it, or the write failed).
    private func respond(to request: HTTPRequestGatherer.Request, on channel: EmbeddedChannel) -> Bool {
        var status = 200
        if request.tooLarge {
            status = 413
        } else if !BearerAuthorization.allows(request.head.headers, key: Array("fuzz-key".utf8)) && request.head.headers.contains(name: "authorization") {
            status = 401
        } else {
            let route = request.head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.head.uri
            let endpoint: OpenAIRequest.Endpoint? =
                switch (request.head.method, route) {
                case (.POST, "/v1/chat/completions"): .chat
                case (.POST, "/v1/completions"): .completion
                case (.POST, "/v1/fim/completions"): .fim
                default: nil
                }
            if let endpoint {
                do {
                    let decoded = try OpenAIRequest(endpoint, body: request.body)
                    try requests.serveFirstVocabulary(decoded.call)
                } catch let error as HTTPError {
                    status = error.status
                    _ = error.body
                } catch {
                    status = 400
                }
            } else {
                status = 404
            }
        }
        var headers = HTTPHeaders([("content-type", "application/json"), ("content-length", "2")])
        if !request.head.isKeepAlive { headers.add(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: request.head.version, status: HTTPResponseStatus(statusCode: status), headers: headers)
        do {
            try channel.writeOutbound(HTTPServerResponsePart.head(head))
            try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(string: "{}"))))
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        } catch {
            return false
        }
        return request.head.isKeepAlive
    }
}
