import Foundation
import GGUF
import Model
import Sampling
import Tokenization

/// The engine's work on its thread: the scheduler's actions carried out on the model (slots rewound,
/// sequences started, refused, ended), and the steps it plans run as one forward pass each, every
/// sequence's logits turned into its next token and output. Used by one thread only
/// (`InferenceEngine`'s).
final class EngineCore {
    typealias ID = Scheduler<ContinuousClock>.ID
    typealias Sink = AsyncThrowingStream<GenerationEvent, any Error>.Continuation

    /// A sequence that holds a slot.
    private struct Live {
        let request: GenerationRequest
        var state: SequenceState
        let sink: Sink
        let slot: Int
        let reused: Int
        /// The token to evaluate next (decoding).
        var pending: Int32?
        /// Its guessing of tokens ahead (nil: speculation off).
        var speculator: Speculator?
        let admitted: ContinuousClock.Instant
        var promptDone: ContinuousClock.Instant?
        /// The prompt as the slot's cache records it (image positions as their images' keys).
        let keys: [Int32]
        /// Its images' embeddings, encoded when prefill first reaches each image.
        var embeddings: [Int: ImageEmbeddings] = [:]
    }

    /// What a step did.
    struct StepReport {
        /// Tokens generated (one per sequence that got logits).
        var generated: Int
        /// Prompt tokens evaluated.
        var prefilled: Int
        /// Tokens guessed ahead and verified.
        var drafted = 0
        /// Guessed tokens the model agreed with.
        var accepted = 0
        var seconds: Double
    }

    let loaded: LoadedModel
    let session: ModelSession
    /// The model guessing tokens ahead for `draft` requests (nil: none configured).
    let draft: DraftModel?
    /// The vision projector for prompts with images (nil: none configured).
    let vision: VisionProjector?
    let endOfGeneration: Set<Int32>
    let limits: InferenceEngine.Configuration
    private(set) var scheduler: Scheduler<ContinuousClock>
    /// Requests that arrived and wait for a slot.
    private var arrivals: [ID: (request: GenerationRequest, sink: Sink)] = [:]
    private var live: [ID: Live] = [:]
    /// What each slot's cache holds, in order.
    private var slotTokens: [[Int32]]
    private let clock = ContinuousClock()
    /// Requests that ended, any way (refused, failed, cancelled or done).
    private(set) var endedCount = 0
    /// Tokens guessed ahead and verified, and those the model agreed with, over all requests.
    private(set) var draftedCount = 0
    private(set) var acceptedCount = 0
    /// The prompt image being encoded a slice per step (one at a time: its buffers are the one encode
    /// the memory plan holds), by sequence and image index.
    private var encoding: (id: ID, index: Int, work: ImageEncoding)?
    /// Steps that ran a slice of an image's encoder and left it unfinished.
    private(set) var imageSlices = 0
    /// How many guessed rows pay in a step, from the decode steps' times.
    var budget = GuessBudget()

    init(loaded: LoadedModel, draft: DraftModel? = nil, vision: VisionProjector? = nil, configuration: InferenceEngine.Configuration) {
        self.loaded = loaded
        self.draft = draft
        self.vision = vision
        session = loaded.session
        endOfGeneration = loaded.tokenizer.map { $0.vocabulary.endOfGeneration(metadata: loaded.file.metadata) } ?? []
        limits = configuration
        scheduler = Scheduler(
            configuration: .init(
                slots: loaded.session.slots, prefillChunk: configuration.prefillChunk, maximumBatch: ModelSession.maximumBatch,
                queueLimit: configuration.queueLimit, queueWait: configuration.queueWait, requestLimit: configuration.requestLimit))
        slotTokens = Array(repeating: [], count: loaded.session.slots)
        for slot in 0..<loaded.session.slots { session.reset(slot: slot) }
    }

    var isIdle: Bool { scheduler.isIdle }
    var runningCount: Int { scheduler.runningCount }
    var waitingCount: Int { scheduler.waitingCount }

    // MARK: - Events

