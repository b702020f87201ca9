import Engine
import Foundation
import Sampling
import TestSupport
import Testing

/// The serving engine in process: several requests decoded together give each the text it gets alone
/// (the CLI's `InferenceContext`), prefix reuse across slots, cancellation, the queue's limits and the
/// drain on shutdown.
@Suite struct InferenceEngineTests {
    static let model = InferenceContextTests.model

    /// Runs `body` with an engine over `slots` slots running beside it; shuts it down afterwards.
    static func withEngine<T: Sendable>(
        path: String = model, slots: Int, context: Int = 256, configuration: InferenceEngine.Configuration = .init(),
        _ body: @Sendable (InferenceEngine) async throws -> T
    ) async throws -> T {
        let loaded = try LoadedModel(modelPath: path, contextLength: context, threads: 2, slots: slots, environment: [:])
        let engine = InferenceEngine(loaded: loaded, configuration: configuration)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await engine.run()
                return nil
            }
            // Cancelling run() stops the thread (at once: nothing runs by then).
            defer { group.cancelAll() }
            return try await body(engine)
        }
    }

    /// A request's text and outcome from the engine.
    static func collect(_ stream: AsyncThrowingStream<GenerationEvent, any Error>) async throws -> (String, GenerationOutcome?) {
        var text = ""
        var outcome: GenerationOutcome?
        for try await event in stream {
            switch event {
            case .output(.text(let piece)): text += piece
            case .output(.token), .output(.reasoning): break
            case .finished(let value): outcome = value
            }
        }
        return (text, outcome)
    }

    static func request(_ prompt: [Int32], maxTokens: TokenCount = 20, seed: UInt64? = nil) -> GenerationRequest {
        var sampling = SamplingParameters.greedy
        if let seed {
            sampling = SamplingParameters(temperature: 0.8, topK: 40, topP: 0.95, seed: seed)
        }
        return GenerationRequest(prompt: prompt, sampling: sampling, maxTokens: maxTokens)
    }

    static let prompts: [[Int32]] = [
        [1, 20, 30, 40, 50, 60], [1, 5, 6, 7], Array(1...90).map { Int32($0 % 60 + 3) }, [1, 9, 8, 7, 6, 5, 4, 3, 2],
    ]

    /// Four requests started at different moments, greedy and seeded, with different prompt lengths and
    /// limits: each gets the tokens and text it gets alone.
    @Test func concurrentRequestsMatchEachRunAlone() async throws {
        let requests = Self.prompts.enumerated().map { i, prompt in
            Self.request(prompt, maxTokens: TokenCount(integerLiteral: 12 + 5 * i), seed: i % 2 == 0 ? nil : UInt64(40 + i))
        }
        var alone: [(GenerationOutcome, String)] = []
        for request in requests {
            let context = try InferenceContextTests.context()
            var text = ""
            let outcome = try context.generate(request) { if case .text(let t) = $0 { text += t } }
            alone.append((outcome, text))
        }
        let together = try await Self.withEngine(slots: 4) { engine in
            try await withThrowingTaskGroup(of: (Int, String, GenerationOutcome?).self) { group in
                for (i, request) in requests.enumerated() {
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(15 * i))
                        let (text, outcome) = try await Self.collect(engine.submit(request))
                        return (i, text, outcome)
                    }
                }
                var results = Array(repeating: ("", GenerationOutcome?.none), count: requests.count)
                for try await (i, text, outcome) in group { results[i] = (text, outcome) }
                return results
            }
        }
        for (i, (text, outcome)) in together.enumerated() {
            #expect(outcome?.generated == alone[i].0.generated, "request \(i)")
            #expect(text == alone[i].1, "request \(i)")
            #expect(outcome?.finishReason == alone[i].0.finishReason)
        }
    }

    /// A follow-up that extends a finished conversation lands in that conversation's slot and
    /// evaluates only the new tokens.
    @Test func prefixReuseAcrossSlots() async throws {
        try await Self.withEngine(slots: 2) { engine in
            let (_, a) = try await Self.collect(engine.submit(Self.request(Self.prompts[0])))
            let (_, b) = try await Self.collect(engine.submit(Self.request(Self.prompts[3])))
            let followUp = Self.prompts[0] + (a?.generated ?? []) + [70, 80]
            let (_, c) = try await Self.collect(engine.submit(Self.request(followUp)))
            #expect(c?.cachedTokens == Self.prompts[0].count + (a?.generated.count ?? 0) - 1)
            let followB = Self.prompts[3] + [11]
            let (_, d) = try await Self.collect(engine.submit(Self.request(followB)))
            #expect(d?.cachedTokens == Self.prompts[3].count)
            #expect(b?.cachedTokens == 0)
        }
    }

    /// Dropping a stream cancels its request; the others go on and match their solo runs.
    @Test func cancellingOneLeavesTheOthersAlone() async throws {
        let context = try InferenceContextTests.context()
        let want = try context.generate(Self.request(Self.prompts[1], maxTokens: 30)) { _ in }
        try await Self.withEngine(slots: 2) { engine in
            async let other = Self.collect(engine.submit(Self.request(Self.prompts[1], maxTokens: 30)))
            var seen = 0
            for try await event in engine.submit(Self.request(Self.prompts[0], maxTokens: 200)) {
                if case .output = event { seen += 1 }
                if seen == 3 { break }
            }
            let (_, outcome) = try await other
            #expect(outcome?.generated == want.generated)
            // The cancelled request's slot is free again: two more run at once.
            async let x = Self.collect(engine.submit(Self.request(Self.prompts[2], maxTokens: 4)))
            async let y = Self.collect(engine.submit(Self.request(Self.prompts[3], maxTokens: 4)))
            #expect(try await x.1?.generated.count == 4)
            #expect(try await y.1?.generated.count == 4)
        }
    }

    /// One slot, a queue of one: the third request is busy; an impossible request fails alone.
    @Test func queueLimitsAndBadRequests() async throws {
        try await Self.withEngine(slots: 1, configuration: .init(queueLimit: 1)) { engine in
            // Submitted together: the first runs (200 steps), the second waits, the third is busy.
            let firstStream = engine.submit(Self.request(Self.prompts[1], maxTokens: 200))
            let secondStream = engine.submit(Self.request(Self.prompts[1], maxTokens: 5))
            do {
                _ = try await Self.collect(engine.submit(Self.request([1, 2])))
                Issue.record("a third request was accepted with one slot and a queue of one")
            } catch let error as EngineError {
                #expect(error.code == .busy && error.queued == 1 && error.queueLimit == 1)
            }
            async let first = Self.collect(firstStream)
            async let second = Self.collect(secondStream)
            #expect(try await first.1?.generated.count == 200)
            #expect(try await second.1?.generated.count == 5)
            do {
                _ = try await Self.collect(engine.submit(Self.request([1, 99_999])))
                Issue.record("a token outside the vocabulary was accepted")
            } catch let error as EngineError {
                #expect(error.code == .invalidRequest)
            }
            do {
                _ = try await Self.collect(engine.submit(Self.request([1, 2], maxTokens: 255)))
                Issue.record("a request past the context was accepted")
            } catch let error as EngineError {
                #expect(error.code == .invalidRequest)
            }
        }
    }

    /// On shutdown a waiting request is refused, a running one finishes within the drain, and later
    /// submissions are refused at once.
    @Test func shutdownDrains() async throws {
        let loaded = try LoadedModel(modelPath: Self.model, contextLength: 256, threads: 2, slots: 1, environment: [:])
        let engine = InferenceEngine(loaded: loaded, configuration: .init(queueLimit: 4))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await engine.run() }
            // Posted back to back: the first is admitted at once (a free slot), the second waits (200
            // steps at least), then the shutdown; the model thread takes them in this order. (Waiting
            // for the first output instead lets the tiny model finish all 200 steps before the second
            // arrives.) A generous drain: the suite runs tests side by side, and 200 steps once took
            // over 60 s.
            let running = engine.submit(Self.request(Self.prompts[1], maxTokens: 200))
            let waiting = engine.submit(Self.request(Self.prompts[1]))
            engine.shutdown(deadline: .now.advanced(by: .seconds(600)))
            var iterator = running.makeAsyncIterator()
            do {
                _ = try await Self.collect(waiting)
                Issue.record("a waiting request ran after shutdown")
            } catch let error as EngineError {
                #expect(error.code == .shuttingDown)
            }
            var finished: GenerationOutcome?
            while let event = try await iterator.next() { if case .finished(let o) = event { finished = o } }
            #expect(finished?.generated.count == 200)
            do {
                _ = try await Self.collect(engine.submit(Self.request(Self.prompts[1])))
                Issue.record("a request after the engine stopped ran")
            } catch let error as EngineError {
                #expect(error.code == .shuttingDown)
            }
            group.cancelAll()
            try await group.next()
            do {
                _ = try await Self.collect(engine.submit(Self.request(Self.prompts[1])))
                Issue.record("a request after the thread ended ran")
            } catch let error as EngineError {
                #expect(error.code == .shuttingDown)
            }
        }
    }
}
