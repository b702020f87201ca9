import Foundation
import GGUF
import Kernels
import Model
import Testing
import TestSupport

/// Several sequences in one forward pass (the daemon's continuous batching): each slot's logits are
/// the bits it gets evaluated alone, whatever shares its batch — prompts in chunks beside other
/// sequences' decode steps, sequences joining late, on every quant type, Gemma 3's sliding-window
/// rings, the Q8_0 cache and the real models.
@Suite struct BatchedSlotsTests {
    /// A sequence of the scenario: its prompt, when it joins (a step number) and how many tokens it
    /// generates greedily.
    struct Plan {
        var prompt: [Int32]
        var joins: Int
        var generate: Int
    }

    static func plans(vocabulary: Int, seed: UInt64) -> [Plan] {
        var random = SeededRandom(seed: seed)
        func prompt(_ count: Int) -> [Int32] {
            (0..<count).map { _ in Int32.random(in: 1..<Int32(min(vocabulary, 30_000)), using: &random) }
        }
        return [
            Plan(prompt: prompt(45), joins: 0, generate: 9),
            Plan(prompt: prompt(7), joins: 1, generate: 12),
            Plan(prompt: prompt(90), joins: 3, generate: 6),
        ]
    }

    /// Each plan alone in its own one-slot session: its prompt in one batch, then one token at a
    /// time; the logits of every step, in order.
    static func alone(_ plan: Plan, make: () throws -> ModelSession) throws -> [[Float]] {
        let session = try make()
        var rows = [try session.evaluate(plan.prompt)]
        for _ in 0..<plan.generate {
            rows.append(try session.evaluate([argmax(rows.last!)]))
        }
        return rows
    }

    /// All plans in one session of `plans.count` slots, stepped as the scheduler does: each step
    /// decodes one token for every sequence past its prompt and feeds prompts in chunks of `chunk`
    /// (first come, first served within the step's budget). Returns each plan's logits rows.
    static func together(_ plans: [Plan], chunk: Int, session: ModelSession) throws -> [[[Float]]] {
        let vocabulary = session.model.vocabularySize
        var fed = Array(repeating: 0, count: plans.count)  // prompt tokens evaluated
        var rows = Array(repeating: [[Float]](), count: plans.count)
        var step = 0
        while zip(plans, rows).contains(where: { $1.count < $0.generate + 1 }) {
            var entries: [ModelSession.Entry] = []
            var budget = chunk
            for (i, plan) in plans.enumerated() where plan.joins <= step && rows[i].count < plan.generate + 1 {
                if fed[i] < plan.prompt.count {
                    guard budget > 0 else { continue }
                    let end = min(plan.prompt.count, fed[i] + budget)
                    budget -= end - fed[i]
                    entries.append(.init(slot: i, tokens: plan.prompt[fed[i]..<end], logits: end == plan.prompt.count ? .last : .none))
                    fed[i] = end
                } else {
                    entries.append(.init(slot: i, tokens: [argmax(rows[i].last!)], logits: .last))
                }
            }
            let logits = try session.evaluate(batch: entries)
            var row = 0
            for entry in entries where entry.logits == .last {
                rows[entry.slot].append(Array(logits[(row * vocabulary)..<((row + 1) * vocabulary)]))
                row += 1
            }
            step += 1
        }
        return rows
    }

    static func argmax(_ row: [Float]) -> Int32 {
        var best = 0
        for i in row.indices where row[i] > row[best] { best = i }
        return Int32(best)
    }

    static func check(model: LlamaModel, cacheType: KVCacheType = .f16, chunk: Int = 32, seed: UInt64 = 1) throws {
        let path = try KernelPath.select(environment: ProcessInfo.processInfo.environment)
        let pool = WorkerPool(threadCount: 2)
        func make(slots: Int) throws -> ModelSession {
            try ModelSession(
                model: model, contextLength: 160, multiplier: try MatrixMultiplier(path: path, pool: pool),
                ops: try FloatOps(path: path), cacheType: cacheType, slots: slots)
        }
        let plans = Self.plans(vocabulary: model.vocabularySize, seed: seed)
        let together = try Self.together(plans, chunk: chunk, session: try make(slots: plans.count))
        for (i, plan) in plans.enumerated() {
            let alone = try Self.alone(plan, make: { try make(slots: 1) })
            #expect(together[i].count == alone.count)
            for (step, (a, b)) in zip(together[i], alone).enumerated() {
                let differs = a.count == b.count ? a.indices.first { a[$0].bitPattern != b[$0].bitPattern } : 0
                #expect(differs == nil, "sequence \(i), step \(step): logit \(differs ?? -1) differs")
            }
        }
    }

    /// Every quant type, and the mixtures of experts (whose batched steps run each chosen expert once
    /// over the rows of every sequence that chose it).
    @Test(arguments: ParityTests.committed + ParityTests.mixture)
    func everyQuantTypeGivesEachSlotItsOwnBits(name: String) throws {
        try Self.check(model: try LlamaModel(file: try GGUFFile(path: try ParityTests.load(name).path)))
    }

    @Test func q8_0CacheToo() throws {
        let path = try ParityTests.load("tiny-mistral3-Q4_K_M").path
        try Self.check(model: try LlamaModel(file: try GGUFFile(path: path)), cacheType: .q8_0)
    }

    /// Gemma 3's rings (window 8, so every sequence wraps them), chunks of 5 and 64.
    @Test(arguments: [5, 64])
    func slidingWindowRings(chunk: Int) throws {
        try Self.check(model: try SlidingWindowTests.model(layers: 2, pattern: 2, window: 8), chunk: chunk)
    }

    @Test(.enabled(if: Fixtures.realModelsPresent, Comment(rawValue: Fixtures.missingRealModelsMessage)), arguments: Fixtures.realModelNames)
    func realModels(name: String) throws {
        let model = try LlamaModel(file: try GGUFFile(path: Fixtures.realModelsDirectory + "/" + name))
        try Self.check(model: model, chunk: 48)
    }

    /// Bad batches are refused before anything is evaluated: a slot given twice, out of range, too many
    /// tokens for a slot's context.
    @Test func badBatchesAreRefused() throws {
        let path = try ParityTests.load("tiny-llama-Q8_0").path
        let kernelPath = try KernelPath.select(environment: ProcessInfo.processInfo.environment)
        let session = try ModelSession(
            model: try LlamaModel(file: try GGUFFile(path: path)), contextLength: 16,
            multiplier: try MatrixMultiplier(path: kernelPath, pool: WorkerPool(threadCount: 1)), ops: try FloatOps(path: kernelPath),
            slots: 2)
        #expect(throws: ModelError.self) {
            try session.evaluate(batch: [.init(slot: 0, tokens: [1], logits: .last), .init(slot: 0, tokens: [2], logits: .last)])
        }
        #expect(throws: ModelError.self) { try session.evaluate(batch: [.init(slot: 2, tokens: [1], logits: .last)]) }
        #expect(throws: ModelError.self) {
            try session.evaluate(batch: [.init(slot: 1, tokens: ArraySlice(repeating: 1, count: 17), logits: .last)])
        }
        #expect(session.position(slot: 0) == 0 && session.position(slot: 1) == 0)
        #expect(throws: ModelError.self) { try ModelSession(model: session.model, contextLength: 16, multiplier: try MatrixMultiplier(path: kernelPath, pool: WorkerPool(threadCount: 1)), ops: try FloatOps(path: kernelPath), slots: 0) }
    }
}