    /// A request arrives: checked against the model, then queued or admitted.
    func arrive(_ id: ID, _ request: GenerationRequest, sink: Sink) {
        do {
            try check(request)
        } catch {
            sink.finish(throwing: error)
            return
        }
        arrivals[id] = (request, sink)
        perform(scheduler.arrive(id, prompt: request.cacheKeys, now: clock.now))
    }

    func cancel(_ id: ID) { perform(scheduler.cancel(id)) }

    func shutdown(deadline: ContinuousClock.Instant) { perform(scheduler.shutdown(deadline: deadline)) }

    func tick() { perform(scheduler.tick(now: clock.now)) }

    /// Every running sequence fails with `error` (a thermal pause that lasted too long).
    func failRunning(_ error: EngineError) {
        for id in live.keys { end(id, throwing: error) }
    }

    private func check(_ request: GenerationRequest) throws(EngineError) {
        do {
            try request.check(contextLength: session.contextLength, vocabularySize: session.model.vocabularySize)
            try request.sampling.validate()
        } catch {
            throw EngineError(.invalidRequest, "\(error)")
        }
        try request.checkSpeculation(hasDraftModel: draft != nil)
        guard !request.images.isEmpty else { return }
        guard let vision else {
            throw EngineError(.invalidRequest, "the prompt has images and no vision model is loaded (vision_model, --mmproj)", parameter: "images")
        }
        for (index, image) in request.images.enumerated() {
            let grid: ImageTokenGrid
            do {
                grid = try vision.encoder.grid(width: image.width, height: image.height)
            } catch {
                throw EngineError(.invalidRequest, "image \(index): \(error)", parameter: "images")
            }
            guard grid == image.grid, Array(request.prompt[image.positions]) == vision.placeholders(grid) else {
                throw EngineError(.invalidRequest, "image \(index): the prompt does not hold its placeholders at \(image.positions)", parameter: "images")
            }
        }
    }

    private func perform(_ actions: [Scheduler<ContinuousClock>.Action]) {
        for action in actions {
            switch action {
            case .admit(let id, let slot, let reuse):
                admit(id, slot: slot, reuse: reuse)
            case .refuse(let id, let refusal):
                guard let arrival = arrivals.removeValue(forKey: id) else { continue }
                endedCount += 1
                arrival.sink.finish(throwing: Self.error(for: refusal, limits: limits))
            case .end(let id, .cancelled):
                end(id, throwing: nil)
            case .end(let id, .requestTimeout):
                end(id, throwing: EngineError(.requestTimeout, "the request ran longer than allowed", seconds: limits.requestLimit.seconds))
            case .end(let id, .shutdown):
                end(id, throwing: EngineError(.shuttingDown, "the daemon is stopping"))
            }
        }
    }

    static func error(for refusal: Scheduler<ContinuousClock>.Refusal, limits: InferenceEngine.Configuration) -> EngineError {
        switch refusal {
        case .busy(let queued, let limit):
            EngineError(.busy, "\(queued) requests are waiting (at most \(limit))", queued: queued, queueLimit: limit)
        case .queueTimeout:
            EngineError(.queueTimeout, "waited for the model longer than allowed", seconds: limits.queueWait.seconds)
        case .shuttingDown:
            EngineError(.shuttingDown, "the daemon is stopping")
        }
    }

    private func admit(_ id: ID, slot: Int, reuse: Int) {
        guard let arrival = arrivals.removeValue(forKey: id) else { return }
        var reused = reuse
        if session.position(slot: slot) > reuse || slotTokens[slot].count > reuse {
            if session.rewind(to: min(reuse, session.position(slot: slot)), slot: slot) {
                slotTokens[slot].removeSubrange(min(reuse, slotTokens[slot].count)...)
            } else {
                session.reset(slot: slot)
                slotTokens[slot] = []
                reused = 0
                scheduler.restart(id)
            }
        }
        let state: SequenceState
        do {
            state = try SequenceState(request: arrival.request, tokenizer: loaded.tokenizer, endOfGeneration: endOfGeneration)
        } catch {
            // Checked on arrival; kept for safety.
            arrival.sink.finish(throwing: EngineError(.invalidRequest, "\(error)"))
            perform(scheduler.finish(id, cached: slotTokens[slot], now: clock.now))
            return
        }
        let speculator = Speculator(mode: arrival.request.speculative, prompt: arrival.request.prompt, hasDraftModel: draft != nil)
        live[id] = Live(
            request: arrival.request, state: state, sink: arrival.sink, slot: slot, reused: reused, speculator: speculator,
            admitted: clock.now, keys: arrival.request.cacheKeys)
    }

