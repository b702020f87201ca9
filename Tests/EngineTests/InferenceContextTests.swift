import Engine
import Foundation
import Sampling
import TestSupport
import Testing

/// The generation loop the CLI and the daemon share: prefix reuse of the KV cache must not change a
/// single token, stop strings and cancellation end it, and an impossible request changes nothing.
@Suite struct InferenceContextTests {
    static let model = Fixtures.path("models/tiny-llama-Q8_0.gguf")

    static func context(_ path: String = model, threads: Int = 1) throws -> InferenceContext {
        InferenceContext(loaded: try LoadedModel(modelPath: path, contextLength: 256, threads: threads, environment: [:]))
    }

    static func run(_ context: InferenceContext, _ prompt: [Int32], maxTokens: TokenCount = 16, stop: [String] = [])
        throws -> (GenerationOutcome, String)
    {
        var text = ""
        let outcome = try context.generate(
            GenerationRequest(prompt: prompt, sampling: .greedy, maxTokens: maxTokens, stop: stop)
        ) { if case .text(let t) = $0 { text += t } }
        return (outcome, text)
    }

    @Test func reusingTheCachedPrefixChangesNothing() throws {
        let warm = try Self.context()
        let first: [Int32] = [1, 20, 30, 40, 50, 60]
        let (a, _) = try Self.run(warm, first)
        #expect(a.cachedTokens == 0)
        // A follow-up that extends the first conversation, as a chat client sends it.
        let followUp = first + a.generated + [70, 80]
        let (b, bText) = try Self.run(warm, followUp)
        #expect(b.cachedTokens == first.count + a.generated.count - 1)
        let (fresh, freshText) = try Self.run(try Self.context(), followUp)
        #expect(b.generated == fresh.generated)
        #expect(bText == freshText)
        // A prompt that shares only part of it rewinds the cache.
        let branch = Array(first.prefix(3)) + [90, 91]
        let (c, _) = try Self.run(warm, branch)
        #expect(c.cachedTokens == 3)
        #expect(c.generated == (try Self.run(try Self.context(), branch)).0.generated)
    }

    @Test func stopStringsCancellationAndOverflow() throws {
        let context = try Self.context()
        let prompt: [Int32] = [1, 5, 6, 7]
        let (full, fullText) = try Self.run(context, prompt, maxTokens: 24)
        #expect(full.finishReason == .length && full.generated.count == 24)
        // Stop at a piece of the text the model is known to produce.
        let needle = String(fullText.dropFirst(3).prefix(2))
        let (stopped, stoppedText) = try Self.run(context, prompt, maxTokens: 24, stop: [needle])
        #expect(stopped.finishReason == .stop && stopped.stoppedAt == needle)
        #expect(!stoppedText.contains(needle) && fullText.hasPrefix(stoppedText))

        var polls = 0
        let cancelled = try context.generate(GenerationRequest(prompt: prompt, sampling: .greedy, maxTokens: 24), shouldStop: {
            polls += 1
            return polls > 5
        }) { _ in }
        #expect(cancelled.finishReason == .cancelled && cancelled.generated.count < 5)

        let before = context.cachedTokens
        #expect(throws: (any Error).self) {
            try context.generate(GenerationRequest(prompt: [Int32](repeating: 5, count: 250), sampling: .greedy, maxTokens: 10)) { _ in }
        }
        #expect(context.cachedTokens == before, "an overflowing request is refused before any work")
    }
}
