import Foundation
import GGUF
import Kernels
import Model
import Testing
import TestSupport

/// Brise on the real small models against llama.cpp (Fixtures/real-models/<model>.greedy.json, made by
/// scripts/make-real-model-fixtures.py): for 8 chat prompts per model, the greedy continuation (up to 64
/// tokens) from llama.cpp's prompt ids, which TokenizationTests' RealModelChatTokenTests proves equal to
/// Brise's chat encoding.
///
/// The reference is llama.cpp's `sequential` run (prompt fed one token at a time: its mat-vec kernels
/// throughout, as Brise's prefill equals its own token-by-token evaluation). Its `batched` run (the
/// prompt as one batch through its repacked mat-mat kernels, then decoding: what llama.cpp normally
/// does) is the second reference: a continuation equal to either passes. A continuation equal to
/// neither is recorded as a known issue when it leaves the sequential run at a step whose llama.cpp
/// top-2 margin is below `nearTie`, and fails otherwise.
///
/// Why near-ties flip: a kernel path that sums in another order than llama.cpp's (last-bit
/// differences that can cross an 8-bit activation rounding boundary and move a logit by ~0.2). On
/// AVX-512, since the Q4_0/Q4_K kernels follow llama.cpp's repacked-gemv order, all 8 prompts of both
/// models equal its sequential run (before: Qwen 2 of 8, Gemma 3 of 8).
@Suite(.enabled(if: Fixtures.realModelsPresent, Comment(rawValue: Fixtures.missingRealModelsMessage)))
struct RealModelParityTests {
    /// Top-2 margins (logits) below this make a flipped greedy step a near-tie, not a bug: llama.cpp's
    /// own batched and sequential runs disagree at steps with margins up to 0.312 in these fixtures.
    static let nearTie = 0.35

    struct Divergence {
        let step: Int
        let ours: Int32
        let theirs: Int32
    }

    static func firstDivergence(_ got: [Int32], _ want: [Int32]) -> Divergence? {
        for (step, (a, b)) in zip(got, want).enumerated() where a != b { return Divergence(step: step, ours: a, theirs: b) }
        return nil
    }

    static func argmax(_ row: ArraySlice<Float>) -> (index: Int, margin: Float) {
        var best = row.startIndex
        for i in row.indices where row[i] > row[best] { best = i }
        var second = -Float.infinity
        for i in row.indices where i != best { second = max(second, row[i]) }
        return (best - row.startIndex, row[best] - second)
    }