    /// Ends a live sequence: with an error (nil: its caller went away, nothing more to say), its slot
    /// freed with what its cache holds.
    private func end(_ id: ID, throwing error: EngineError?) {
        guard let sequence = live.removeValue(forKey: id) else { return }
        endedCount += 1
        if let error { sequence.sink.finish(throwing: error) } else { sequence.sink.finish() }
        perform(scheduler.finish(id, cached: slotTokens[sequence.slot], now: clock.now))
    }

    /// Ends a live sequence normally: the rest of its text, then its outcome.
    private func complete(_ id: ID, reason: FinishReason) {
        guard var sequence = live.removeValue(forKey: id) else { return }
        endedCount += 1
        let sink = sequence.sink
        sequence.state.finish { sink.yield(.output($0)) }
        let now = clock.now
        let promptDone = sequence.promptDone ?? now
        var outcome = GenerationOutcome(
            finishReason: reason, promptTokens: sequence.request.prompt.count, cachedTokens: sequence.reused,
            generated: sequence.state.generated, promptSeconds: sequence.admitted.duration(to: promptDone).seconds,
            generationSeconds: promptDone.duration(to: now).seconds, stoppedAt: sequence.state.stoppedAt,
            draftedTokens: sequence.speculator?.drafted ?? 0, acceptedTokens: sequence.speculator?.accepted ?? 0)
        outcome.reasoningTokens = sequence.state.reasoningTokens
        sink.yield(.finished(outcome))
        sink.finish()
        perform(scheduler.finish(id, cached: slotTokens[sequence.slot], now: now))
    }

    // MARK: - Steps

