import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The thermal governor wired to real thermal zones and a real clock: reads the hottest zone at most
/// every `readInterval`, and blocks the generating thread before each token for as long as the
/// governor says. Shared by `brise generate` and the daemon; thread-safe, so a status reporter can
/// read its state while a generation runs.
public final class ThermalPacer: Sendable {
    /// The governor's limits.
    public let limits: ThermalGovernor<ContinuousClock>.Limits
    /// Where the zones are read.
    public let zones: ThermalZones
    /// How often the zones are read while generating.
    public let readInterval: Duration
    private let state: Locked<State>
    private let clock = ContinuousClock()

    private struct State {
        var governor: ThermalGovernor<ContinuousClock>
        var lastReading: ContinuousClock.Instant?
    }

    /// Creates a pacer.
    ///
    /// - Parameters:
    ///   - limits: Soft and hard limits, pauses, rate cap.
    ///   - zones: The thermal zones to read.
    ///   - readInterval: The least time between two readings.
    public init(
        limits: ThermalGovernor<ContinuousClock>.Limits, zones: ThermalZones, readInterval: Duration = .milliseconds(250)
    ) {
        self.limits = limits
        self.zones = zones
        self.readInterval = readInterval
        state = Locked(State(governor: ThermalGovernor(limits: limits)))
    }

    /// The governor's current state.
    public var governorState: ThermalGovernor<ContinuousClock>.State { state.withLock { $0.governor.state } }

    /// A one-line summary for status lines (temperature and state).
    public var summary: String { state.withLock { $0.governor.summary } }
    /// The last temperature read, in °C (nil: no thermal zone).
    public var temperature: Double? { state.withLock { $0.governor.lastTemperature } }

    /// How many of `maximum` worker threads to use now: all when cool; fewer as the temperature
    /// climbs through the pacing band (at least one; one while paused), so the SoC draws less power
    /// while it also rests between tokens.
    public func threads(outOf maximum: Int) -> Int {
        switch governorState {
        case .normal: return maximum
        case .pacing(let fraction): return max(1, Int((Double(maximum) * (1 - fraction)).rounded(.up)))
        case .paused: return 1
        }
    }

    /// Reads the zones now, whatever the interval (the status reporter does this while idle).
    public func refresh() {
        let reading = zones.hottest()?.celsius
        let now = clock.now
        state.withLock {
            $0.governor.observe(celsius: reading)
            $0.lastReading = now
        }
    }

    /// Blocks the calling thread until the next token may be computed.
    ///
    /// - Parameter shouldStop: Polled while waiting; when it returns true the wait ends early (the
    ///   caller then stops generating).
    /// - Throws: `ThermalError.waitedTooLong` when the pause outlasts the governor's bound.
    public func gate(shouldStop: () -> Bool = { false }) throws {
        while !shouldStop() {
            let now = clock.now
            let due = state.withLock { s in s.lastReading.map { $0.duration(to: now) >= readInterval } ?? true }
            if due { refresh() }
            let action = try state.withLock { try $0.governor.beforeToken(now: clock.now) }
            switch action {
            case .proceed:
                return
            case .wait(let duration):
                // Sleep in slices of at most 100 ms so a cancelled request is noticed quickly.
                let (seconds, attoseconds) = min(duration, .milliseconds(100)).components
                let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
                usleep(useconds_t(min(100_000, max(1, micros))))
            }
        }
    }

    /// Records that the token the last `gate` let through is done.
    public func tokenDone() {
        let now = clock.now
        state.withLock { $0.governor.afterToken(now: now) }
    }
}
