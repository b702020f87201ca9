/// Divides logits by the temperature (applied last in llama.cpp's default chain, after the filters).
/// A temperature of 0 or less means greedy; the sampler handles that case before any processor.
public struct Temperature: LogitProcessor {
    /// The temperature.
    public var value: Float

    /// Creates the step.
    ///
    /// - Parameter value: The temperature (> 0).
    public init(_ value: Float) {
        self.value = value
    }

    public func process(_ candidates: inout Candidates, history: [Int32]) {
        guard value > 0, value != 1 else { return }
        for i in 0..<candidates.count { candidates.logits[i] /= value }
    }
}