    /// Runs the next step the scheduler plans. A decoding sequence that speculates carries its
    /// guesses into the step (within the batch's room, its own limits and what pays: `GuessBudget`);
    /// the step's logits for them are verified in order and the slot's cache forgets the rejected
    /// ones.
    ///
    /// - Returns: What it did, or nil when nothing runs.
    func step() -> StepReport? {
        guard let plan = scheduler.nextStep() else { return nil }
        let start = clock.now
        var entries: [ModelSession.Entry] = []
        /// What each entry leaves in its slot's cache, as `slotTokens` records it.
        var recorded: [[Int32]] = []
        /// Sequences that get logits, in the order of their rows: their guesses (one row each, after
        /// the row of the token before them) and where those came from.
        var withLogits: [(id: ID, drafted: [Int32], source: Speculator.Source, untaken: Int32?)] = []
        let prefilling = plan.prefill.reduce(0) { $0 + $1.range.count }
        // Each decoding sequence that speculates proposes its guess (within its own limits and the
        // batch's room); the budget then keeps the guessed tokens that pay for their rows on this
        // machine (see `GuessBudget`), and only those are made (a draft model runs for them only).
        let room = ModelSession.maximumBatch - prefilling - plan.decode.count
        var proposals: [Speculator.Guess] = []
        for id in plan.decode {
            guard var sequence = live[id], sequence.pending != nil, sequence.speculator != nil, room > 0 else {
                proposals.append(.none)
                continue
            }
            let fits = session.contextLength - session.position(slot: sequence.slot) - 1
            let limit = min(room, sequence.state.remaining - 1, fits)
            proposals.append(sequence.speculator!.propose(generated: sequence.state.generated, limit: limit))
            live[id] = sequence
        }
        let candidates = zip(plan.decode, proposals).map { id, proposal in
            GuessBudget.Candidate(length: proposal.count, acceptance: live[id]?.speculator?.acceptance(of: proposal) ?? 0)
        }
        let lengths = budget.lengths(for: candidates, decoding: plan.decode.count, room: room)
        for (i, id) in plan.decode.enumerated() {
            guard let sequence = live[id], let token = sequence.pending else { continue }
            let (drafted, source) = Speculator.tokens(
                of: proposals[i], count: lengths[i], prompt: sequence.request.prompt, generated: sequence.state.generated, draft: draft,
                slot: sequence.slot)
            entries.append(.init(slot: sequence.slot, tokens: [token] + drafted, logits: drafted.isEmpty ? .last : .all))
            recorded.append([token] + drafted)
            // A guess held back whole: a lookup one's first token is checked against the step's draw;
            // a draft model's (never made) lets its acceptance drift back.
            var untaken: Int32?
            if lengths[i] == 0 {
                switch proposals[i] {
                case .tokens(let tokens): untaken = tokens.first
                case .draft: live[id]?.speculator?.recordDraftHeldBack()
                case .none: break
                }
            }
            withLogits.append((id, drafted, source, untaken))
        }
        if let current = encoding, live[current.id] == nil { encoding = nil }  // its sequence ended
        // With other sequences in the step, an image's encoder runs a slice per step and the prompt
        // stops before the image until it is encoded; alone, it encodes in one go.
        let shared = !plan.decode.isEmpty || plan.prefill.count > 1
        var prefilled = 0
        for chunk in plan.prefill {
            guard live[chunk.id] != nil else { continue }
            var range = chunk.range
            let images: [ModelSession.PlacedImage]
            do {
                let end = try encodeImages(chunk.id, reaching: range, sliced: shared)
                if end < range.upperBound {
                    scheduler.rewind(chunk.id, to: end)
                    range = range.lowerBound..<end
                }
                images = range.isEmpty ? [] : try placedImages(chunk.id, range: range)
            } catch {
                end(chunk.id, throwing: EngineError(.evaluationFailed, "encoding an image: \(error)"))
                continue
            }
            guard !range.isEmpty, let sequence = live[chunk.id] else { continue }
            let isLast = chunk.isLast && range == chunk.range
            entries.append(.init(slot: sequence.slot, tokens: sequence.request.prompt[range], logits: isLast ? .last : .none, images: images))
            recorded.append(Array(sequence.keys[range]))
            prefilled += range.count
            if isLast { withLogits.append((chunk.id, [], .lookup, nil)) }
        }
        guard !entries.isEmpty else {
            // Only an image's encoder ran (its prompt waits for it).
            return StepReport(generated: 0, prefilled: 0, seconds: start.duration(to: clock.now).seconds)
        }
        let logits: [Float]
        do {
            logits = try session.evaluate(batch: entries)
        } catch {
            // The caches of the step's slots are in an unknown state: forget them.
            for entry in entries {
                session.reset(slot: entry.slot)
                slotTokens[entry.slot] = []
            }
            let ids = plan.decode + plan.prefill.map(\.id)
            for id in ids { end(id, throwing: EngineError(.evaluationFailed, "\(error)")) }
            return StepReport(generated: 0, prefilled: 0, seconds: start.duration(to: clock.now).seconds)
        }
        for (entry, tokens) in zip(entries, recorded) { slotTokens[entry.slot] += tokens }
        let now = clock.now
        let vocabulary = session.model.vocabularySize
        var report = StepReport(generated: 0, prefilled: prefilled, seconds: 0)
        var row = 0
        for (id, drafted, source, untaken) in withLogits {
            let rows = drafted.count + 1
            defer { row += rows }
            guard var sequence = live[id] else { continue }
            if sequence.promptDone == nil { sequence.promptDone = now }
            let sink = sequence.sink
            let result: SequenceState.Step
            let accepted: Int
            let before = sequence.state.generated.count
            do {
                (result, accepted) = try logits.withUnsafeBufferPointer { all in
                    try sequence.state.step(
                        rows: UnsafeBufferPointer(rebasing: all[(row * vocabulary)..<((row + rows) * vocabulary)]), vocabulary: vocabulary,
                        drafted: drafted
                    ) { sink.yield(.output($0)) }
                }
            } catch {
                live[id] = sequence
                end(id, throwing: EngineError(.evaluationFailed, "\(error)"))
                continue
            }
            report.generated += sequence.state.generated.count - before
            if !drafted.isEmpty {
                sequence.speculator?.record(source, drafted: drafted.count, accepted: accepted)
                report.drafted += drafted.count
                report.accepted += accepted
                // The cache keeps the token before the guesses and the accepted ones.
                let rejected = drafted.count - accepted
                if rejected > 0 {
                    let slot = sequence.slot
                    guard session.rewind(to: session.position(slot: slot) - rejected, slot: slot) else {
                        // Cannot happen (a ring holds one batch beyond its window); kept for safety.
                        session.reset(slot: slot)
                        slotTokens[slot] = []
                        live[id] = sequence
                        end(id, throwing: EngineError(.evaluationFailed, "the cache could not forget rejected guesses"))
                        continue
                    }
                    slotTokens[slot].removeLast(rejected)
                }
            }
            switch result {
            case .next(let token):
                if let untaken { sequence.speculator?.recordUntaken(hit: untaken == token) }
                sequence.pending = token
                live[id] = sequence
            case .finished(let reason):
                live[id] = sequence
                complete(id, reason: reason)
            }
        }
        draftedCount += report.drafted
        acceptedCount += report.accepted
        report.seconds = start.duration(to: clock.now).seconds
        if plan.prefill.isEmpty, entries.count == plan.decode.count {
            // A decode step (no prompt rows, no image encoder): what its rows cost.
            budget.observe(rows: entries.reduce(0) { $0 + $1.tokens.count }, seconds: report.seconds)
        }
        return report
    }
}

