/// How to pick each next token: the knobs a request sets.
///
/// Defaults are llama.cpp's (`common_params_sampling`): temperature 0.8, top-k 40, top-p 0.95,
/// min-p 0.05, penalties off over the last 64 tokens.
public struct SamplingParameters: Sendable, Hashable, Codable {
    /// Temperature; 0 or less is greedy (always the most likely token).
    public var temperature: Float
    /// Keep the k most likely tokens (0 = all).
    public var topK: Int
    /// Nucleus threshold (1 = off).
    public var topP: Float
    /// Minimum probability relative to the top token (0 = off).
    public var minP: Float
    /// Repetition penalty (1 = off).
    public var repetitionPenalty: Float
    /// Presence penalty (0 = off).
    public var presencePenalty: Float
    /// Frequency penalty (0 = off).
    public var frequencyPenalty: Float
    /// How many recent tokens the penalties look at (0 = off, -1 = all).
    public var penaltyLastN: Int
    /// The seed of the random draw.
    public var seed: UInt64

    /// Creates parameters.
    public init(
        temperature: Float = 0.8, topK: Int = 40, topP: Float = 0.95, minP: Float = 0.05,
        repetitionPenalty: Float = 1, presencePenalty: Float = 0, frequencyPenalty: Float = 0,
        penaltyLastN: Int = 64, seed: UInt64 = 0
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.penaltyLastN = penaltyLastN
        self.seed = seed
    }

    /// Always the most likely token.
    public static var greedy: Self { .init(temperature: 0) }

    /// Checks every value, naming the first bad one.
    ///
    /// - Throws: `SamplingError` `.invalidParameter` with the parameter's name and value.
    public func validate() throws {
        func check(_ ok: Bool, _ name: String, _ value: Any, _ rule: String) throws {
            if !ok { throw SamplingError(.invalidParameter, "\(name) = \(value): \(rule)", parameter: name) }
        }
        try check(temperature.isFinite && temperature >= 0 && temperature <= 100, "temperature", temperature, "must be in 0...100")
        try check(topK >= 0, "topK", topK, "must be 0 (off) or positive")
        try check(topP.isFinite && topP > 0 && topP <= 1, "topP", topP, "must be in (0, 1]")
        try check(minP.isFinite && minP >= 0 && minP < 1, "minP", minP, "must be in [0, 1)")
        try check(repetitionPenalty.isFinite && repetitionPenalty > 0 && repetitionPenalty <= 10, "repetitionPenalty", repetitionPenalty, "must be in (0, 10]")
        try check(presencePenalty.isFinite && abs(presencePenalty) <= 10, "presencePenalty", presencePenalty, "must be in -10...10")
        try check(frequencyPenalty.isFinite && abs(frequencyPenalty) <= 10, "frequencyPenalty", frequencyPenalty, "must be in -10...10")
        try check(penaltyLastN >= -1, "penaltyLastN", penaltyLastN, "must be -1 (all), 0 (off) or positive")
    }
}

/// An error in sampling parameters.
public struct SamplingError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// The parameter at fault, when one is.
    public var parameter: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, parameter: String? = nil) {
        self.code = code
        self.message = message
        self.parameter = parameter
    }

    public var description: String { "sampling error (\(code)): \(message)" }

    /// The kind of a `SamplingError`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable { case invalidParameter }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// A parameter is out of range.
        public static var invalidParameter: Self { .init(.invalidParameter) }
        public var description: String { base.rawValue }
    }
}
