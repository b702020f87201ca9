import Foundation
import GGUF
import Kernels
import Model
import Testing
import TestSupport

/// The Q8_0 KV cache (`KVCacheType.q8_0`): half the bytes of F16, logits within a cosine of 0.999 of
/// the F16 cache's at every position (quantizing K and V to 8 bits and llama.cpp's flash-attention
/// order instead of its F16 path), prefill equal to token-by-token evaluation bit for bit, and the
/// byte count the memory planner uses.
///
/// The exception is the 3B-shaped random model (logits spread in the hundreds; llama.cpp's own batched
/// and token-by-token runs agree only to a cosine of 0.993 on it): there llama.cpp itself, run on the
/// same 80 tokens with `type_k = type_v = q8_0, flash_attn` against its F16 cache, agrees at a cosine
/// of min 0.865, mean 0.960 (llama-cpp-python, measured once); ours measured min 0.883, mean 0.957, and
/// must stay in that range (min ≥ 0.85, mean ≥ 0.95).
@Suite struct KVCacheTypeTests {
    /// Committed fixtures (head dimensions in whole 32-blocks) and, when present, the 3B-shaped one.
    static var models: [String] {
        let names = ["tiny-mistral3-Q8_0", "tiny-llama-Q6_K", "ministral3b-2layer-Q4_K_M"]
        return names.filter { (try? ParityTests.load($0)).map { FileManager.default.fileExists(atPath: $0.path) } ?? false }
    }

    static func session(_ name: String, _ type: KVCacheType, context: Int = 96) throws -> ModelSession {
        let fixture = try ParityTests.load(name)
        let path = try KernelPath.select(environment: ProcessInfo.processInfo.environment)
        return try ModelSession(
            model: try LlamaModel(file: try GGUFFile(path: fixture.path)), contextLength: context,
            multiplier: try MatrixMultiplier(path: path, pool: WorkerPool(threadCount: 2)), ops: try FloatOps(path: path),
            cacheType: type)
    }

    static func tokens(vocabulary: Int, count: Int) -> [Int32] {
        (0..<count).map { Int32(($0 * 7919 + 13) % vocabulary) }
    }

    @Test(arguments: models)
    func q8_0LogitsStayCloseToF16(name: String) throws {
        let f16 = try Self.session(name, .f16)
        guard f16.model.configuration.keyLength % 32 == 0 else {
            #expect(throws: ModelError.self) { try Self.session(name, .q8_0) }
            return
        }
        let q8 = try Self.session(name, .q8_0)
        let vocabulary = f16.model.vocabularySize
        var cosines: [Double] = []
        for token in Self.tokens(vocabulary: vocabulary, count: 80) {
            let a = try f16.evaluate([token])
            let b = try q8.evaluate([token])
            cosines.append(ParityTests.cosine(b[...], a))
        }
        let worst = cosines.min()!
        let mean = cosines.reduce(0, +) / Double(cosines.count)
        print("KVCACHE \(name): q8_0 vs f16 cache, 80 positions, cosine min \(worst) mean \(mean)")
        if name.hasPrefix("ministral3b") {
            #expect(worst >= 0.85 && mean >= 0.95, "\(name): q8_0 cache logits cosine min \(worst) mean \(mean)")
        } else {
            #expect(worst >= 0.999, "\(name): q8_0 cache logits cosine \(worst) vs the f16 cache")
        }
    }

    @Test(arguments: models)
    func q8_0PrefillEqualsTokenByToken(name: String) throws {
        let batch = try Self.session(name, .q8_0)
        guard batch.model.configuration.keyLength % 32 == 0 else { return }
        let single = try Self.session(name, .q8_0)
        let tokens = Self.tokens(vocabulary: batch.model.vocabularySize, count: 40)
        let all = try batch.evaluate(Array(tokens[..<39]), allLogits: true) + (try batch.evaluate([tokens[39]]))
        var each: [Float] = []
        for token in tokens { each += try single.evaluate([token]) }
        #expect(all == each, "\(name): q8_0 prefill differs from token-by-token evaluation")
    }

    @Test(arguments: models)
    func q8_0CacheBytesMatchThePlanner(name: String) throws {
        let fixture = try ParityTests.load(name)
        let configuration = try LlamaModel(file: try GGUFFile(path: fixture.path)).configuration
        guard configuration.keyLength % 32 == 0 else { return }
        let q8 = try Self.session(name, .q8_0, context: 64)
        let f16 = try Self.session(name, .f16, context: 64)
        #expect(q8.cacheType == .q8_0 && f16.cacheType == .f16)
        #expect(q8.cacheByteCount == configuration.kvCacheBytesPerToken(cacheType: .q8_0)! * 64)
        #expect(f16.cacheByteCount == configuration.kvCacheBytesPerToken(cacheType: .f16)! * 64)
        #expect(q8.cacheByteCount * 64 == f16.cacheByteCount * 34)
    }
}