extension EngineCore {
    /// Encodes the images of `id`'s prompt that `range` reaches and that are not encoded yet, in
    /// position order, one image at a time. Sliced: at most about `limits.imageSlice` of encoder work
    /// (whole layers, at least one) per call, resumed at the next step.
    ///
    /// - Returns: Where this step's prompt chunk must stop: `range.upperBound`, or the first position
    ///   of an image not encoded yet (its own encoding unfinished, or another image's in progress).
    private func encodeImages(_ id: ID, reaching range: Range<Int>, sliced: Bool) throws -> Int {
        guard var sequence = live[id], !sequence.request.images.isEmpty, let vision else { return range.upperBound }
        defer { live[id] = sequence }
        let pending = sequence.request.images.enumerated()
            .filter { $0.element.positions.overlaps(range) && sequence.embeddings[$0.offset] == nil }
            .sorted { $0.element.position < $1.element.position }
        for (index, image) in pending {
            let stop = max(range.lowerBound, image.positions.lowerBound)
            if let current = encoding, current.id != id || current.index != index { return stop }
            let work = try encoding?.work ?? vision.start(image)
            encoding = (id, index, work)
            let began = clock.now
            repeat {
                work.advance(layers: 1)
            } while !work.isReadyToFinish && (!sliced || began.duration(to: clock.now) < limits.imageSlice)
            guard work.isReadyToFinish else {
                imageSlices += 1
                return stop
            }
            sequence.embeddings[index] = work.finish()
            encoding = nil
        }
        return range.upperBound
    }

    /// The images of `id`'s prompt that `range` overlaps, placed, each encoded the first time.
    private func placedImages(_ id: ID, range: Range<Int>) throws -> [ModelSession.PlacedImage] {
        guard var sequence = live[id], !sequence.request.images.isEmpty, let vision else { return [] }
        defer { live[id] = sequence }
        return try vision.placed(sequence.request.images, overlapping: range, encoded: &sequence.embeddings)
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
