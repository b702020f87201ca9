import Engine
import Foundation

/// What the daemon is doing, shared by the connections, the model thread and the status reporter.
final class DaemonState: Sendable {
    /// The daemon's phase.
    enum Phase: String, Sendable {
        case starting, serving, stopping
    }

    private struct State {
        var phase = Phase.starting
        var connections = 0
        var shutdownDeadline: ContinuousClock.Instant?
        var requestsServed = 0
    }

    private let state = Locked(State())

    var phase: Phase { state.withLock { $0.phase } }
    var connections: Int { state.withLock { $0.connections } }
    var requestsServed: Int { state.withLock { $0.requestsServed } }

    /// When in-flight work must end (set by `beginShutdown`).
    var shutdownDeadline: ContinuousClock.Instant? { state.withLock { $0.shutdownDeadline } }

    /// Whether the shutdown deadline has passed.
    var shutdownDeadlinePassed: Bool {
        state.withLock { s in s.shutdownDeadline.map { ContinuousClock.now >= $0 } ?? false }
    }

    func markServing() { state.withLock { $0.phase = .serving } }

    /// Enters the stopping phase; in-flight work may run until `deadline`.
    func beginShutdown(deadline: ContinuousClock.Instant) {
        state.withLock {
            $0.phase = .stopping
            $0.shutdownDeadline = deadline
        }
    }

    /// Counts a new connection unless `limit` are open.
    ///
    /// - Returns: Whether it may be served.
    func openConnection(limit: Int) -> Bool {
        state.withLock { s in
            guard s.connections < limit else { return false }
            s.connections += 1
            return true
        }
    }

    func closeConnection() { state.withLock { $0.connections -= 1 } }

    func recordFinished() { state.withLock { $0.requestsServed += 1 } }
}
