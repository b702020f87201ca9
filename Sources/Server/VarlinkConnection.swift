import Engine
import Foundation
import Logging
import NIOCore
import WireProtocol

/// One client connection: reads NUL-framed calls, answers them in order, and closes the connection
/// when the client breaks a bound (message size, pending calls, idle time) or the daemon stops.
struct VarlinkConnection: Sendable {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    let peer: PeerCredentials?

    /// The most calls a client may send ahead of the answers (Varlink allows pipelining).
    static let maximumPendingCalls = 32

    private enum Incoming: Sendable {
        case message([UInt8])
        case fatal(WireError)
    }

    /// When the connection last finished something, and whether a call is running.
    private final class Activity: Sendable {
        private struct State {
            var last = ContinuousClock.now
            var busy = false
            var pending = 0
        }

        private let state = Locked(State())

        func received() -> Int { state.withLock { $0.pending += 1; return $0.pending } }
        func start() { state.withLock { $0.busy = true } }
        func finish() {
            state.withLock {
                $0.busy = false
                $0.pending -= 1
                $0.last = .now
            }
        }

        func idle(for limit: Duration) -> Bool {
            state.withLock { !$0.busy && $0.last.duration(to: .now) > limit }
        }

        var isBusy: Bool { state.withLock { $0.busy } }
    }

    /// Serves the connection until the client hangs up or a bound closes it.
    func serve(
        service: InferenceService, policy: AccessPolicy, configuration: DaemonConfiguration, state: DaemonState, logger: Logger
    ) async {
        let channel = self.channel
        let peer = self.peer
        do {
            try await channel.executeThenClose { inbound, outbound in
                let send: InferenceService.Send = { bytes in
                    do {
                        try await outbound.write(ByteBuffer(bytes: bytes))
                        return true
                    } catch {
                        return false
                    }
                }
                guard let peer, policy.allows(peer) else {
                    try await refuse(inbound: inbound, send: send, configuration: configuration, logger: logger)
                    return
                }
                try await serveCalls(
                    inbound: inbound, send: send, service: service, configuration: configuration, state: state, logger: logger)
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)", "uid": "\(peer?.uid ?? 0)"])
        }
    }

    /// A peer that may not call gets `PermissionDenied` for its first call and nothing else.
    private func refuse(
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>, send: @escaping InferenceService.Send, configuration: DaemonConfiguration,
        logger: Logger
    ) async throws {
        let uid = Int(peer?.uid ?? UInt32.max)
        let gid = Int(peer?.gid ?? UInt32.max)
        logger.notice("refused a peer that is not allowed", metadata: ["uid": "\(uid)", "gid": "\(gid)", "pid": "\(peer?.pid ?? 0)"])
        let channel = self.channel.channel
        // Wait for the first complete message (bounded by the idle timeout), so the client reads the
        // error as the answer to its call, then close.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var framer = VarlinkFramer(maximumMessageBytes: configuration.maxMessageBytes)
                for try await buffer in inbound {
                    if let messages = try? framer.append(buffer.readableBytesView), messages.isEmpty { continue }
                    break
                }
                _ = await send(VarlinkReply.encode(error: .permissionDenied(uid: uid, gid: gid)))
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64(configuration.idleTimeoutSeconds * 1000)))
                channel.close(promise: nil)
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func serveCalls(
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>, send: @escaping InferenceService.Send, service: InferenceService,
        configuration: DaemonConfiguration, state: DaemonState, logger: Logger
    ) async throws {
        let hungUp = Flag()
        let activity = Activity()
        let channel = self.channel.channel
        let idleLimit = Duration.milliseconds(Int64(configuration.idleTimeoutSeconds * 1000))
        let (calls, callsContinuation) = AsyncStream<Incoming>.makeStream()
        // The client is gone once the channel closes (a full close, a reset, or our own close);
        // generations poll this flag between tokens.
        channel.closeFuture.whenComplete { _ in hungUp.set() }
        await withTaskGroup(of: Void.self) { group in
            // Reader: frames messages; a bound broken ends the connection after one clear error. The
            // end of input (the client shut down its sending side, or closed) means no more calls:
            // the pending ones are still answered.
            group.addTask {
                var framer = VarlinkFramer(maximumMessageBytes: configuration.maxMessageBytes)
                do {
                    reading: for try await buffer in inbound {
                        for message in try framer.append(buffer.readableBytesView) {
                            guard activity.received() <= Self.maximumPendingCalls else {
                                callsContinuation.yield(
                                    .fatal(.invalidMessage(reason: "more than \(Self.maximumPendingCalls) calls sent ahead of their answers")))
                                break reading
                            }
                            callsContinuation.yield(.message(message))
                        }
                    }
                } catch let error as WireError {
                    callsContinuation.yield(.fatal(error))
                } catch {
                    hungUp.set()  // the connection failed (reset by the peer)
                }
                callsContinuation.finish()
            }
            // Watchdog: closes a connection idle too long, or any idle one once the daemon stops, or
            // every one once the shutdown deadline has passed.
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(200))
                    let stopping = state.phase == .stopping
                    if activity.idle(for: idleLimit) || (stopping && !activity.isBusy) || state.shutdownDeadlinePassed {
                        channel.close(promise: nil)
                        return
                    }
                }
            }
            for await incoming in calls {
                if hungUp.isSet { break }
                switch incoming {
                case .message(let bytes):
                    activity.start()
                    switch Result(catching: { () throws(WireError) in try VarlinkCall(bytes: bytes) }) {
                    case .success(let call): await service.handle(call, hungUp: hungUp, send: send)
                    case .failure(let error): _ = await send(VarlinkReply.encode(error: error))
                    }
                    activity.finish()
                case .fatal(let error):
                    logger.info("closing a connection", metadata: ["reason": "\(error)"])
                    _ = await send(VarlinkReply.encode(error: error))
                    channel.close(promise: nil)
                }
            }
            // Input ended and every call is answered: done.
            channel.close(promise: nil)
            group.cancelAll()
        }
    }
}
