import Foundation
import GGUF
import Kernels
import Model
public import Sampling
import Tokenization

/// One generation request, in tokens: what the CLI (`InferenceContext`) and the daemon
/// (`InferenceEngine`) both run.
public struct GenerationRequest: Sendable {
    /// The prompt's token ids (already templated, BOS included where the model wants one).
    public var prompt: [Int32]
    /// How to pick each token.
    public var sampling: SamplingParameters
    /// The most tokens to generate (bounded by type: see `TokenCount`).
    public var maxTokens: TokenCount
    /// Texts that end the generation; they are not emitted.
    public var stop: [String]
    /// The grammar the answer must match (nil: free text). Tokens it forbids are masked before
    /// sampling; the answer may end only where the grammar is complete.
    public var grammar: CompiledGrammar?
    /// A forced tool call the answer must be (nil: none); not together with `grammar`.
    public var toolCalls: CompiledToolCalls?
    /// How the engine guesses tokens ahead (the text is the same either way).
    public var speculative: SpeculativeMode = .off
    /// How the reply's thinking is treated and split from its answer (nil: no split, the output is
    /// all answer — `Generate`, or a model without thinking tokens).
    public var reasoning: ReasoningControl?
    /// Images in the prompt, in order, each over the placeholder tokens at its positions (they need
    /// an engine with a vision projector).
    public var images: [PromptImage] = []

    /// Creates a request.
    public init(
        prompt: [Int32], sampling: SamplingParameters, maxTokens: TokenCount, stop: [String] = [], grammar: CompiledGrammar? = nil,
        toolCalls: CompiledToolCalls? = nil
    ) {
        self.grammar = grammar
        self.toolCalls = toolCalls
        self.prompt = prompt
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stop = stop
    }

    /// Refuses `draft` speculation without a draft model.
    func checkSpeculation(hasDraftModel: Bool) throws(EngineError) {
        guard speculative != .draft || hasDraftModel else {
            throw EngineError(.invalidRequest, "speculative \"draft\" needs a draft model, and none is configured", parameter: "speculative")
        }
    }

    /// Checks the request against a model before any work: a prompt, room in the context for it and
    /// `maxTokens`, token ids inside the vocabulary.
    ///
    /// - Throws: `ModelError` `.invalidToken` (an empty prompt, an id outside the vocabulary) or
    ///   `.contextOverflow`.
    func check(contextLength: Int, vocabularySize: Int) throws(ModelError) {
        guard !prompt.isEmpty else { throw ModelError(.invalidToken, "the prompt has no tokens") }
        // prompt.count fits in memory and maxTokens is at most 2²⁴: the sum cannot overflow.
        guard prompt.count + maxTokens.value <= contextLength else {
            throw ModelError(
                .contextOverflow,
                "the prompt (\(prompt.count) tokens) and \(maxTokens) tokens to generate exceed the context of \(contextLength)")
        }
        if let bad = prompt.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw ModelError(.invalidToken, "token \(bad) is outside the vocabulary of \(vocabularySize)")
        }
        var end = 0
        for (index, image) in images.enumerated() {
            guard image.position >= end, image.grid.tokenCount >= 1, image.positions.upperBound <= prompt.count else {
                throw ModelError(.wrongShape, "image \(index) at positions \(image.positions) overlaps another or the prompt's end")
            }
            guard image.width > 0, image.height > 0, image.pixels.count == image.width * image.height * 3 else {
                throw ModelError(.wrongShape, "image \(index) has \(image.pixels.count) floats for \(image.width)×\(image.height) RGB pixels")
            }
            end = image.positions.upperBound
        }
    }
}

/// Why a generation ended.
public enum FinishReason: String, Sendable, Equatable {
    /// The model ended its turn (an end-of-generation token) or a stop string appeared.
    case stop
    /// `maxTokens` were generated.
    case length
    /// The caller asked to stop (a client hung up, the daemon is stopping).
    case cancelled
}

