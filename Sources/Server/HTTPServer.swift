import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import WireProtocol

#if canImport(Glibc)
import Glibc
#endif

/// brised's HTTP face (OpenAI / La Plateforme shapes) on a Unix socket (or, with an API key, loopback TCP): SwiftNIO's HTTP/1.1 codec
/// (NIOHTTP1) on the same kind of listener as Varlink, so the peer-credential check is the same code
/// path (`SO_PEERCRED` at accept, `AccessPolicy`) and requests reach the same `InferenceService` and
/// scheduler. One request at a time per connection (keep-alive; pipelined requests wait their turn);
/// bodies over `max_message_bytes` get 413; a connection idle for `idle_timeout_seconds` between
/// requests is closed.
final class HTTPServer: Service, Sendable {
    /// Where to listen: a Unix socket (peers checked by credentials), or TCP (peers checked by key).
    enum Listener: Sendable {
        case unix(VarlinkServer.Listener)
        case tcp(HTTPAddress, apiKey: [UInt8])
    }

    let listener: Listener
    let api: HTTPAPI
    let policy: AccessPolicy
    let configuration: DaemonConfiguration
    let state: DaemonState
    let logger: Logger

    init(listener: Listener, api: HTTPAPI, policy: AccessPolicy, configuration: DaemonConfiguration, state: DaemonState, logger: Logger) {
        self.listener = listener
        self.api = api
        self.policy = policy
        self.configuration = configuration
        self.state = state
        self.logger = logger
    }

    /// One accepted connection: its channel, the raw channel (to see it close), and its peer.
    struct Connection: Sendable {
        let channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
        let closed: EventLoopFuture<Void>
        let peer: PeerCredentials?
    }

    func run() async throws {
        let (connections, continuation) = AsyncStream<Connection>.makeStream()
        let idle = TimeAmount.milliseconds(Int64(configuration.idleTimeoutSeconds * 1000))
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .childChannelInitializer { [listener] channel in
                let credentials: EventLoopFuture<PeerCredentials?> =
                    if case .tcp = listener { channel.eventLoop.makeSucceededFuture(nil) } else { VarlinkServer.peerCredentials(of: channel) }
                return credentials.flatMap { peer in
                    do {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandlers(IdleStateHandler(readTimeout: idle), HTTPIdleCloser())
                        let asyncChannel = try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                        guard case .terminated = continuation.yield(Connection(channel: asyncChannel, closed: channel.closeFuture, peer: peer)) else {
                            return channel.eventLoop.makeSucceededVoidFuture()
                        }
                        return channel.eventLoop.makeFutureWithTask { try? await asyncChannel.executeThenClose { _, _ in } }
                    } catch {
                        return channel.eventLoop.makeFailedFuture(error)
                    }
                }
            }
        let serverChannel: any Channel
        do {
            switch listener {
            case .tcp(let address, _):
                do {
                    serverChannel = try await bootstrap.bind(host: address.host, port: address.port).get()
                } catch {
                    throw DaemonError(.socket, "cannot listen on \(address) (http_listen): \(error)")
                }
            case .unix(let unix):
                serverChannel = try await unix.bind(bootstrap, configuration: configuration, setting: "http_socket")
            }
        } catch {
            continuation.finish()
            throw error
        }
        serverChannel.closeFuture.whenComplete { _ in continuation.finish() }
        let where_ =
            switch listener {
            case .unix(.path(let path)): path
            case .unix(.descriptor): "the HTTP socket systemd passed"
            case .tcp(let address, _): "tcp \(address)"
            }
        logger.info("HTTP listening", metadata: ["socket": "\(where_)"])
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await connection in connections {
                    group.addTask { await self.serve(connection) }
                }
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
        if case .unix(.path(let path)) = listener { unlink(path) }
    }

