/// llama.cpp's penalties over the last `lastN` tokens: the repetition penalty divides a positive
/// logit (multiplies a negative one) of every token seen; then `count × frequency + presence` is
/// subtracted for each seen token.
public struct RepetitionPenalty: LogitProcessor {
    /// How many recent tokens count (llama.cpp's `repeat_last_n`, 64 by default; 0 disables).
    public var lastN: Int
    /// The repetition penalty (1 = off).
    public var repetition: Float
    /// Subtracted once per occurrence.
    public var frequency: Float
    /// Subtracted once if the token occurred at all.
    public var presence: Float

    /// Creates the penalties.
    ///
    /// - Parameters:
    ///   - lastN: Window of recent tokens.
    ///   - repetition: Repetition penalty (1 = off).
    ///   - frequency: Frequency penalty (0 = off).
    ///   - presence: Presence penalty (0 = off).
    public init(lastN: Int = 64, repetition: Float = 1, frequency: Float = 0, presence: Float = 0) {
        self.lastN = lastN
        self.repetition = repetition
        self.frequency = frequency
        self.presence = presence
    }

    /// Whether the penalties change anything.
    public var isActive: Bool { lastN != 0 && (repetition != 1 || frequency != 0 || presence != 0) }

    public func process(_ candidates: inout Candidates, history: [Int32]) {
        guard isActive, !history.isEmpty else { return }
        let window = lastN < 0 ? history[...] : history.suffix(lastN)
        var counts: [Int32: Int] = [:]
        for token in window { counts[token, default: 0] += 1 }
        for i in 0..<candidates.count {
            guard let count = counts[candidates.ids[i]] else { continue }
            var logit = candidates.logits[i]
            if logit <= 0 {
                logit *= repetition
            } else {
                logit /= repetition
            }
            logit -= Float(count) * frequency + presence
            candidates.logits[i] = logit
        }
    }
}
