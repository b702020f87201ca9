import Dispatch
import Foundation
import Synchronization

/// The one thread the model runs on. Generation is seconds of blocking compute (the worker pool's
/// threads do the rows), so it must not run on NIO's event loops or Swift's cooperative pool; async
/// callers hand it closures and await their results. The thread also sends the systemd watchdog
/// ping, so a stuck model thread stops the pings and systemd restarts the daemon.
final class ModelThread: Sendable {
    private struct Job: Sendable {
        let body: @Sendable () -> Void
    }

    private struct State {
        var jobs: [Job] = []
        var stopping = false
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let heartbeat: @Sendable () -> Void
    private let heartbeatInterval: Duration?

    /// Starts the thread.
    ///
    /// - Parameters:
    ///   - heartbeatInterval: How often `heartbeat` runs while idle (nil: never).
    ///   - heartbeat: Called on the model thread while idle, and by jobs between tokens (`beat()`).
    init(heartbeatInterval: Duration?, heartbeat: @escaping @Sendable () -> Void) {
        self.heartbeat = heartbeat
        self.heartbeatInterval = heartbeatInterval
        let thread = Thread { [self] in loop() }
        thread.name = "brise-model"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Runs `body` on the model thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job {
                do {
                    continuation.resume(returning: try body())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            let accepted = state.withLock { s -> Bool in
                guard !s.stopping else { return false }
                s.jobs.append(job)
                return true
            }
            if accepted {
                wake.signal()
            } else {
                continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// Sends a heartbeat now (jobs call this between tokens).
    func beat() { heartbeat() }

    /// Lets queued jobs finish, then stops the thread and waits for it.
    func stop() {
        state.withLock { $0.stopping = true }
        wake.signal()
        finished.wait()
    }

    private func loop() {
        defer { finished.signal() }
        while true {
            let next = state.withLock { s -> (Job?, Bool) in
                if s.jobs.isEmpty { return (nil, s.stopping) }
                return (s.jobs.removeFirst(), false)
            }
            if let job = next.0 {
                job.body()
                heartbeat()
                continue
            }
            if next.1 { return }
            if let interval = heartbeatInterval {
                let bounded = min(interval, .seconds(86_400))
                let nanos = bounded.components.seconds * 1_000_000_000 + bounded.components.attoseconds / 1_000_000_000
                if wake.wait(timeout: .now() + .nanoseconds(Int(nanos))) == .timedOut { heartbeat() }
            } else {
                wake.wait()
            }
        }
    }
}