/// What a finished generation did.
public struct GenerationOutcome: Sendable, Equatable {
    public var finishReason: FinishReason
    /// Prompt tokens, all of them (`cachedTokens` of which were already in the KV cache).
    public var promptTokens: Int
    /// Prompt tokens reused from the previous request's cache (a shared prefix).
    public var cachedTokens: Int
    /// The generated ids, the end-of-generation token excluded.
    public var generated: [Int32]
    /// Seconds spent on the prompt.
    public var promptSeconds: Double
    /// Seconds spent generating.
    public var generationSeconds: Double
    /// The stop string that ended the generation, if one did.
    public var stoppedAt: String?
    /// Tokens guessed ahead and verified (speculative decoding).
    public var draftedTokens = 0
    /// Guessed tokens the model agreed with (each saved a forward pass).
    public var acceptedTokens = 0
    /// Generated tokens that belong to the reasoning, its `[THINK]`/`[/THINK]` markers included.
    public var reasoningTokens = 0
}

/// Text or ids coming out of a generation, in order.
public enum GenerationOutput: Sendable, Equatable {
    /// Whole characters of generated text: the answer (stop strings held back and cut).
    case text(String)
    /// Whole characters of the reply's thinking (between the thinking tokens; stop strings do not
    /// apply).
    case reasoning(String)
    /// A generated id (when there is no tokenizer, or the caller asked for ids).
    case token(Int32)
}

/// One sequence at a time on slot 0 of a model session (`brise generate`'s loop), remembering which
/// tokens the KV cache holds, so a prompt sharing a prefix with the previous request's tokens only
/// evaluates the rest. It steps the same `SequenceState` as the daemon's `InferenceEngine`, which
/// serves many sequences at once. Not thread-safe: one generation at a time.
public final class InferenceContext: @unchecked Sendable {
    // @unchecked Sendable: used by one thread at a time.

    /// The loaded model.
    public let loaded: LoadedModel
    /// Ids that end a generation (llama.cpp's end-of-generation set).
    public let endOfGeneration: Set<Int32>
    /// The tokens whose keys and values the cache holds, in order.
    public private(set) var cachedTokens: [Int32] = []

    /// The model guessing tokens ahead for `draft` and `auto` requests (nil: none).
    public let draft: DraftModel?
    /// The vision projector for prompts with images (nil: none).
    public let vision: VisionProjector?

    /// Creates a context over `loaded`'s session.
    ///
    /// - Parameters:
    ///   - loaded: The model.
    ///   - draft: A draft model for it (its slot 0 follows this context's sequence).
    ///   - vision: A vision projector for it.
    public init(loaded: LoadedModel, draft: DraftModel? = nil, vision: VisionProjector? = nil) {
        self.loaded = loaded
        self.draft = draft
        self.vision = vision
        endOfGeneration = loaded.tokenizer.map { $0.vocabulary.endOfGeneration(metadata: loaded.file.metadata) } ?? []
    }

    /// The context length of the session.
    public var contextLength: Int { loaded.session.contextLength }

    /// Forgets the cache.
    public func reset() {
        loaded.session.reset()
        cachedTokens = []
    }


