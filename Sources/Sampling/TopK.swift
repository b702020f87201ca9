/// Keeps the `k` most likely tokens (k ≤ 0 keeps all).
public struct TopK: LogitProcessor {
    /// How many to keep.
    public var k: Int

    /// Creates the step.
    ///
    /// - Parameter k: How many tokens to keep.
    public init(_ k: Int) {
        self.k = k
    }

    public func process(_ candidates: inout Candidates, history: [Int32]) {
        guard k > 0, k < candidates.count else { return }
        candidates.keepFirst(k)
    }
}
