/// Keeps tokens whose probability is at least `p` times the most likely token's
/// (compared on logits: `logit ≥ max + ln p`, as llama.cpp does).
public struct MinP: LogitProcessor {
    /// The fraction of the top probability a token needs (0 keeps all).
    public var p: Float
    /// The fewest tokens to keep.
    public var minKeep: Int

    /// Creates the step.
    ///
    /// - Parameters:
    ///   - p: The fraction of the top probability.
    ///   - minKeep: The fewest tokens to keep.
    public init(_ p: Float, minKeep: Int = 1) {
        self.p = p
        self.minKeep = minKeep
    }

    public func process(_ candidates: inout Candidates, history: [Int32]) {
        guard p > 0, candidates.count > 1, let maximum = candidates.logits.max() else { return }
        let threshold = maximum + logf(p)
        if !candidates.isSorted {
            // Filter first, then sort only what passes: the same result as sorting everything.
            let passing = candidates.logits.indices.filter { candidates.logits[$0] >= threshold }
            if passing.count >= minKeep {
                candidates = Candidates(
                    ids: passing.map { candidates.ids[$0] }, logits: passing.map { candidates.logits[$0] })
                candidates.sortDescending()
                return
            }
        }
        candidates.sortDescending()
        var keep = candidates.logits.firstIndex { $0 < threshold } ?? candidates.count
        keep = max(keep, minKeep)
        candidates.keepFirst(keep)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
