public import Sampling

/// A request's sampling choices as a caller of the engine gives them: each one optional, the rest
/// llama.cpp's defaults (`SamplingParameters`). The daemon builds requests from these, so it does
/// not reach into the sampler's module.
public struct SamplingSettings: Sendable, Equatable {
    public var temperature: Float?
    public var topK: Int?
    public var topP: Float?
    public var minP: Float?
    public var repetitionPenalty: Float?
    public var presencePenalty: Float?
    public var frequencyPenalty: Float?
    public var penaltyLastN: Int?

    public init() {}

    /// The sampler's parameters: these choices over llama.cpp's defaults, with `seed`.
    ///
    /// - Throws: `EngineError` `.invalidRequest` naming the parameter (its Swift name) out of range.
    public func parameters(seed: UInt64) throws(EngineError) -> SamplingParameters {
        var p = SamplingParameters()
        if let temperature { p.temperature = temperature }
        if let topK { p.topK = topK }
        if let topP { p.topP = topP }
        if let minP { p.minP = minP }
        if let repetitionPenalty { p.repetitionPenalty = repetitionPenalty }
        if let presencePenalty { p.presencePenalty = presencePenalty }
        if let frequencyPenalty { p.frequencyPenalty = frequencyPenalty }
        if let penaltyLastN { p.penaltyLastN = penaltyLastN }
        p.seed = seed
        do {
            try p.validate()
        } catch let error as SamplingError {
            throw EngineError(.invalidRequest, error.message, parameter: error.parameter)
        } catch {
            throw EngineError(.invalidRequest, "\(error)")
        }
        return p
    }
}

extension GenerationRequest {
    /// A request from `settings`.
    ///
    /// - Throws: `EngineError` `.invalidRequest` for a sampling value out of range.
    public init(
        prompt: [Int32], settings: SamplingSettings, seed: UInt64, maxTokens: TokenCount, stop: [String] = [],
        grammar: CompiledGrammar? = nil
    ) throws(EngineError) {
        self.init(prompt: prompt, sampling: try settings.parameters(seed: seed), maxTokens: maxTokens, stop: stop, grammar: grammar)
    }
}
