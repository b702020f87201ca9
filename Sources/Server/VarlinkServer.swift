import CSystemd
import Engine
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import WireProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The socket server: listens on the socket systemd passed or one it binds, checks each peer,
/// serves connections concurrently, and on graceful shutdown stops accepting, lets in-flight
/// requests finish until the shutdown deadline, and removes a socket file it created.
final class VarlinkServer: Service, Sendable {
    /// Where to listen.
    enum Listener: Sendable, Equatable {
        /// Bind this path (mode and group from the configuration).
        case path(String)
        /// A listening socket systemd passed.
        case descriptor(Int32)

        /// The listening channel: the socket systemd passed, or a Unix socket bound at the path —
        /// without permissions for others until `socket_mode` and `socket_group` are set, so nobody
        /// connects between bind and chmod.
        ///
        /// - Parameter setting: The setting that named the path, for the error.
        /// - Throws: `DaemonError` `.socket` when the path cannot be bound.
        func bind(_ bootstrap: ServerBootstrap, configuration: DaemonConfiguration, setting: String) async throws -> any Channel {
            switch self {
            case .path(let path):
                try SocketFile.prepare(path)
                let previous = umask(0o177)
                let channel: any Channel
                do {
                    channel = try await bootstrap.bind(unixDomainSocketPath: path).get()
                } catch {
                    umask(previous)
                    throw DaemonError(.socket, "cannot listen on \(path) (\(setting)): \(error)")
                }
                umask(previous)
                try SocketFile.setPermissions(path, mode: configuration.socketMode, group: configuration.socketGroup)
                return channel
            case .descriptor(let fd):
                return try await bootstrap.withBoundSocket(fd).get()
            }
        }
    }

    let listener: Listener
    let service: InferenceService
    let policy: AccessPolicy
    let configuration: DaemonConfiguration
    let state: DaemonState
    let engine: InferenceEngine
    let notifier: SystemdNotifier
    let logger: Logger

    init(
        listener: Listener, service: InferenceService, policy: AccessPolicy, configuration: DaemonConfiguration,
        state: DaemonState, engine: InferenceEngine, notifier: SystemdNotifier, logger: Logger
    ) {
        self.listener = listener
        self.service = service
        self.policy = policy
        self.configuration = configuration
        self.state = state
        self.engine = engine
        self.notifier = notifier
        self.logger = logger
    }

    func run() async throws {
        // Accepted connections reach the accept loop through this stream rather than through an async
        // server channel: NIO's async bind drops connections accepted while the server channel closes,
        // and a dropped NIOAsyncChannel traps ("Deinited NIOAsyncWriter without calling finish()",
        // swift-nio #2637: a client connecting at the moment of SIGTERM crashed brised). Here every
        // connection is either delivered to the loop, which drains the stream to its end, or, once the
        // stream has ended, finished and closed on the spot.
        let (connections, continuation) = AsyncStream<VarlinkConnection>.makeStream()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            // A client may shut down its sending side after its last call (socat, nc -N) and still
            // read the answers; a full close (both sides) is seen as the channel closing.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                Self.peerCredentials(of: channel).flatMap { peer in
                    let asyncChannel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
                    do {
                        asyncChannel = try NIOAsyncChannel(wrappingChannelSynchronously: channel)
                    } catch {
                        return channel.eventLoop.makeFailedFuture(error)
                    }
                    guard case .terminated = continuation.yield(VarlinkConnection(channel: asyncChannel, peer: peer)) else {
                        return channel.eventLoop.makeSucceededVoidFuture()
                    }
                    // The accept loop has ended: close the connection as NIO requires (the
                    // initializer's future waits for it).
                    return channel.eventLoop.makeFutureWithTask { try? await asyncChannel.executeThenClose { _, _ in } }
                }
            }
        let serverChannel: any Channel
        do {
            serverChannel = try await listener.bind(bootstrap, configuration: configuration, setting: "socket")
        } catch {
            continuation.finish()
            throw error
        }
        // Once the listening socket is closed no connection can arrive: the stream ends after the
        // ones already accepted.
        serverChannel.closeFuture.whenComplete { _ in continuation.finish() }
        state.markServing()
        let where_ = if case .path(let path) = listener { path } else { "the socket systemd passed" }
        logger.info("listening", metadata: ["socket": "\(where_)"])
        notifier.ready(status: service.statusLine)

        let shutdownSeconds = configuration.shutdownTimeoutSeconds
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                // Every connection the stream delivers is served (after shutdown began, with a
                // ShuttingDown reply), so none is dropped unfinished.
                for await connection in connections {
                    group.addTask { await self.serve(connection) }
                }
            }
        } onGracefulShutdown: {
            let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(shutdownSeconds * 1000)))
            self.state.beginShutdown(deadline: deadline)
            // Waiting requests get ShuttingDown; running ones finish until the deadline.
            self.engine.shutdown(deadline: deadline)
            self.notifier.stopping(status: "stopping: finishing in-flight requests (at most \(shutdownSeconds) s)")
            self.logger.info("stopping", metadata: ["drain_seconds": "\(shutdownSeconds)"])
            serverChannel.close(promise: nil)
        }
        if case .path(let path) = listener {
            unlink(path)
        }
        logger.info("stopped", metadata: ["requests_served": "\(state.requestsServed)"])
    }

    private func serve(_ connection: VarlinkConnection) async {
        guard state.phase != .stopping else {
            await Self.refuse(connection, with: .shuttingDown)
            return
        }
        guard state.openConnection(limit: configuration.maxConnections) else {
            logger.warning("too many connections; closing a new one", metadata: ["limit": "\(configuration.maxConnections)"])
            await Self.refuse(connection, with: .busy(queued: configuration.maxConnections, limit: configuration.maxConnections))
            return
        }
        defer { state.closeConnection() }
        await connection.serve(service: service, policy: policy, configuration: configuration, state: state, logger: logger)
    }

    /// Answers a connection that will not be served with `error`, then reads (and drops) what the
    /// client sends until it closes, for at most 250 ms (a local client's call is there long before; a
    /// flood of refused connections holds each descriptor that long at most): closing a Unix socket
    /// over an unread call resets the connection, and the client would lose the error (seen with 200
    /// clients at once: a third got ECONNRESET instead of Busy).
    static func refuse(_ connection: VarlinkConnection, with error: WireError) async {
        try? await connection.channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: VarlinkReply.encode(error: error)))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { for try await _ in inbound {} }
                group.addTask { try await Task.sleep(for: .milliseconds(250)) }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// The peer's credentials (`SO_PEERCRED`), read when the connection is accepted.
    static func peerCredentials(of channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        // struct ucred (pid, uid, gid), which glibc only declares under _GNU_SOURCE.
        let future: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future.map { Optional($0) }.recover { _ in nil }
    }
}
