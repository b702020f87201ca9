import Foundation
import GGUF
import Kernels
import Model
import Testing
import TestSupport

/// Gemma 3's sliding-window layers on tiny seeded models: the mask hides everything before the window
/// (exactly: masked keys add nothing), and the KV ring buffer those layers keep (window + one batch of
/// cells) gives the same bits as token-by-token evaluation across wrap-arounds and batch splits.
@Suite struct SlidingWindowTests {
    /// A tiny `gemma3` file: TinyGGUF's llama shape plus gemma3's norms, `layers` layers with every
    /// `pattern`-th one global, and a window of `window`.
    static func model(layers: Int, pattern: Int, window: Int) throws -> LlamaModel {
        let shape = TinyGGUF.Shape(layers: layers)
        var writer = try TinyGGUF.model(architecture: "gemma3", shape: shape, seed: 7)
        writer.add("gemma3.attention.sliding_window", .uint32(UInt32(window)))
        writer.add("gemma3.attention.sliding_window_pattern", .uint32(UInt32(pattern)))
        var random = SeededRandom(seed: 11)
        func norm(_ name: String, _ count: Int) throws {
            let data = (0..<count).flatMap { _ -> [UInt8] in
                Float.random(in: 0.5...1.5, using: &random).bitPattern.leBytes
            }
            try writer.addTensor(name: name, dimensions: [count], type: .f32, data: data)
        }
        for layer in 0..<layers {
            try norm("blk.\(layer).attn_q_norm.weight", shape.headDimension)
            try norm("blk.\(layer).attn_k_norm.weight", shape.headDimension)
            try norm("blk.\(layer).post_attention_norm.weight", shape.embedding)
            try norm("blk.\(layer).post_ffw_norm.weight", shape.embedding)
        }
        return try LlamaModel(file: try TinyGGUF.parse(try writer.serialized()))
    }

    static func session(_ model: LlamaModel, context: Int) throws -> ModelSession {
        let path = try KernelPath.select(environment: ProcessInfo.processInfo.environment)
        return try ModelSession(
            model: model, contextLength: context, multiplier: try MatrixMultiplier(path: path, pool: WorkerPool(threadCount: 2)),
            ops: try FloatOps(path: path))
    }

    static func tokens(_ count: Int, seed: UInt64) -> [Int32] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in Int32.random(in: 3..<64, using: &random) }
    }

    /// One sliding-window layer: the last logits depend only on the last `window` tokens, whatever came
    /// before (650 positions: past the 576-cell ring, fed in `densePrefillBatch` batches for one seed and
    /// as a full `maximumBatch` batch and a rest for the other).
    @Test func onlyTheWindowIsSeen() throws {
        let model = try Self.model(layers: 1, pattern: 6, window: 4)
        let tail = Self.tokens(4, seed: 3)
        var results: [[Float]] = []
        for seed in [UInt64(1), 2] {
            let session = try Self.session(model, context: 1200)
            let prompt = Self.tokens(650, seed: seed)
            if seed == 1 {
                _ = try session.evaluate(prompt)
            } else {
                let split = ModelSession.maximumBatch
                _ = try session.evaluate(batch: [.init(slot: 0, tokens: prompt[..<split], logits: .none)])
                _ = try session.evaluate(batch: [.init(slot: 0, tokens: prompt[split...], logits: .none)])
            }
            results.append(try session.evaluate(tail))
        }
        #expect(results[0].map(\.bitPattern) == results[1].map(\.bitPattern))
        // ... and a different token inside the window does change them.
        let session = try Self.session(model, context: 1200)
        _ = try session.evaluate(Self.tokens(650, seed: 1))
        let changed = try session.evaluate([tail[0] == 5 ? 6 : 5] + tail.dropFirst())
        #expect(changed.map(\.bitPattern) != results[0].map(\.bitPattern))
    }

    /// A sliding-window layer and a global one: a 700-token prefill (split into batches, wrapping the
    /// ring) equals token-by-token evaluation bit for bit, and so do the steps after it.
    @Test func prefillEqualsTokenByTokenAcrossTheRing() throws {
        let model = try Self.model(layers: 2, pattern: 2, window: 8)
        let prompt = Self.tokens(700, seed: 5)
        let batched = try Self.session(model, context: 720)
        let single = try Self.session(model, context: 720)
        let all = try batched.evaluate(prompt, allLogits: true)
        var one: [Float] = []
        for token in prompt { one += try single.evaluate([token]) }
        #expect(all.count == one.count)
        #expect(all.map(\.bitPattern) == one.map(\.bitPattern))
        #expect(try batched.evaluate([9, 10]).map(\.bitPattern) == (try single.evaluate([9, 10])).map(\.bitPattern))
        // The ring keeps the sliding-window layer's cache small: 576 cells (window + 512, in lanes of
        // 64) instead of 720, for the first layer only.
        #expect(batched.cacheByteCount == 2 * 2 * 2 * 32 * (576 + 720))
    }
}
