@testable import Engine
import Foundation
import GGUF
import Sampling
import TestSupport
import Testing
import Tokenization

/// Speculative decoding: prompt lookup follows a copy and finds it again where it broke,
/// the guess length adapts and pauses, verification accepts exactly the guesses the sampler would have
/// drawn, and on real files (tiny fixtures, a sliding-window model whose rings wrap, and the real
/// models when present) the text with speculation is the text without it, greedy and seeded, alone
/// and batched in the engine.
@Suite struct SpeculationTests {
    // MARK: - Prompt lookup

    @Test func proposesWhatFollowedTheLatestEarlierOccurrence() {
        var index = NGramIndex()
        index.append(contentsOf: [1, 2, 3, 4, 5, 9, 2, 3] as [Int32])
        // "2 3" ended at position 2: 4 5 9 followed it.
        #expect(index.propose(limit: 3) == [4, 5, 9])
        #expect(index.propose(limit: 10) == [4, 5, 9, 2, 3])
        index.append(contentsOf: [7] as [Int32])
        // "3 7" and "7" never occurred before.
        #expect(index.propose(limit: 4) == [])
        index.append(contentsOf: [1, 2, 3] as [Int32])
        // "2 3" now occurred twice before (positions 2 and 7): the latest wins, and the longest match
        // ("1 2 3", at 2 only) comes before it.
        #expect(index.propose(limit: 2) == [4, 5])
    }

    @Test func prefersTheLongestMatchOverTheLatest() {
        var index = NGramIndex(orders: [3, 2])
        // "5 6" occurs at 1 (after 4) and at 6 (after 8); the ending "4 5 6" matches only the first.
        index.append(contentsOf: [4, 5, 6, 10, 11, 8, 5, 6, 12, 4, 5, 6] as [Int32])
        #expect(index.propose(limit: 2) == [10, 11])
        var short = NGramIndex(orders: [2])
        short.append(contentsOf: [4, 5, 6, 10, 11, 8, 5, 6, 12, 4, 5, 6] as [Int32])
        #expect(short.propose(limit: 2) == [12, 4])
    }

    @Test func aRepeatingRunProposesItsContinuation() {
        var index = NGramIndex()
        index.append(contentsOf: [7, 7, 7, 7] as [Int32])
        #expect(index.propose(limit: 5) == [7])
        var none = NGramIndex()
        none.append(contentsOf: [3] as [Int32])
        #expect(none.propose(limit: 5) == [])
        #expect(none.propose(limit: 0) == [])
    }

    @Test func followsACopyThroughNGramsThatRecurElsewhere() {
        // The prompt: "a x b x c x d", where x (9) recurs. The output copies it from its start; at "x"
        // the latest occurrence of the ending ("d" follows the last x) would be wrong, the copy is not.
        var index = NGramIndex(orders: [2, 1])
        let source: [Int32] = [1, 9, 2, 9, 3, 9, 4, 0]
        index.append(contentsOf: source)
        index.append(contentsOf: [1] as [Int32])
        #expect(index.propose(limit: 2) == [9, 2])
        // The sequence takes "9" (as guessed): the copy goes on from its place, not from the latest 9.
        index.append(contentsOf: [9] as [Int32])
        #expect(index.propose(limit: 3) == [2, 9, 3])
        index.append(contentsOf: [2, 9] as [Int32])
        #expect(index.propose(limit: 1) == [3])
    }

