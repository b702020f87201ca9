import Sampling
import StructuredOutput
public import Tokenization

/// One sequence's state between forward passes: its sampler (and random stream), the penalty
/// history, the detokenizer, the stop strings and its limit. Fed the logits of its last token, it
/// picks the next one and says what to emit and whether the sequence is done. Stepped the same way by
/// `brise generate` (one sequence) and the daemon's engine (many in one batch), so both give the same
/// text by construction.
public struct SequenceState: Sendable {
    /// What one step gave.
    public enum Step: Sendable, Equatable {
        /// A token to evaluate next (the output, if any, was emitted).
        case next(Int32)
        /// The sequence is done.
        case finished(FinishReason)
    }

    /// The generated ids so far (an end-of-generation token excluded).
    public private(set) var generated: [Int32] = []
    /// The stop string that ended the sequence, if one did.
    public private(set) var stoppedAt: String?
    private var sampler: Sampler
    private var history: [Int32]
    private let maxTokens: Int
    private let endOfGeneration: Set<Int32>
    private var detokenizer: StreamingDetokenizer?
    private var stops: StopSequences
    private let textMode: Bool
    /// What the answer is held to (at most one): a grammar, or a forced tool call. Advanced in place
    /// (`grammar!…`): their stack arenas grow over an answer, and a copy per token would cost as much.
    private var grammar: GrammarConstraint?
    private var toolCalls: ToolCallConstraint?
    private var masked: [Float] = []
    /// Where the reply is in its thinking (nil: the request does not split reasoning from answer).
    private var reasoning: ReasoningTracker?
    /// The thinking's own detokenizer: its text and the answer's never share a character.
    private var thoughtText: StreamingDetokenizer?

    /// Creates the state of a request.
    ///
    /// - Parameters:
    ///   - request: The prompt, sampling and limits.
    ///   - tokenizer: The model's tokenizer (nil: ids only).
    ///   - endOfGeneration: Ids that end the sequence.
    ///   - emitIDs: Emit ids instead of text.
    /// - Throws: `SamplingError` for sampling parameters out of range.
    public init(request: GenerationRequest, tokenizer: Tokenizer?, endOfGeneration: Set<Int32>, emitIDs: Bool = false) throws {
        sampler = try Sampler(request.sampling)
        history = request.prompt
        maxTokens = request.maxTokens.value
        self.endOfGeneration = endOfGeneration
        textMode = !emitIDs && tokenizer != nil
        detokenizer = textMode ? tokenizer.map { StreamingDetokenizer(tokenizer: $0) } : nil
        stops = StopSequences(request.stop)
        if let control = request.reasoning {
            reasoning = ReasoningTracker(control)
            thoughtText = textMode ? tokenizer.map { StreamingDetokenizer(tokenizer: $0) } : nil
        }
        if let plan = request.toolCalls {
            toolCalls = plan.makeConstraint(endTokens: endOfGeneration)
        } else if let compiled = request.grammar {
            grammar = GrammarConstraint(cache: compiled.cache, endTokens: endOfGeneration.sorted())
        }
    }

    /// Whether the request asks for no tokens at all.
    public var wantsNothing: Bool { maxTokens == 0 }

    /// Generated tokens that belong to the reasoning, its markers included.
    public var reasoningTokens: Int { reasoning?.reasoningTokens ?? 0 }

    /// How many more tokens the sequence may generate.
    public var remaining: Int { max(0, maxTokens - generated.count) }

    /// Picks the tokens after a verified guess: `rows` holds the logits after the sequence's last
    /// token and after each of `drafted` (guessed to follow it), `vocabulary` per row. Position by
    /// position the token is drawn exactly as `step(logits:emit:)` draws it (same sampler, same random
    /// stream, same constraint); while it equals the guess the next row is used, so what comes out is
    /// what plain decoding gives, only several tokens per pass.
    ///
    /// - Returns: The last step's result, and how many of `drafted` were accepted (the model's cache
    ///   must keep the last token and those, and forget the rest).
    public mutating func step(
        rows: UnsafeBufferPointer<Float>, vocabulary: Int, drafted: [Int32], emit: (GenerationOutput) -> Void
    ) throws -> (step: Step, accepted: Int) {
        precondition(rows.count >= (drafted.count + 1) * vocabulary, "a row of logits per drafted token and one more")
        var position = 0
        while true {
            let row = UnsafeBufferPointer(rebasing: rows[(position * vocabulary)..<((position + 1) * vocabulary)])
            let result = try step(logits: row, emit: emit)
            guard position < drafted.count, case .next(let token) = result, token == drafted[position] else {
                return (result, position)
            }
            position += 1
        }
    }

