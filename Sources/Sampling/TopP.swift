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
        if !candidates.isSorted, let maximum = candidates.logits.max() {
            // The nucleus is usually a few dozen tokens: try the best 64, 256, … (picked without a
            // full sort) against the whole set's softmax sum before sorting everything.
            let sum = candidates.logits.reduce(0.0) { $0 + Double(expf($1 - maximum)) }
            var head = 64
            while head < candidates.count && head <= Candidates.selectionLimit {
                var best = candidates
                best.keepFirst(head)
                if let keep = nucleus(best.logits, maximum: maximum, sum: sum) {
                    best.keepFirst(keep)
                    candidates = best
                    return
                }
                head *= 4
            }
        }
        candidates.sortDescending()
        let maximum = candidates.logits[0]
        let sum = candidates.logits.reduce(0.0) { $0 + Double(expf($1 - maximum)) }
        candidates.keepFirst(nucleus(candidates.logits, maximum: maximum, sum: sum) ?? candidates.count)
    }

    /// How many of `sorted` (best first) reach probability `p` and `minKeep`, or nil if they don't.
    private func nucleus(_ sorted: [Float], maximum: Float, sum: Double) -> Int? {
        var cumulative = 0.0
        for (i, logit) in sorted.enumerated() {
            cumulative += Double(expf(logit - maximum)) / sum
            if cumulative >= Double(p), i + 1 >= minKeep { return i + 1 }
        }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