    @Test func aBrokenCopyIsFoundAgainAfterWhereItBroke() {
        // The prompt has "5 6" twice: after 1 and after 4. The output copies "1 5 6 2 3" from the start,
        // writes 8 where the source has 4 (an edit), then "5 6": the copy broke at the 4, and the first
        // "5 6" after it is the prompt's second one, not the latest (the output's own "5 6 2 3").
        let prompt: [Int32] = [1, 5, 6, 2, 3, 4, 5, 6, 7, 0]
        var index = NGramIndex(orders: [2, 1])
        index.append(contentsOf: prompt + [1])
        #expect(index.propose(limit: 3) == [5, 6, 2])
        index.append(contentsOf: [5, 6, 2, 3] as [Int32])
        #expect(index.propose(limit: 2) == [4, 5])
        index.append(contentsOf: [8] as [Int32])
        #expect(index.propose(limit: 2) == [])  // "3 8" and "8" never occurred
        index.append(contentsOf: [5, 6] as [Int32])
        #expect(index.propose(limit: 2) == [7, 0])
        // With no copy broken before, the latest occurrence wins.
        var fresh = NGramIndex(orders: [2, 1])
        fresh.append(contentsOf: prompt + [1, 5, 6, 2, 3, 9, 5, 6])
        #expect(fresh.propose(limit: 2) == [2, 3])
    }

    /// Random sequences over a small alphabet (the sequence fed a few tokens at a time, as steps do):
    /// every proposal is the one a direct reading of the rules gives (follow the copy; after a break,
    /// the longest matching ending's first occurrence at or after the break, else its latest).
    @Test func proposalsMatchABruteForceSearch() {
        var random = SeededRandom(seed: 5)
        for _ in 0..<50 {
            var index = NGramIndex()
            var reference = BruteForceLookup(orders: [4, 3, 2])
            var tokens: [Int32] = []
            while tokens.count < 200 {
                let proposal = index.propose(limit: 4)
                #expect(proposal == reference.propose(limit: 4))
                // The next tokens: the proposal's first few (a guess accepted in part), then others.
                var more = Array(proposal.prefix(Int.random(in: 0...proposal.count, using: &random)))
                for _ in 0..<Int.random(in: 1...2, using: &random) { more.append(Int32.random(in: 0..<6, using: &random)) }
                tokens += more
                index.append(contentsOf: more)
                reference.append(more)
            }
        }
    }

    /// The rules of `NGramIndex`, read directly: a list scan instead of hashes.
    struct BruteForceLookup {
        let orders: [Int]
        var tokens: [Int32] = []
        var cursor: Int?
        var anchor: Int?

        mutating func append(_ more: [Int32]) {
            for token in more {
                if let next = cursor {
                    if next < tokens.count, tokens[next] == token { cursor = next + 1 } else { anchor = next; cursor = nil }
                }
                tokens.append(token)
            }
        }

        mutating func propose(limit: Int) -> [Int32] {
            guard tokens.count >= 2 else { return [] }
            let end = tokens.count - 1
            if let next = cursor, next <= end { return Array(tokens[next..<min(tokens.count, next + limit)]) }
            for order in orders where order <= end {
                let suffix = Array(tokens[(end - order + 1)...end])
                let found = (order - 1..<end).filter { Array(tokens[($0 - order + 1)...$0]) == suffix }
                guard let latest = found.last else { continue }
                let position = anchor.flatMap { anchor in found.first { $0 + 1 >= anchor } } ?? latest
                cursor = position + 1
                return Array(tokens[(position + 1)..<min(tokens.count, position + 1 + limit)])
            }
            cursor = nil
            return []
        }
    }

    // MARK: - Adapting