    /// Picks the token after `logits` and emits its output.
    ///
    /// With a reasoning control, the thinking is emitted as `.reasoning` and the answer as `.text`,
    /// split at the thinking tokens; stop strings apply to the answer only (a thought is a scratch
    /// pad: a stop string meant for the answer's shape must not end it before the answer begins). A
    /// spent budget forces the closing token instead of drawing; thinking off never draws the
    /// opening one.
    ///
    /// - Parameters:
    ///   - logits: The logits of the sequence's last token.
    ///   - emit: Receives text (whole characters, stop strings held back), reasoning, or ids.
    /// - Returns: The next token to evaluate, or why the sequence ended.
    /// - Throws: `TokenizerError` from the detokenizer (an id it cannot render).
    public mutating func step(logits: UnsafeBufferPointer<Float>, emit: (GenerationOutput) -> Void) throws -> Step {
        guard generated.count < maxTokens else { return .finished(.length) }
        let next: Int32
        if let forced = reasoning?.forced {
            // The budget is spent (or thinking is off): the thinking ends here, drawn or not.
            next = forced
        } else if grammar != nil || toolCalls != nil {
            guard let picked = sampleConstrained(logits) else { return .finished(.stop) }
            next = picked
        } else if let banned = reasoning?.forbidden, Int(banned) < logits.count {
            if masked.count != logits.count { masked = [Float](repeating: 0, count: logits.count) }
            for i in 0..<logits.count { masked[i] = logits[i] }
            masked[Int(banned)] = -.infinity
            next = masked.withUnsafeBufferPointer { sampler.sample(logits: $0, history: history) }
        } else {
            next = sampler.sample(logits: logits, history: history)
        }
        if endOfGeneration.contains(next) { return .finished(.stop) }
        generated.append(next)
        history.append(next)
        switch reasoning?.record(next) ?? .answer {
        case .marker:
            // Whatever either side still holds (an unfinished character) ends with its part.
            if textMode { flushParts(emit: emit) } else { emit(.token(next)) }
            return generated.count < maxTokens ? .next(next) : .finished(.length)
        case .reasoning:
            if textMode, let piece = try thoughtText?.append(next), !piece.isEmpty {
                emit(.reasoning(piece))
            } else if !textMode {
                emit(.token(next))
            }
            return generated.count < maxTokens ? .next(next) : .finished(.length)
        case .answer:
            break
        }
        if textMode, let piece = try detokenizer?.append(next) {
            let result = stops.feed(piece)
            if !result.text.isEmpty { emit(.text(result.text)) }
            if let stop = result.stoppedAt {
                stoppedAt = stop
                return .finished(.stop)
            }
        } else if !textMode {
            emit(.token(next))
        }
        // A grammar that is complete and allows nothing more ends the answer now (no extra step
        // to sample the end token).
        if grammarMustEnd { return .finished(.stop) }
        return generated.count < maxTokens ? .next(next) : .finished(.length)
    }

    /// Samples among the tokens the grammar allows (the others' logits set to −∞ first, so the
    /// whole sampler chain sees only allowed tokens) and advances the grammar. Nil when the grammar
    /// allows nothing more (the text is complete and may not go on).
    private mutating func sampleConstrained(_ logits: UnsafeBufferPointer<Float>) -> Int32? {
        let mask: [UInt64]
        if grammar != nil {
            mask = grammar!.allowedTokens()
        } else if toolCalls != nil {
            mask = toolCalls!.allowedTokens(words: (logits.count + 63) / 64)
        } else {
            return nil
        }
        if masked.count != logits.count { masked = [Float](repeating: 0, count: logits.count) }
        var allowed = 0
        for w in mask.indices {
            let bits = mask[w]
            let base = w << 6
            let end = min(base + 64, logits.count)
            guard base < end else { break }
            if bits == 0 {
                for i in base..<end { masked[i] = -.infinity }
                continue
            }
            for i in base..<end {
                let on = bits & (1 << UInt64(i - base)) != 0
                masked[i] = on ? logits[i] : -.infinity
                if on { allowed += 1 }
            }
        }
        // A draw the constraint refuses (a rounding edge of the draw landing on a masked token, or
        // a token after which a unique item could not close) is masked too, and drawn again.
        for _ in 0..<min(allowed, Self.maxDraws) {
            let next = masked.withUnsafeBufferPointer { sampler.sample(logits: $0, history: history) }
            if accept(next) { return next }
            masked[Int(next)] = -.infinity
        }
        return nil
    }

    /// How many draws a step makes at most before it gives up (each refused one costs the
    /// constraint's check).
    static let maxDraws = 64

    /// Advances the constraint past `id`; false when it does not allow it.
    private mutating func accept(_ id: Int32) -> Bool {
        if grammar != nil { return grammar!.accept(token: id) }
        return toolCalls?.accept(token: id) ?? false
    }

    /// Whether the grammar (if any) is complete and allows nothing more: the next step would end.
    public var grammarMustEnd: Bool { grammar?.mustEnd ?? toolCalls?.mustEnd ?? false }

    /// Emits what the two detokenizers hold when the thinking opens or closes.
    private mutating func flushParts(emit: (GenerationOutput) -> Void) {
        if let rest = thoughtText?.finish(), !rest.isEmpty { emit(.reasoning(rest)) }
        if let rest = detokenizer?.finish(), !rest.isEmpty {
            let result = stops.feed(rest)
            if !result.text.isEmpty { emit(.text(result.text)) }
        }
    }

    /// Emits what the detokenizers and the stop matcher still hold (nothing after a stop string; a
    /// thought left open — the budget of `max_tokens` spent while thinking — is emitted as it is).
    public mutating func finish(emit: (GenerationOutput) -> Void) {
        guard textMode, stoppedAt == nil else { return }
        if let rest = thoughtText?.finish(), !rest.isEmpty { emit(.reasoning(rest)) }
        let rest = (detokenizer?.finish()).map { stops.feed($0).text } ?? ""
        let tail = rest + stops.flush()
        if !tail.isEmpty { emit(.text(tail)) }
    }
}
