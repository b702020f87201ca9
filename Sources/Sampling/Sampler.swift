/// Picks each next token from the logits, as a value type holding one request's state (its
/// random generator).
///
/// The chain is llama.cpp's default order: penalties, top-k, top-p, min-p, temperature, then a
/// draw from the softmax of what is left. Temperature 0 is greedy, with the penalties still applied.
public struct Sampler: Sendable {
    /// The parameters.
    public let parameters: SamplingParameters
    private let processors: [any LogitProcessor]
    private let penalties: RepetitionPenalty
    private var random: SamplingRandom

    /// Creates a sampler.
    ///
    /// - Parameter parameters: The request's sampling parameters.
    /// - Throws: `SamplingError` when a parameter is out of range.
    public init(_ parameters: SamplingParameters) throws {
        try parameters.validate()
        self.parameters = parameters
        penalties = RepetitionPenalty(
            lastN: parameters.penaltyLastN, repetition: parameters.repetitionPenalty,
            frequency: parameters.frequencyPenalty, presence: parameters.presencePenalty)
        processors = [
            TopK(parameters.topK), TopP(parameters.topP), MinP(parameters.minP), Temperature(parameters.temperature),
        ]
        random = SamplingRandom(seed: parameters.seed)
    }

    /// Picks the next token.
    ///
    /// - Parameters:
    ///   - logits: One logit per vocabulary entry.
    ///   - history: The tokens so far (for the penalties).
    /// - Returns: The token id.
    public mutating func sample(logits: UnsafeBufferPointer<Float>, history: [Int32]) -> Int32 {
        if parameters.temperature <= 0 && !penalties.isActive {
            return Self.argmax(logits)
        }
        var candidates = Candidates(logits: logits)
        penalties.process(&candidates, history: history)
        if parameters.temperature <= 0 {
            return candidates.ids[candidates.argmax]
        }
        for processor in processors {
            processor.process(&candidates, history: history)
        }
        let probabilities = candidates.probabilities()
        let draw = random.nextUnit()
        var cumulative = 0.0
        for (i, probability) in probabilities.enumerated() {
            cumulative += probability
            if draw < cumulative { return candidates.ids[i] }
        }
        return candidates.ids[candidates.count - 1]
    }

    /// The index of the largest logit (the lowest index among equals).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        for i in 1..<max(1, logits.count) where logits[i] > logits[best] {
            best = i
        }
        return Int32(best)
    }
}
