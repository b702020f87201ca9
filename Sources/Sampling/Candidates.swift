/// The tokens still in the running for the next position, with their logits.
///
/// Processors narrow and reshape this set; the final step picks one token from it. Kept as two
/// parallel arrays (ids, logits) so the common case — greedy over the whole vocabulary — never sorts.
public struct Candidates: Sendable {
    /// Token ids.
    public var ids: [Int32]
    /// Their logits (same order as `ids`).
    public var logits: [Float]
    /// Whether the arrays are sorted by logit, highest first.
    public private(set) var isSorted = false

    /// Every token of a vocabulary with its logit.
    ///
    /// - Parameter logits: One logit per token id.
    public init(logits: UnsafeBufferPointer<Float>) {
        ids = (0..<Int32(logits.count)).map { $0 }
        self.logits = Array(logits)
    }

    /// A given set of tokens.
    ///
    /// - Parameters:
    ///   - ids: Token ids.
    ///   - logits: Their logits.
    public init(ids: [Int32], logits: [Float]) {
        precondition(ids.count == logits.count, "ids and logits differ in length")
        self.ids = ids
        self.logits = logits
    }

    /// The number of candidates.
    public var count: Int { ids.count }

    /// Sorts by logit, highest first (stable: ties keep id order, as llama.cpp's partial sorts do
    /// for the tokens they keep).
    public mutating func sortDescending() {
        guard !isSorted else { return }
        let order = (0..<ids.count).sorted(by: precedes)
        ids = order.map { ids[$0] }
        logits = order.map { logits[$0] }
        isSorted = true
    }

    /// Keeps the first `n` candidates in sorted order: the same tokens, in the same order, as
    /// `sortDescending()` then truncating, but a small `n` is picked in one pass instead of sorting
    /// the whole vocabulary (a full sort of 150 000 logits costs ~12 ms a token).
    public mutating func keepFirst(_ n: Int) {
        if !isSorted && n < ids.count && n <= Self.selectionLimit {
            let best = bestIndices(n)
            ids = best.map { ids[$0] }
            logits = best.map { logits[$0] }
            isSorted = true
            return
        }
        sortDescending()
        guard n < ids.count else { return }
        ids.removeSubrange(n...)
        logits.removeSubrange(n...)
    }

    /// Up to this many candidates are picked by `bestIndices`; beyond it a full sort is cheaper.
    static let selectionLimit = 4096

    /// Whether candidate `a` comes before `b`: higher logit first, lower id among equals.
    private func precedes(_ a: Int, _ b: Int) -> Bool {
        logits[a] != logits[b] ? logits[a] > logits[b] : ids[a] < ids[b]
    }

    /// The indices of the `n` first candidates in sorted order, best first: one pass that keeps a
    /// sorted buffer of `n` and skips, with one comparison, every candidate worse than its last.
    private func bestIndices(_ n: Int) -> [Int] {
        var best: [Int] = []
        best.reserveCapacity(n + 1)
        for i in 0..<ids.count {
            if best.count == n {
                guard precedes(i, best[n - 1]) else { continue }
                best.removeLast()
            }
            var low = 0
            var high = best.count
            while low < high {
                let middle = (low + high) / 2
                if precedes(best[middle], i) { low = middle + 1 } else { high = middle }
            }
            best.insert(i, at: low)
        }
        return best
    }

    /// The index of the highest logit (the lowest id among equals), without sorting.
    public var argmax: Int {
        var best = 0
        for i in 1..<max(1, logits.count) where logits[i] > logits[best] || (logits[i] == logits[best] && ids[i] < ids[best]) {
            best = i
        }
        return best
    }

    /// Softmax probabilities of the current logits (max-subtracted, in Double for the sum).
    public func probabilities() -> [Double] {
        guard let maximum = logits.max() else { return [] }
        let exps = logits.map { Double(expf($0 - maximum)) }
        let sum = exps.reduce(0, +)
        return exps.map { $0 / sum }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
