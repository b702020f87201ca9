import Synchronization
import WireProtocol

/// Whose turn it is on the model: one request at a time, the others waiting first come, first served,
/// with a bound on how many wait and how long. A waiter whose task is cancelled (its client hung up)
/// leaves the line at once. On shutdown the line is closed: waiters and newcomers get `ShuttingDown`.
final class RequestQueue: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var holder: UInt64?
        var waiters: [Waiter] = []
        var cancelledEarly: Set<UInt64> = []
        var closed = false
        var nextID: UInt64 = 1
    }

    /// The most requests that may wait.
    let limit: Int
    private let state = Mutex(State())

    /// Creates a queue.
    ///
    /// - Parameter limit: The most waiting requests; one more gets `Busy`.
    init(limit: Int) {
        self.limit = limit
    }

    /// Requests running (0 or 1) and waiting.
    var counts: (active: Int, queued: Int) {
        state.withLock { ($0.holder == nil ? 0 : 1, $0.waiters.count) }
    }

    /// Runs `body` when it is this request's turn.
    ///
    /// - Parameters:
    ///   - timeout: The longest to wait for the turn.
    ///   - body: The work.
    /// - Throws: `WireError.busy` when the line is full, `.timeout` after waiting `timeout`,
    ///   `.shuttingDown` when the daemon stops, `CancellationError` when the task is cancelled while
    ///   waiting; or what `body` throws.
    func withTurn<T: Sendable>(timeout: Duration, _ body: () async throws -> T) async throws -> T {
        let id: UInt64
        switch try enter() {
        case .granted(let granted):
            id = granted
        case .queued(let waiterID):
            id = waiterID
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await self.wait(waiterID) }
                    group.addTask {
                        try await Task.sleep(for: timeout)
                        throw WireError.timeout(seconds: Self.seconds(timeout), reason: "waited for the model longer than allowed")
                    }
                    defer { group.cancelAll() }
                    try await group.next()
                }
            } catch {
                abandon(waiterID)
                throw error
            }
        }
        defer { leave(id) }
        return try await body()
    }

    /// Closes the line: every waiter and every later request gets `ShuttingDown`.
    func close() {
        let waiters = state.withLock { s -> [Waiter] in
            s.closed = true
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for waiter in waiters { waiter.continuation.resume(throwing: WireError.shuttingDown) }
    }

    // MARK: - Internals

    private enum Entry {
        case granted(UInt64)
        case queued(UInt64)
    }

    /// Takes the turn at once when nobody holds it and nobody waits, or a place in line.
    private func enter() throws(WireError) -> Entry {
        try state.withLock { s throws(WireError) -> Entry in
            guard !s.closed else { throw .shuttingDown }
            let id = s.nextID
            s.nextID += 1
            if s.holder == nil, s.waiters.isEmpty {
                s.holder = id
                return .granted(id)
            }
            guard s.waiters.count < limit else { throw .busy(queued: s.waiters.count, limit: limit) }
            return .queued(id)
        }
    }

    private enum WaitOutcome {
        case granted, queued
        case failed(any Error)
    }

    private func wait(_ id: UInt64) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { s -> WaitOutcome in
                    if s.cancelledEarly.remove(id) != nil { return .failed(CancellationError()) }
                    if s.closed { return .failed(WireError.shuttingDown) }
                    if s.holder == nil, s.waiters.isEmpty {
                        s.holder = id
                        return .granted
                    }
                    s.waiters.append(Waiter(id: id, continuation: continuation))
                    return .queued
                }
                switch outcome {
                case .granted: continuation.resume()
                case .queued: break
                case .failed(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            let waiter = state.withLock { s -> Waiter? in
                if let index = s.waiters.firstIndex(where: { $0.id == id }) { return s.waiters.remove(at: index) }
                if s.holder != id { s.cancelledEarly.insert(id) }
                return nil
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Gives up a place in line, or the turn if it was granted meanwhile.
    private func abandon(_ id: UInt64) {
        let holds = state.withLock { s -> Bool in
            s.cancelledEarly.remove(id)
            if let index = s.waiters.firstIndex(where: { $0.id == id }) { s.waiters.remove(at: index) }
            return s.holder == id
        }
        if holds { leave(id) }
    }

    private func leave(_ id: UInt64) {
        let next = state.withLock { s -> Waiter? in
            guard s.holder == id else { return nil }
            guard !s.waiters.isEmpty else {
                s.holder = nil
                return nil
            }
            let next = s.waiters.removeFirst()
            s.holder = next.id
            return next
        }
        next?.continuation.resume()
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
