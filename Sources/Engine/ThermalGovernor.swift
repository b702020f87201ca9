/// Paces generation by temperature and by an optional rate cap, as a pure state machine: the caller
/// reports the hottest temperature and the time, and asks before each token what to do.
///
/// - below `softLimit`: full speed;
/// - between `softLimit` and `hardLimit`: a pause after each token that grows linearly from 0 to
///   `maximumPause` across the band (a lower duty cycle, so the SoC cools);
/// - at or above `hardLimit`: paused, until the temperature is back below `softLimit` (hysteresis);
///   a token that has waited longer than `maximumWait` fails with `ThermalError`;
/// - `maximumTokensPerSecond` (a plain cap for fanless boxes): at least 1/rate between tokens.
///
/// Generic over `Clock` so tests drive it with a manual clock.
public struct ThermalGovernor<C: Clock>: Sendable where C.Duration == Duration, C.Instant: Sendable {
    /// Limits and pacing.
    public struct Limits: Sendable, Equatable {
        public var softLimit: Double
        public var hardLimit: Double
        public var maximumPause: Duration
        public var maximumWait: Duration
        public var maximumTokensPerSecond: Double?

        /// Creates limits.
        ///
        /// - Parameters:
        ///   - softLimit: °C where pacing starts (default 70).
        ///   - hardLimit: °C where generation pauses (default 85).
        ///   - maximumPause: The pause before a token at the top of the band (default 250 ms).
        ///   - maximumWait: The longest a token waits in a pause before failing (default 60 s).
        ///   - maximumTokensPerSecond: A rate cap, or nil.
        /// - Throws: `ThermalError` when the values are inconsistent.
        public init(
            softLimit: Double = 70, hardLimit: Double = 85, maximumPause: Duration = .milliseconds(250),
            maximumWait: Duration = .seconds(60), maximumTokensPerSecond: Double? = nil
        ) throws {
            guard softLimit.isFinite, hardLimit.isFinite, softLimit < hardLimit else {
                throw ThermalError.invalidLimits("the soft limit \(softLimit) °C must be below the hard limit \(hardLimit) °C")
            }
            guard maximumPause >= .zero, maximumWait > .zero else {
                throw ThermalError.invalidLimits("pauses and waits must be positive")
            }
            // At least one token in 1,000 s: a smaller rate would ask for waits beyond what Duration and
            // the pacer's microsecond sleeps can hold.
            if let rate = maximumTokensPerSecond, !(rate.isFinite && rate >= 0.001 && rate <= 1e6) {
                throw ThermalError.invalidLimits("the rate cap \(rate) must be a number of tokens per second in 0.001…1000000")
            }
            self.softLimit = softLimit
            self.hardLimit = hardLimit
            self.maximumPause = maximumPause
            self.maximumWait = maximumWait
            self.maximumTokensPerSecond = maximumTokensPerSecond
        }
    }

    /// The governor's state, for status lines.
    public enum State: Sendable, Equatable {
        case normal
        case pacing(fraction: Double)
        case paused
    }

    /// What to do before the next token.
    public enum Action: Sendable, Equatable {
        /// Go ahead now.
        case proceed
        /// Ask again after this long.
        case wait(Duration)
    }

    public let limits: Limits
    public private(set) var state: State = .normal
    private var temperature: Double?
    private var lastStart: C.Instant?
    private var lastEnd: C.Instant?
    private var waitingSince: C.Instant?

    /// Creates a governor.
    ///
    /// - Parameter limits: The limits.
    public init(limits: Limits) {
        self.limits = limits
    }

    /// Records the hottest temperature now (nil when no zone is readable: treated as cool).
    public mutating func observe(celsius: Double?) {
        temperature = celsius
        guard let celsius else {
            state = .normal
            return
        }
        if celsius >= limits.hardLimit {
            state = .paused
        } else if case .paused = state, celsius >= limits.softLimit {
            // Hysteresis: stay paused until below the soft limit.
        } else if celsius >= limits.softLimit {
            state = .pacing(fraction: (celsius - limits.softLimit) / (limits.hardLimit - limits.softLimit))
        } else {
            state = .normal
        }
    }

    /// What to do before the next token.
    ///
    /// - Parameter now: The current time.
    /// - Returns: The action.
    /// - Throws: `ThermalError.waitedTooLong` when a token has been held back longer than `maximumWait`.
    public mutating func beforeToken(now: C.Instant) throws -> Action {
        var wait = Duration.zero
        switch state {
        case .paused:
            wait = limits.maximumPause  // poll again; the caller observes the temperature meanwhile
        case .pacing(let fraction):
            if let lastEnd {
                let due = lastEnd.advanced(by: limits.maximumPause * fraction)
                if due > now { wait = now.duration(to: due) }
            }
        case .normal:
            break
        }
        if let rate = limits.maximumTokensPerSecond, let lastStart {
            let due = lastStart.advanced(by: .seconds(1 / rate))
            if due > now { wait = max(wait, now.duration(to: due)) }
        }
        if wait > .zero {
            let since = waitingSince ?? now
            waitingSince = since
            if case .paused = state, since.duration(to: now) > limits.maximumWait {
                throw ThermalError.waitedTooLong(
                    "generation paused for over \(limits.maximumWait) at \(temperature.map { "\($0) °C" } ?? "?") "
                        + "(hard limit \(limits.hardLimit) °C, resumes below \(limits.softLimit) °C)")
            }
            return .wait(wait)
        }
        waitingSince = nil
        lastStart = now
        return .proceed
    }

    /// Records that the token started by the last `.proceed` is done.
    ///
    /// - Parameter now: The current time.
    public mutating func afterToken(now: C.Instant) {
        lastEnd = now
    }

    /// The hottest zone's last reading in °C (nil: no thermal zone).
    public var lastTemperature: Double? { temperature }

    /// A one-line summary for status lines.
    public var summary: String {
        let temp = temperature.map { "\(($0 * 10).rounded() / 10) °C" } ?? "no thermal zone"
        switch state {
        case .normal: return "\(temp), normal"
        case .pacing(let fraction): return "\(temp), pacing \(Int((fraction * 100).rounded()))%"
        case .paused: return "\(temp), paused (hard limit \(limits.hardLimit) °C)"
        }
    }
}

/// A thermal or pacing error.
public enum ThermalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The limits make no sense.
    case invalidLimits(String)
    /// A token waited longer than the bound in a thermal pause.
    case waitedTooLong(String)

    public var description: String {
        switch self {
        case .invalidLimits(let message): "invalid thermal limits: \(message)"
        case .waitedTooLong(let message): "thermal pause: \(message)"
        }
    }
}
