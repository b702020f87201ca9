/// Nucleus sampling: keeps the smallest set of most likely tokens whose probabilities add up to at
/// least `p` (at least `minKeep` tokens).
public struct TopP: LogitProcessor {
    /// The cumulative probability to reach (1 keeps all).
    public var p: Float
    /// The fewest tokens to keep.
    public var minKeep: Int

    /// Creates the step.
    ///
    /// - Parameters:
    ///   - p: The cumulative probability.
    ///   - minKeep: The fewest tokens to keep.
    public init(_ p: Float, minKeep: Int = 1) {
        self.p = p
        self.minKeep = minKeep
    }

    public func process(_ candidates: inout Candidates, history: [Int32]) {
        guard p < 1, candidates.count > 1 else { return }
        candidates.sortDescending()
        let probabilities = candidates.probabilities()
        var cumulative = 0.0
        var keep = candidates.count
        for (i, probability) in probabilities.enumerated() {
            cumulative += probability
            if cumulative >= Double(p), i + 1 >= minKeep {
                keep = i + 1
                break
            }
        }
        candidates.keepFirst(keep)
    }
}