    @Test func theGuessLengthGrowsWithAcceptanceAndPausesAfterMisses() throws {
        // The output so far ("3 4") copies the prompt's start: 58 tokens to guess from.
        var speculator = try #require(Speculator(mode: .ngram, prompt: Array(3..<63), hasDraftModel: false))
        func length(limit: Int = 100) -> Int {
            guard case .tokens(let tokens) = speculator.propose(generated: [3, 4], limit: limit) else { return 0 }
            return tokens.count
        }
        // Starts at 4, doubles on whole acceptance up to the maximum.
        #expect(length() == 4)
        speculator.record(.lookup, drafted: 4, accepted: 4)
        #expect(length() == 8)
        speculator.record(.lookup, drafted: 8, accepted: 8)
        speculator.record(.lookup, drafted: 16, accepted: 16)
        #expect(length() == GuessControl.maximumDraft)
        #expect(length(limit: 3) == 3)
        // A partial acceptance: one more than the accepted run.
        speculator.record(.lookup, drafted: 16, accepted: 2)
        #expect(length() == 3)
        // Misses in a row: length 1, then pauses of 0, 1, 2, 4 … steps.
        var pauses: [Int] = []
        for _ in 0..<5 {
            speculator.record(.lookup, drafted: 1, accepted: 0)
            var skipped = 0
            while length() == 0 { skipped += 1 }
            pauses.append(skipped)
        }
        #expect(pauses == [0, 1, 2, 4, 8])
        // Any acceptance ends the backoff.
        speculator.record(.lookup, drafted: 1, accepted: 1)
        speculator.record(.lookup, drafted: 2, accepted: 0)
        #expect(length() > 0)
        #expect(speculator.drafted == 4 + 8 + 16 + 16 + 5 + 1 + 2)
        #expect(speculator.accepted == 4 + 8 + 16 + 2 + 1)
    }

    @Test func modesChooseTheirSources() throws {
        #expect(Speculator(mode: .off, prompt: [1, 2], hasDraftModel: true) == nil)
        #expect(Speculator(mode: .draft, prompt: [1, 2], hasDraftModel: false) == nil)
        // Lookup only: nothing to copy, no guess.
        var lookup = try #require(Speculator(mode: .ngram, prompt: [1, 2, 3], hasDraftModel: true))
        #expect(lookup.propose(generated: [9], limit: 8) == .none)
        // The draft model only.
        var draft = try #require(Speculator(mode: .draft, prompt: [1, 2, 3, 1, 2], hasDraftModel: true))
        #expect(draft.propose(generated: [3], limit: 8) == .draft(4))
        // auto: lookup when it finds something, else the draft model; each paused on its own.
        var auto = try #require(Speculator(mode: .auto, prompt: [1, 2, 3, 1, 2], hasDraftModel: true))
        #expect(auto.propose(generated: [3], limit: 8) == .tokens([1, 2, 3]))
        #expect(auto.propose(generated: [3, 9], limit: 8) == .draft(4))
        auto.record(.draft, drafted: 4, accepted: 0)
        auto.record(.draft, drafted: 1, accepted: 0)
        #expect(auto.propose(generated: [3, 9, 8], limit: 8) == .none)
        #expect(auto.propose(generated: [3, 9, 8, 1, 2], limit: 8) == .tokens([3, 9, 8, 1]))
    }

    // MARK: - Verification

    /// Logits whose greedy choice is `winners[row]`.
    static func rows(_ winners: [Int32], vocabulary: Int) -> [Float] {
        var logits = [Float](repeating: 0, count: winners.count * vocabulary)
        for (row, winner) in winners.enumerated() { logits[row * vocabulary + Int(winner)] = 5 }
        return logits
    }

    static func state(maxTokens: TokenCount = 100) throws -> SequenceState {
        try SequenceState(
            request: GenerationRequest(prompt: [1, 2], sampling: .greedy, maxTokens: maxTokens), tokenizer: nil,
            endOfGeneration: [0], emitIDs: true)
    }

    @Test func verificationKeepsTheGuessesTheSamplerAgreesWith() throws {
        var state = try Self.state()
        let logits = Self.rows([7, 8, 9, 4], vocabulary: 16)
        var emitted: [Int32] = []
        let (step, accepted) = try logits.withUnsafeBufferPointer {
            try state.step(rows: $0, vocabulary: 16, drafted: [7, 8, 3]) { if case .token(let t) = $0 { emitted.append(t) } }
        }
        // 7 and 8 agree; at the third row the sampler picks 9, not the guessed 3; row 4 is unused.
        #expect(accepted == 2)
        #expect(step == .next(9))
        #expect(emitted == [7, 8, 9])
        #expect(state.generated == [7, 8, 9])
    }