    private func serve(_ connection: Connection) async {
        guard state.openConnection(limit: configuration.maxConnections) else {
            try? await connection.channel.executeThenClose { inbound, outbound in
                let error = HTTPError(status: 503, type: "server_error", message: "too many connections", code: "busy")
                try await Self.refuse(inbound, outbound, error)
            }
            return
        }
        defer { state.closeConnection() }
        let hungUp = Flag()
        connection.closed.whenComplete { _ in hungUp.set() }
        let limit = configuration.maxMessageBytes
        do {
            try await connection.channel.executeThenClose { inbound, outbound in
                var apiKey: [UInt8]?
                if case .tcp(_, let key) = listener { apiKey = key }
                guard apiKey != nil || connection.peer.map(policy.allows) == true else {
                    let error = HTTPError(
                        WireError.permissionDenied(uid: Int(connection.peer?.uid ?? 0), gid: Int(connection.peer?.gid ?? 0)))
                    try await Self.refuse(inbound, outbound, error)
                    return
                }
                var gatherer = HTTPRequestGatherer(limit: limit)
                for try await part in inbound {
                    guard let request = gatherer.read(part) else { continue }
                    let head = request.head
                    let body = request.body
                    if request.tooLarge {
                        let error = HTTPError(status: 413, type: "invalid_request_error", message: "the body is larger than \(limit) bytes (max_message_bytes)", code: "too_large")
                        try await Self.respond(outbound, status: 413, body: HTTPAPI.encode(error.body), keepAlive: false)
                        return
                    }
                    let keepAlive = head.isKeepAlive
                    if let apiKey, !BearerAuthorization.allows(head.headers, key: apiKey) {
                        let error = HTTPError(status: 401, type: "authentication_error", message: "send the API key as Authorization: Bearer KEY", code: "invalid_api_key")
                        try await Self.respond(outbound, status: 401, body: HTTPAPI.encode(error.body), keepAlive: keepAlive, extra: [("www-authenticate", "Bearer")])
                        if !keepAlive { return }
                        continue
                    }
                    let writer = HTTPAPI.Writer(
                        head: { status, type in
                            var headers = HTTPHeaders([("content-type", type), ("server", "brised")])
                            if type == "text/event-stream" {
                                headers.add(name: "cache-control", value: "no-cache")
                            }
                            if !keepAlive { headers.add(name: "connection", value: "close") }
                            let response = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers)
                            do {
                                try await outbound.write(.head(response))
                                return true
                            } catch {
                                return false
                            }
                        },
                        body: { bytes in
                            do {
                                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
                                return true
                            } catch {
                                return false
                            }
                        },
                        end: { try? await outbound.write(.end(nil)) })
                    await api.handle(method: head.method.rawValue, path: head.uri, body: body, hungUp: hungUp, writer: writer)
                    if !keepAlive || hungUp.isSet || state.phase == .stopping { return }
                }
            }
        } catch {
            logger.debug("HTTP connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// Answers the connection's first request with `error` and ends it. The request is read first: a
    /// response before a request is a protocol error (NIO's pipeline handler traps on it).
    private static func refuse(
        _ inbound: NIOAsyncChannelInboundStream<HTTPServerRequestPart>, _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
        _ error: HTTPError
    ) async throws {
        for try await part in inbound {
            if case .end = part { break }
        }
        try await respond(outbound, status: error.status, body: HTTPAPI.encode(error.body), keepAlive: false)
    }

    /// A whole response with a JSON body.
    private static func respond(
        _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, status: Int, body: [UInt8], keepAlive: Bool,
        extra: [(String, String)] = []
    ) async throws {
        var headers = HTTPHeaders([("content-type", "application/json"), ("server", "brised")] + extra)
        if !keepAlive { headers.add(name: "connection", value: "close") }
        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
        try await outbound.write(.end(nil))
    }
}

/// Closes a connection that has been idle (no read for the idle time) while no request is being
/// answered: a slow or silent client cannot hold a connection, but a long answer is never cut.
final class HTTPIdleCloser: ChannelDuplexHandler, @unchecked Sendable {
    // @unchecked Sendable: used only on its channel's event loop.
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var answering = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) { answering = true }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { answering = false }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            if !answering { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
