import CSystemd
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
    }

    let listener: Listener
    let service: InferenceService
    let policy: AccessPolicy
    let configuration: DaemonConfiguration
    let state: DaemonState
    let queue: RequestQueue
    let notifier: SystemdNotifier
    let logger: Logger

    init(
        listener: Listener, service: InferenceService, policy: AccessPolicy, configuration: DaemonConfiguration,
        state: DaemonState, queue: RequestQueue, notifier: SystemdNotifier, logger: Logger
    ) {
        self.listener = listener
        self.service = service
        self.policy = policy
        self.configuration = configuration
        self.state = state
        self.queue = queue
        self.notifier = notifier
        self.logger = logger
    }

    func run() async throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            // A client may shut down its sending side after its last call (socat, nc -N) and still
            // read the answers; a full close (both sides) is seen as the channel closing.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<VarlinkConnection> = { channel in
            Self.peerCredentials(of: channel).flatMapThrowing { peer in
                VarlinkConnection(
                    channel: try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel), peer: peer)
            }
        }
        let serverChannel: NIOAsyncChannel<VarlinkConnection, Never>
        switch listener {
        case .path(let path):
            try SocketFile.prepare(path)
            // Nobody else may connect between bind and chmod: create the socket file without
            // permissions for others, then set the configured mode.
            let previous = umask(0o177)
            do {
                serverChannel = try await bootstrap.bind(unixDomainSocketPath: path, childChannelInitializer: initializer)
            } catch {
                umask(previous)
                throw DaemonError(.socket, "cannot listen on \(path): \(error)")
            }
            umask(previous)
            try SocketFile.setPermissions(path, mode: configuration.socketMode, group: configuration.socketGroup)
        case .descriptor(let fd):
            serverChannel = try await bootstrap.bind(fd, childChannelInitializer: initializer)
        }
        state.markServing()
        let where_ = if case .path(let path) = listener { path } else { "the socket systemd passed" }
        logger.info("listening", metadata: ["socket": "\(where_)"])
        notifier.ready(status: service.statusLine)

        let shutdownSeconds = configuration.shutdownTimeoutSeconds
        do {
            try await withGracefulShutdownHandler {
                try await withThrowingDiscardingTaskGroup { group in
                    try await serverChannel.executeThenClose { inbound in
                        for try await connection in inbound {
                            group.addTask { await self.serve(connection) }
                        }
                    }
                }
            } onGracefulShutdown: {
                self.state.beginShutdown(deadline: .now.advanced(by: .milliseconds(Int64(shutdownSeconds * 1000))))
                self.queue.close()
                self.notifier.stopping(status: "stopping: finishing in-flight requests (at most \(shutdownSeconds) s)")
                self.logger.info("stopping", metadata: ["drain_seconds": "\(shutdownSeconds)"])
                serverChannel.channel.close(promise: nil)
            }
        } catch where state.phase == .stopping {
            // Closing the listening channel ends the accept loop with an error; that is the plan.
        }
        if case .path(let path) = listener {
            unlink(path)
        }
        logger.info("stopped", metadata: ["requests_served": "\(state.requestsServed)"])
    }

    private func serve(_ connection: VarlinkConnection) async {
        guard state.phase != .stopping else {
            try? await connection.channel.executeThenClose { _, outbound in
                try await outbound.write(ByteBuffer(bytes: VarlinkReply.encode(error: .shuttingDown)))
            }
            return
        }
        guard state.openConnection(limit: configuration.maxConnections) else {
            logger.warning("too many connections; closing a new one", metadata: ["limit": "\(configuration.maxConnections)"])
            try? await connection.channel.executeThenClose { _, outbound in
                let error = WireError.busy(queued: configuration.maxConnections, limit: configuration.maxConnections)
                try await outbound.write(ByteBuffer(bytes: VarlinkReply.encode(error: error)))
            }
            return
        }
        defer { state.closeConnection() }
        await connection.serve(service: service, policy: policy, configuration: configuration, state: state, logger: logger)
    }

    /// The peer's credentials (`SO_PEERCRED`), read when the connection is accepted.
    private static func peerCredentials(of channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        // struct ucred (pid, uid, gid), which glibc only declares under _GNU_SOURCE.
        let future: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future.map { Optional($0) }.recover { _ in nil }
    }
}