    @Test func aWholeGuessGivesOneTokenMore() throws {
        var state = try Self.state()
        let logits = Self.rows([7, 8, 9], vocabulary: 16)
        let (step, accepted) = try logits.withUnsafeBufferPointer { try state.step(rows: $0, vocabulary: 16, drafted: [7, 8]) { _ in } }
        #expect(accepted == 2)
        #expect(step == .next(9))
    }

    @Test func verificationStopsAtTheEndTokenAndTheLimit() throws {
        var ending = try Self.state()
        let logits = Self.rows([7, 0, 9], vocabulary: 16)
        let (step, accepted) = try logits.withUnsafeBufferPointer { try ending.step(rows: $0, vocabulary: 16, drafted: [7, 0]) { _ in } }
        #expect(step == .finished(.stop))
        #expect(accepted == 1)
        #expect(ending.generated == [7])
        var limited = try Self.state(maxTokens: 2)
        let (limitStep, limitAccepted) = try Self.rows([7, 8, 9], vocabulary: 16).withUnsafeBufferPointer {
            try limited.step(rows: $0, vocabulary: 16, drafted: [7, 8]) { _ in }
        }
        #expect(limitStep == .finished(.length))
        #expect(limitAccepted == 1)
        #expect(limited.generated == [7, 8])
    }

    // MARK: - Real files

    /// A prompt that repeats itself, so prompt lookup has something to copy.
    static func repetitivePrompt(vocabulary: Int, length: Int = 60, seed: UInt64 = 3) -> [Int32] {
        var random = SeededRandom(seed: seed)
        let phrase = (0..<12).map { _ in Int32.random(in: 3..<Int32(min(vocabulary, 200)), using: &random) }
        var prompt: [Int32] = [1]
        while prompt.count < length { prompt += phrase }
        return Array(prompt.prefix(length))
    }

    static func generate(_ path: String, _ request: GenerationRequest, context: Int = 256) throws -> (GenerationOutcome, String) {
        let loaded = try LoadedModel(modelPath: path, contextLength: context, threads: 2, environment: [:])
        var text = ""
        let outcome = try InferenceContext(loaded: loaded).generate(request) { if case .text(let t) = $0 { text += t } }
        return (outcome, text)
    }

    static func request(_ prompt: [Int32], seed: UInt64?, maxTokens: TokenCount, speculative: SpeculativeMode) -> GenerationRequest {
        let sampling = seed.map { SamplingParameters(temperature: 0.9, topK: 40, topP: 0.95, minP: 0.02, seed: $0) } ?? .greedy
        var request = GenerationRequest(prompt: prompt, sampling: sampling, maxTokens: maxTokens)
        request.speculative = speculative
        return request
    }

    /// Every tiny fixture type (their random weights loop, so guesses are often right), greedy and
    /// seeded: the same ids and text with and without prompt lookup, and guesses were made.
    @Test(arguments: ["tiny-llama-Q8_0", "tiny-llama-Q4_0", "tiny-llama-Q4_K_M", "tiny-llama-Q5_0", "tiny-llama-Q6_K"])
    func tinyModelsGiveTheSameTextWithGuesses(_ name: String) throws {
        let path = Fixtures.path("models/\(name).gguf")
        let loaded = try LoadedModel(modelPath: path, contextLength: 256, threads: 1, environment: [:])
        let prompt = Self.repetitivePrompt(vocabulary: loaded.vocabularySize)
        var drafted = 0
        var accepted = 0
        for seed in [nil, 11, 12] as [UInt64?] {
            let (plain, plainText) = try Self.generate(path, Self.request(prompt, seed: seed, maxTokens: 120, speculative: .off))
            let (guessed, guessedText) = try Self.generate(path, Self.request(prompt, seed: seed, maxTokens: 120, speculative: .ngram))
            #expect(guessed.generated == plain.generated, "\(name) seed \(String(describing: seed))")
            #expect(guessedText == plainText)
            #expect(guessed.finishReason == plain.finishReason)
            #expect(plain.draftedTokens == 0)
            drafted += guessed.draftedTokens
            accepted += guessed.acceptedTokens
        }
        #expect(drafted > 0)
        #expect(accepted > 0)
        #expect(accepted <= drafted)
    }