    /// Generates a continuation of `request.prompt`.
    ///
    /// - Parameters:
    ///   - request: The prompt and the sampling choices.
    ///   - emitIDs: Emit `.token` ids instead of text (also when the model has no tokenizer).
    ///   - pacer: Paces tokens by temperature and rate (nil: full speed).
    ///   - shouldStop: Polled before each token; true ends the generation with `.cancelled`.
    ///   - emit: Receives the output as it is produced.
    /// - Returns: Why it ended, counts and timings.
    /// - Throws: `ModelError` (`.contextOverflow` when the prompt and `maxTokens` do not fit — checked
    ///   before any work; `.invalidToken`), `SamplingError`, `ThermalError` from a pause that lasted too long.
    public func generate(
        _ request: GenerationRequest, emitIDs: Bool = false, pacer: ThermalPacer? = nil,
        shouldStop: () -> Bool = { false }, emit: (GenerationOutput) -> Void
    ) throws -> GenerationOutcome {
        let session = loaded.session
        let prompt = request.prompt
        try request.check(contextLength: session.contextLength, vocabularySize: session.model.vocabularySize)
        try request.checkSpeculation(hasDraftModel: draft != nil)
        if !request.images.isEmpty, vision == nil {
            throw EngineError(.invalidRequest, "the prompt has images and no vision model is loaded (--mmproj)", parameter: "images")
        }
        let keys = request.cacheKeys
        var sequence = try SequenceState(
            request: request, tokenizer: loaded.tokenizer, endOfGeneration: endOfGeneration, emitIDs: emitIDs)
        let clock = ContinuousClock()

        // Reuse the longest prefix the cache already holds; at least the last prompt token is
        // evaluated again, for its logits.
        var reused = zip(cachedTokens, keys).prefix { $0 == $1 }.count
        reused = min(reused, prompt.count - 1)
        if reused < session.position {
            if session.rewind(to: reused) {
                cachedTokens.removeSubrange(reused...)
            } else {
                reset()
                reused = 0
            }
        }

        var logits: [Float] = []
        let pool = loaded.pool
        let allThreads = loaded.threads
        /// Waits for the governor, then runs the next step on as many threads as it allows.
        func pace() throws {
            guard let pacer else { return }
            try pacer.gate(shouldStop: shouldStop)
            pool.activeThreads = pacer.threads(outOf: allThreads)
        }
        /// Each image's embeddings, encoded when the prompt first reaches it.
        var encoded: [Int: ImageEmbeddings] = [:]
        /// Evaluates `tokens` (`keys` are what the cache records for them: the prompt's keys, or the
        /// tokens); a failed batch leaves the cache in an unknown state, so it is forgotten.
        func evaluate(_ tokens: ArraySlice<Int32>, keys: ArraySlice<Int32>? = nil, allLogits: Bool = false) throws {
            var placed: [ModelSession.PlacedImage] = []
            if let vision, keys != nil {
                placed = try vision.placed(request.images, overlapping: tokens.indices, encoded: &encoded)
            }
            do {
                logits = try session.evaluate(Array(tokens), allLogits: allLogits, images: placed)
            } catch {
                reset()
                throw error
            }
            cachedTokens.append(contentsOf: keys ?? tokens)
        }
        defer { pool.activeThreads = allThreads }
        try pace()
        let promptStart = clock.now
        var start = reused
        while start < prompt.count {
            if shouldStop() { break }
            let end = min(prompt.count, start + loaded.session.prefillBatch)
            try evaluate(prompt[start..<end], keys: keys[start..<end])
            start = end
        }
        pacer?.tokenDone()
        let promptSeconds = Self.seconds(promptStart.duration(to: clock.now))
        var outcome = GenerationOutcome(
            finishReason: .length, promptTokens: prompt.count, cachedTokens: reused, generated: [],
            promptSeconds: promptSeconds, generationSeconds: 0)
        guard start == prompt.count else {
            outcome.finishReason = .cancelled
            return outcome
        }

        let generationStart = clock.now
        var speculator = Speculator(mode: request.speculative, prompt: prompt, hasDraftModel: draft != nil)
        let vocabulary = session.model.vocabularySize
        /// The guesses evaluated after the last token (their logits follow its own).
        var drafted: [Int32] = []
        var source = Speculator.Source.lookup
        while true {
            if shouldStop() {
                outcome.finishReason = .cancelled
                break
            }
            let (step, accepted) = try logits.withUnsafeBufferPointer {
                try sequence.step(rows: $0, vocabulary: vocabulary, drafted: drafted, emit: emit)
            }
            if !drafted.isEmpty {
                speculator?.record(source, drafted: drafted.count, accepted: accepted)
                // The cache forgets the rejected guesses (a ring holds one batch beyond its window,
                // so this cannot fail).
                let rejected = drafted.count - accepted
                if rejected > 0 {
                    guard session.rewind(to: session.position - rejected) else {
                        reset()
                        throw EngineError(.evaluationFailed, "the cache could not forget rejected guesses")
                    }
                    cachedTokens.removeLast(rejected)
                }
            }
            guard case .next(let next) = step else {
                if case .finished(let reason) = step { outcome.finishReason = reason }
                break
            }
            pacer?.tokenDone()
            try pace()
            if shouldStop() {
                outcome.finishReason = .cancelled
                break
            }
            let room = min(sequence.remaining - 1, session.contextLength - session.position - 1)
            (drafted, source) = speculator?.guess(prompt: prompt, generated: sequence.generated, limit: room, draft: draft, slot: 0) ?? ([], .lookup)
            try evaluate([next] + drafted, allLogits: !drafted.isEmpty)
        }
        pacer?.tokenDone()
        sequence.finish(emit: emit)
        outcome.draftedTokens = speculator?.drafted ?? 0
        outcome.acceptedTokens = speculator?.accepted ?? 0
        outcome.generated = sequence.generated
        outcome.stoppedAt = sequence.stoppedAt
        outcome.reasoningTokens = sequence.reasoningTokens
        outcome.generationSeconds = Self.seconds(generationStart.duration(to: clock.now))
        return outcome
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