    @Test(arguments: Fixtures.realModelNames)
    func greedyContinuationsMatchLlamaCpp(name: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("real-models/\(name).greedy.json")))
        let fixture = try JSONDecoder().decode(JSONValue.self, from: data)
        let session = try ParityTests.session(Fixtures.realModelsDirectory + "/" + name, context: 512)
        let vocabulary = session.model.vocabularySize
        let prompts = fixture["prompts"]?.arrayValue ?? []
        #expect(prompts.count == 8)
        var identical = 0
        var matchesBatched = 0
        for (index, prompt) in prompts.enumerated() {
            let ids = prompt["ids"]!.arrayValue.map { Int32($0.intValue!) }
            let want = prompt["sequential"]!["greedy"]!.arrayValue.map { Int32($0.intValue!) }
            let margins = prompt["sequential"]!["margins"]!.arrayValue.map { $0.doubleValue! }
            let batched = prompt["batched"]!["greedy"]!.arrayValue.map { Int32($0.intValue!) }
            let steps = max(want.count, batched.count)

            session.reset()
            var row = try session.evaluate(ids)
            var got: [Int32] = []
            var ourMargins: [Float] = []
            for step in 0..<steps {
                let (next, margin) = Self.argmax(row[...])
                got.append(Int32(next))
                ourMargins.append(margin)
                if step + 1 < steps { row = try session.evaluate([Int32(next)]) }
            }
            #expect(row.count == vocabulary)

            let versusBatched = Self.firstDivergence(Array(got.prefix(batched.count)), batched).map { "step \($0.step)" } ?? "identical"
            guard let divergence = Self.firstDivergence(Array(got.prefix(want.count)), want) else {
                identical += 1
                print("REAL \(name) prompt \(index): \(want.count) tokens identical to llama.cpp (its batched run: \(versusBatched))")
                continue
            }
            if versusBatched == "identical" {
                matchesBatched += 1
                print("REAL \(name) prompt \(index): \(batched.count) tokens identical to llama.cpp's batched run (its "
                    + "sequential run differs from step \(divergence.step), margin \(margins[divergence.step]))")
                continue
            }
            let step = divergence.step
            let message = "\(name) prompt \(index): greedy diverges at step \(step) (Brise \(divergence.ours), llama.cpp "
                + "\(divergence.theirs)); llama.cpp's top-2 margin there \(margins[step]), Brise's "
                + "\(ourMargins[step]); vs llama.cpp batched: \(versusBatched)"
            print("REAL " + message)
            if margins[step] < Self.nearTie {
                withKnownIssue(Comment(rawValue: "near-tie flipped by kernel summation order"), isIntermittent: true) {
                    Issue.record(Comment(rawValue: message))
                }
            } else {
                Issue.record(Comment(rawValue: message))
            }
        }
        print("REAL \(name): \(identical) of \(prompts.count) prompts identical to llama.cpp's sequential run, "
            + "\(matchesBatched) more to its batched run")
    }

    /// Raw text without a chat template (Fixtures/real-models/<model>.raw.json, made by
    /// scripts/make-real-model-fixtures.py --raw), 32 greedy tokens from llama.cpp's ids with BOS: on
    /// AVX-512 every prompt must equal llama.cpp's sequential run token for token (every type these
    /// files hold -- Q8_0, Q5_0, Q4_K, Q6_K in Gemma 3, Q4_0/Q8_0/Q6_K in Qwen -- sums in its order, so
    /// there is no near-tie excuse there); elsewhere a divergence at a near-tie is a known issue.
    @Test(arguments: Fixtures.realModelNames)
    func rawPromptsMatchLlamaCpp(name: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("real-models/\(name).raw.json")))
        let fixture = try JSONDecoder().decode(JSONValue.self, from: data)
        let session = try ParityTests.session(Fixtures.realModelsDirectory + "/" + name, context: 512)
        let kernelPath = try KernelPath.select(environment: ProcessInfo.processInfo.environment)
        let exact = [.avx512, .avx512vnni].contains(kernelPath)
        let prompts = fixture["prompts"]?.arrayValue ?? []
        #expect(prompts.count == 8)
        var identical = 0
        for (index, prompt) in prompts.enumerated() {
            let ids = prompt["ids"]!.arrayValue.map { Int32($0.intValue!) }
            let want = prompt["sequential"]!["greedy"]!.arrayValue.map { Int32($0.intValue!) }
            let margins = prompt["sequential"]!["margins"]!.arrayValue.map { $0.doubleValue! }
            session.reset()
            var row = try session.evaluate(ids)
            var got: [Int32] = []
            for step in 0..<want.count {
                let next = Int32(Self.argmax(row[...]).index)
                got.append(next)
                if step + 1 < want.count { row = try session.evaluate([next]) }
            }
            guard let divergence = Self.firstDivergence(got, want) else {
                identical += 1
                continue
            }
            let message = "\(name) raw prompt \(index): greedy diverges at step \(divergence.step) (Brise \(divergence.ours), "
                + "llama.cpp \(divergence.theirs)); llama.cpp's top-2 margin there \(margins[divergence.step])"
            print("REAL " + message)
            if !exact && margins[divergence.step] < Self.nearTie {
                withKnownIssue(Comment(rawValue: "near-tie flipped by kernel summation order"), isIntermittent: true) {
                    Issue.record(Comment(rawValue: message))
                }
            } else {
                Issue.record(Comment(rawValue: message))
            }
        }
        print("REAL \(name): \(identical) of \(prompts.count) raw prompts identical to llama.cpp's sequential run (\(kernelPath))")
    }
}