    /// A tiny gemma3 file with a window of 4 on 5 of 6 layers, written to disk: 600 prompt tokens and
    /// 300 generated wrap its 576-cell rings, and every rejected guess is taken back out of them.
    @Test func slidingWindowRingsForgetRejectedGuesses() throws {
        let shape = TinyGGUF.Shape(layers: 6)
        var writer = try TinyGGUF.model(architecture: "gemma3", shape: shape, seed: 7)
        writer.add("gemma3.attention.sliding_window", .uint32(4))
        writer.add("gemma3.attention.sliding_window_pattern", .uint32(6))
        var random = SeededRandom(seed: 11)
        func norm(_ name: String, _ count: Int) throws {
            let data = (0..<count).flatMap { _ -> [UInt8] in
                withUnsafeBytes(of: Float.random(in: 0.5...1.5, using: &random).bitPattern.littleEndian) { Array($0) }
            }
            try writer.addTensor(name: name, dimensions: [count], type: .f32, data: data)
        }
        for layer in 0..<shape.layers {
            try norm("blk.\(layer).attn_q_norm.weight", shape.headDimension)
            try norm("blk.\(layer).attn_k_norm.weight", shape.headDimension)
            try norm("blk.\(layer).post_attention_norm.weight", shape.embedding)
            try norm("blk.\(layer).post_ffw_norm.weight", shape.embedding)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("brise-spec-gemma-\(getpid()).gguf").path
        try Data(try writer.serialized()).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let prompt = Self.repetitivePrompt(vocabulary: shape.vocabulary, length: 600, seed: 9)
        for seed in [nil, 21] as [UInt64?] {
            let (plain, _) = try Self.generate(path, Self.request(prompt, seed: seed, maxTokens: 300, speculative: .off), context: 1024)
            let (guessed, _) = try Self.generate(path, Self.request(prompt, seed: seed, maxTokens: 300, speculative: .ngram), context: 1024)
            #expect(guessed.generated == plain.generated)
            #expect(guessed.draftedTokens > guessed.acceptedTokens, "some guesses were rejected (and rolled back)")
        }
    }

    /// The engine: four streams at once, greedy and seeded, three of them guessing where the budget
    /// finds it pays (`batchedStepsCarryGuessesThatPay` drives the same with a fixed cost), give each
    /// the ids it gets alone without guesses.
    @Test func batchedStreamsWithGuessesMatchPlainRunsAlone() async throws {
        let path = InferenceEngineTests.model
        let vocabulary = try LoadedModel(modelPath: path, contextLength: 64, threads: 1, environment: [:]).vocabularySize
        let requests = (0..<4).map { i in
            Self.request(
                Self.repetitivePrompt(vocabulary: vocabulary, length: 40 + 7 * i, seed: UInt64(30 + i)), seed: i % 2 == 0 ? nil : UInt64(50 + i),
                maxTokens: TokenCount(integerLiteral: 90 - 10 * i), speculative: i < 3 ? .ngram : .off)
        }
        var alone: [[Int32]] = []
        for var request in requests {
            request.speculative = .off
            alone.append(try Self.generate(path, request).0.generated)
        }
        let together = try await InferenceEngineTests.withEngine(slots: 4) { engine in
            try await withThrowingTaskGroup(of: (Int, GenerationOutcome?).self) { group in
                for (i, request) in requests.enumerated() {
                    group.addTask { (i, try await InferenceEngineTests.collect(engine.submit(request)).1) }
                }
                var results = [GenerationOutcome?](repeating: nil, count: requests.count)
                for try await (i, outcome) in group { results[i] = outcome }
                return (results, engine.status)
            }
        }
        let (outcomes, status) = together
        for i in requests.indices { #expect(outcomes[i]?.generated == alone[i], "stream \(i)") }
        let drafted = outcomes.compactMap { $0?.draftedTokens }.reduce(0, +)
        let accepted = outcomes.compactMap { $0?.acceptedTokens }.reduce(0, +)
        #expect(outcomes[3]?.draftedTokens == 0)
        #expect(status.draftedTokens == drafted)
        #expect(status.acceptedTokens == accepted)
    }

    /// Four requests stepped through the engine's core with the guess budget held at a fitted cost
    /// before each step: the ids of each stream, and its guesses (drafted, accepted).
    static func stepped(_ requests: [GenerationRequest], budget: GuessBudget) async throws -> [(ids: [Int32], drafted: Int, accepted: Int)] {
        let loaded = try LoadedModel(modelPath: InferenceEngineTests.model, contextLength: 256, threads: 2, slots: 4, environment: [:])
        let core = EngineCore(loaded: loaded, configuration: .init())
        var streams: [AsyncThrowingStream<GenerationEvent, any Error>] = []
        for (i, request) in requests.enumerated() {
            let (stream, sink) = AsyncThrowingStream<GenerationEvent, any Error>.makeStream()
            core.arrive(UInt64(i), request, sink: sink)
            streams.append(stream)
        }
        var steps = 0
        while !core.isIdle, steps < 1000 {
            core.budget = budget
            core.tick()
            _ = core.step()
            steps += 1
        }
        #expect(core.isIdle)
        var results: [(ids: [Int32], drafted: Int, accepted: Int)] = []
        for stream in streams {
            // Finished and buffered: the loop ends at once.
            let outcome = try await InferenceEngineTests.collect(stream).1
            results.append((outcome?.generated ?? [], outcome?.draftedTokens ?? -1, outcome?.acceptedTokens ?? -1))
        }
        return results
    }

    /// Several sequences guess in the same step when rows are cheap (a memory-bound fit), and none
    /// guess when the step costs only its rows (a compute-bound fit with no base: a guessed row, kept
    /// at best, never yields more than its share); either way every stream gets the ids it gets alone
    /// without guesses.
    @Test func batchedStepsCarryGuessesThatPay() async throws {
        let vocabulary = try LoadedModel(modelPath: InferenceEngineTests.model, contextLength: 64, threads: 1, environment: [:]).vocabularySize
        let requests = (0..<4).map { i in
            Self.request(
                Self.repetitivePrompt(vocabulary: vocabulary, length: 40 + 7 * i, seed: UInt64(30 + i)), seed: i % 2 == 0 ? nil : UInt64(50 + i),
                maxTokens: TokenCount(integerLiteral: 60), speculative: .ngram)
        }
        var alone: [[Int32]] = []
        for var request in requests {
            request.speculative = .off
            alone.append(try Self.generate(InferenceEngineTests.model, request).0.generated)
        }
        var cheap = GuessBudget(), dear = GuessBudget()
        for rows in [1, 4, 9, 17, 2] {
            cheap.observe(rows: rows, seconds: 0.050 + 0.001 * Double(rows))
            dear.observe(rows: rows, seconds: 0.010 * Double(rows) - 0.001)  // no base: a guess never yields its row's share
        }
        let guessing = try await Self.stepped(requests, budget: cheap)
        let plain = try await Self.stepped(requests, budget: dear)
        for i in requests.indices {
            #expect(guessing[i].ids == alone[i], "stream \(i), cheap rows")
            #expect(plain[i].ids == alone[i], "stream \(i), dear rows")
            // The four end together (same length, same start): every guess was made in a shared step.
            #expect(guessing[i].drafted > 0, "stream \(i) guessed")
            #expect(plain[i].drafted == 0, "stream \(i) did not guess")
        }
    }

    /// `draft` without a draft model is refused, in the engine and the CLI's loop.
    @Test func draftWithoutADraftModelIsRefused() async throws {
        let request = Self.request([1, 5, 6], seed: nil, maxTokens: 4, speculative: .draft)
        #expect(throws: EngineError.self) { try Self.generate(InferenceEngineTests.model, request) }
        _ = try await InferenceEngineTests.withEngine(slots: 1) { engine in
            await #expect(throws: EngineError.self) { try await InferenceEngineTests.collect(engine.submit(request)) }
        }
    }

    /// The real models, when present: a prompt that asks to repeat a passage, greedy and seeded.
    @Test func realModelsGiveTheSameTextWithGuesses() throws {
        for path in Fixtures.presentRealModels {
            let loaded = try LoadedModel(modelPath: path, contextLength: 512, threads: 2, environment: [:])
            guard let tokenizer = loaded.tokenizer else { continue }
            let passage = "def area(width, height):\n    return width * height\n\n\ndef perimeter(width, height):\n    return 2 * (width + height)\n"
            let prompt = tokenizer.encode("Copy this code exactly.\n\n" + passage + "\nCopy:\n", addSpecial: true)
            var accepted = 0
            for seed in [nil, 3, 4] as [UInt64?] {
                let (plain, plainText) = try Self.generate(path, Self.request(prompt, seed: seed, maxTokens: 48, speculative: .off), context: 512)
                let (guessed, guessedText) = try Self.generate(
                    path, Self.request(prompt, seed: seed, maxTokens: 48, speculative: .ngram), context: 512)
                #expect(guessed.generated == plain.generated, "\(path) seed \(String(describing: seed))")
                #expect(guessedText == plainText)
                accepted += guessed.acceptedTokens
            }
            #expect(accepted > 0, "\(path)")
        }
    }

    /// Seeded sampling on 20 prompts per real model (each asks to copy or edit a different passage, so
    /// guesses are made and some are rejected by the draw): the same ids and text with and without
    /// prompt lookup, prompt by prompt.
    @Test func seededSamplingIsIdenticalOnTwentyPrompts() throws {
        let subjects = ["area", "volume", "parse", "render", "merge", "split", "score", "clamp", "encode", "decode"]
        for path in Fixtures.presentRealModels {
            let loaded = try LoadedModel(modelPath: path, contextLength: 384, threads: 2, environment: [:])
            guard let tokenizer = loaded.tokenizer else { continue }
            let context = InferenceContext(loaded: loaded)
            var drafted = 0
            var accepted = 0
            for i in 0..<20 {
                let name = subjects[i % subjects.count]
                let passage = "def \(name)(a, b):\n    total = a + b * \(i + 2)\n    return total\n\n\ndef \(name)_all(items):\n    return [\(name)(x, \(i)) for x in items]\n"
                let ask = i < 10 ? "Copy this code exactly." : "Rename `\(name)` to `\(name)_v2` in this code."
                let prompt = tokenizer.encode(ask + "\n\n" + passage + "\nAnswer:\n", addSpecial: true)
                let seed = UInt64(100 + i)
                var texts: [String] = []
                var ids: [[Int32]] = []
                for mode in [SpeculativeMode.off, .ngram] {
                    var text = ""
                    let outcome = try context.generate(Self.request(prompt, seed: seed, maxTokens: 28, speculative: mode)) {
                        if case .text(let t) = $0 { text += t }
                    }
                    texts.append(text)
                    ids.append(outcome.generated)
                    drafted += outcome.draftedTokens
                    accepted += outcome.acceptedTokens
                }
                #expect(ids[1] == ids[0], "\(path) prompt \(i) seed \(seed)")
                #expect(texts[1] == texts[0])
            }
            // Guesses were made, and the draw rejected some of them.
            #expect(accepted > 0 && accepted < drafted, "\(path): \(accepted) of \(drafted)")
        }
    }

    // MARK: - Draft model

    static let target = Fixtures.path("models/tiny-llama-Q8_0.gguf")
    static let draftFile = Fixtures.path("models/tiny-llama-Q4_0.gguf")

    /// A lower-bit copy drafting for the tiny Q8_0 file, greedy and seeded, `draft` and `auto`: the
    /// same ids as plain decoding, and the draft's guesses were made and partly right.
    @Test func aDraftModelGivesTheSameText() throws {
        let loaded = try LoadedModel(modelPath: Self.target, contextLength: 256, threads: 2, environment: [:])
        let draft = try DraftModel(path: Self.draftFile, target: loaded, environment: [:])
        let context = InferenceContext(loaded: loaded, draft: draft)
        let prompt: [Int32] = [1, 40, 41, 42, 90, 12, 7]
        var drafted = 0
        var accepted = 0
        for seed in [nil, 5, 6] as [UInt64?] {
            let plain = try context.generate(Self.request(prompt, seed: seed, maxTokens: 80, speculative: .off)) { _ in }
            for mode in [SpeculativeMode.draft, .auto] {
                let guessed = try context.generate(Self.request(prompt, seed: seed, maxTokens: 80, speculative: mode)) { _ in }
                #expect(guessed.generated == plain.generated, "\(mode) seed \(String(describing: seed))")
                drafted += guessed.draftedTokens
                accepted += guessed.acceptedTokens
            }
        }
        #expect(drafted > 0 && accepted > 0 && accepted <= drafted, "\(accepted) of \(drafted)")
    }

    /// The engine with a draft model: three streams guessing from it beside a plain one (the longest
    /// guesses once it decodes alone), each with the ids it gets alone.
    @Test func batchedStreamsWithADraftModelMatchPlainRunsAlone() async throws {
        let requests = (0..<4).map { i in
            Self.request(
                [1, Int32(30 + i), Int32(50 + 2 * i), 7, 8], seed: i % 2 == 0 ? nil : UInt64(60 + i), maxTokens: TokenCount(integerLiteral: 80 - 10 * i),
                speculative: i < 3 ? .draft : .off)
        }
        var alone: [[Int32]] = []
        for var request in requests {
            request.speculative = .off
            alone.append(try Self.generate(Self.target, request).0.generated)
        }
        let loaded = try LoadedModel(modelPath: Self.target, contextLength: 256, threads: 2, slots: 4, environment: [:])
        let engine = InferenceEngine(loaded: loaded, draft: try DraftModel(path: Self.draftFile, target: loaded, environment: [:]), configuration: .init())
        let outcomes = try await withThrowingTaskGroup(of: [GenerationOutcome?]?.self) { group in
            group.addTask {
                try await engine.run()
                return nil
            }
            group.addTask {
                try await withThrowingTaskGroup(of: (Int, GenerationOutcome?).self) { inner in
                    for (i, request) in requests.enumerated() {
                        inner.addTask { (i, try await InferenceEngineTests.collect(engine.submit(request)).1) }
                    }
                    var results = [GenerationOutcome?](repeating: nil, count: requests.count)
                    for try await (i, outcome) in inner { results[i] = outcome }
                    return results
                }
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let next { return next }
            }
            return []
        }
        for i in requests.indices { #expect(outcomes[i]?.generated == alone[i], "stream \(i)") }
        #expect(outcomes.prefix(3).compactMap { $0?.draftedTokens }.reduce(0, +) > 0)
        #expect(outcomes[3]?.draftedTokens == 0)
    }

    /// A draft model whose vocabulary differs is refused with the first difference.
    @Test func aDraftModelWithAnotherVocabularyIsRefused() throws {
        let writer = try TinyGGUF.model(shape: .init(vocabulary: 64), seed: 3)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("brise-spec-vocab-\(getpid()).gguf").path
        try Data(try writer.serialized()).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = try LoadedModel(modelPath: Self.target, contextLength: 128, threads: 1, environment: [:])
        do {
            _ = try DraftModel(path: path, target: loaded, environment: [:])
            Issue.record("expected a refusal")
        } catch let error as EngineError {
            #expect(error.message.contains("cannot draft") && error.message.contains("tokens"), "\(error.message)")
        }
    }
}
