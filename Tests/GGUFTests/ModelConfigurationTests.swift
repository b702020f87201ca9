import GGUF
import Testing
import TestSupport

@Suite struct ModelConfigurationTests {
    static func configuration(_ edit: (inout GGUFWriter) -> Void = { _ in }, architecture: String = "llama") throws
        -> ModelConfiguration
    {
        var writer = try TinyGGUF.model(architecture: architecture, withData: false)
        edit(&writer)
        return try ModelConfiguration(metadata: try TinyGGUF.parse(try writer.serialized()).metadata)
    }

    static func expectError(
        _ code: GGUFError.Code, mentioning text: String, architecture: String = "llama",
        _ edit: (inout GGUFWriter) -> Void, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            _ = try configuration(edit, architecture: architecture)
            Issue.record("expected \(code)", sourceLocation: sourceLocation)
        } catch let error as GGUFError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(text), "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func readsTheLlamaKeys() throws {
        let c = try Self.configuration()
        #expect(c.architecture == .llama)
        #expect(c.contextLength == 256 && c.embeddingLength == 64 && c.blockCount == 2)
        #expect(c.feedForwardLength == [128, 128])
        #expect(c.headCount == [4, 4] && c.headCountKV == [2, 2])
        #expect(c.keyLength == 32 && c.valueLength == 32 && c.ropeDimensionCount == 32)
        #expect(c.ropeFreqBase == 1_000_000 && c.rmsNormEpsilon == 1e-5)
        #expect(c.ropeScaling.type == "none" && c.ropeScaling.factor == 1)
        #expect(c.ropeScaling.originalContextLength == 256)
        #expect(c.attentionTemperatureScale == 0 && c.attentionScale == nil && c.slidingWindow == nil)
        #expect(c.vocabularySize == 64)
        // 2 layers × 2 KV heads × (32 + 32) × 2 bytes (F16); Q8_0: 34 bytes per 32.
        #expect(c.kvCacheBytesPerToken() == 512)
        #expect(c.kvCacheBytesPerToken(cacheType: .q8_0) == 2 * 2 * 2 * 34)
        #expect(c.kvCacheBytes(contextLength: 100) == 51_200)
    }

    @Test func defaultsFollowLlamaCpp() throws {
        let c = try Self.configuration { w in
            w = try! TinyGGUF.model(withData: false)
            var fresh = GGUFWriter()
            fresh.add("general.architecture", .string("llama"))
            fresh.add("llama.context_length", .uint32(512))
            fresh.add("llama.embedding_length", .uint32(96))
            fresh.add("llama.block_count", .uint32(3))
            fresh.add("llama.feed_forward_length", .uint32(256))
            fresh.add("llama.attention.head_count", .uint32(6))
            fresh.add("llama.attention.layer_norm_rms_epsilon", .float32(1e-6))
            w = fresh
        }
        #expect(c.headCountKV == [6, 6, 6])  // defaults to head_count
        #expect(c.keyLength == 16 && c.valueLength == 16)  // embedding / heads only when key_length is absent
        #expect(c.ropeDimensionCount == 16)
        #expect(c.ropeFreqBase == 10_000)
        #expect(c.ropeScaling.yarnBetaFast == 32 && c.ropeScaling.yarnBetaSlow == 1)
        #expect(c.ropeScaling.yarnLogMultiplier == 0 && c.ropeScaling.attentionFactor == 1)
        #expect(c.vocabularySize == nil)
    }

    /// Ministral 3 3B: head_dim 128 while embedding / heads = 96; YaRN and the attention temperature.
    @Test func ministral3ShapeAndYaRN() throws {
        let c = try Self.configuration(
            { w in
                w.add("mistral3.embedding_length", .uint32(3072))
                w.add("mistral3.attention.head_count", .uint32(32))
                w.add("mistral3.attention.head_count_kv", .uint32(8))
                w.add("mistral3.attention.key_length", .uint32(128))
                w.add("mistral3.attention.value_length", .uint32(128))
                w.add("mistral3.block_count", .uint32(26))
                w.add("mistral3.context_length", .uint32(262_144))
                w.add("mistral3.rope.scaling.type", .string("yarn"))
                w.add("mistral3.rope.scaling.factor", .float32(16))
                w.add("mistral3.rope.scaling.original_context_length", .uint32(16384))
                w.add("mistral3.rope.scaling.yarn_log_multiplier", .float32(1))
                w.add("mistral3.attention.temperature_scale", .float32(0.1))
            }, architecture: "mistral3")
        #expect(c.architecture == .mistral3)
        #expect(c.keyLength == 128 && c.embeddingLength / c.headCount[0] == 96)
        #expect(c.ropeScaling == RopeScaling(
            type: "yarn", factor: 16, originalContextLength: 16384, attentionFactor: 1, yarnBetaFast: 32,
            yarnBetaSlow: 1, yarnLogMultiplier: 1))
        #expect(c.attentionTemperatureScale == Float(0.1))
        // 26 layers × 8 KV heads × 256 × 2 bytes = 104 KiB per token, as MODEL-SPEC's sizes imply.
        #expect(c.kvCacheBytesPerToken() == 106_496)
    }

    @Test func perLayerArrays() throws {
        let c = try Self.configuration { w in
            w.add("llama.feed_forward_length", .int32s([128, 256]))
            w.add("llama.attention.head_count_kv", .int32s([2, 1]))
        }
        #expect(c.feedForwardLength == [128, 256])
        #expect(c.headCountKV == [2, 1])
        #expect(c.kvCacheBytesPerToken() == (2 + 1) * 64 * 2)
    }

    /// Gemma 3's sliding window as llama.cpp reads it: a pattern number or a per-layer array, and the
    /// local RoPE base from rope.freq_base_swa (default 10 000); no window key, no sliding window.
    @Test func gemma3SlidingWindowForms() throws {
        let plain = try Self.configuration({ w in
            w.add("gemma3.attention.sliding_window", .uint32(512))
        }, architecture: "gemma3")
        #expect(plain.slidingWindow == 512 && plain.slidingWindowPattern == 6 && plain.ropeFreqBaseSlidingWindow == 10_000)
        #expect((0..<2).map(plain.usesSlidingWindow(layer:)) == [true, true])
        let array = try Self.configuration({ w in
            w.add("gemma3.attention.sliding_window", .uint32(1024))
            w.add("gemma3.attention.sliding_window_pattern", .array(elementType: .bool, [.bool(true), .bool(false)]))
            w.add("gemma3.rope.freq_base_swa", .float32(5000))
        }, architecture: "gemma3")
        #expect((0..<2).map(array.usesSlidingWindow(layer:)) == [true, false])
        #expect(array.ropeFreqBaseSlidingWindow == 5000)
        let none = try Self.configuration({ _ in }, architecture: "gemma3")
        #expect(none.slidingWindow == nil && !none.usesSlidingWindow(layer: 0))
        Self.expectError(.invalidValue, mentioning: "sliding_window_pattern", architecture: "gemma3") { w in
            w.add("gemma3.attention.sliding_window", .uint32(512))
            w.add("gemma3.attention.sliding_window_pattern", .array(elementType: .bool, [.bool(true)]))
        }
    }

    @Test func badValuesAreClearErrors() {
        Self.expectError(.missingKey, mentioning: "llama.block_count") { w in
            var fresh = GGUFWriter()
            fresh.add("general.architecture", .string("llama"))
            fresh.add("llama.context_length", .uint32(1))
            fresh.add("llama.embedding_length", .uint32(1))
            w = fresh
        }
        Self.expectError(.wrongValueType, mentioning: "llama.embedding_length") {
            $0.add("llama.embedding_length", .string("64"))
        }
        Self.expectError(.invalidValue, mentioning: "llama.block_count") { $0.add("llama.block_count", .uint32(0)) }
        Self.expectError(.invalidValue, mentioning: "head_count_kv") { $0.add("llama.attention.head_count_kv", .uint32(3)) }
        Self.expectError(.invalidValue, mentioning: "feed_forward_length") {
            $0.add("llama.feed_forward_length", .int32s([1, 2, 3]))
        }
        Self.expectError(.invalidValue, mentioning: "rope.freq_base") { $0.add("llama.rope.freq_base", .float32(.nan)) }
        Self.expectError(.invalidValue, mentioning: "rope.scaling.type") { $0.add("llama.rope.scaling.type", .string("cubic")) }
        Self.expectError(.unsupportedArchitecture, mentioning: "phi9", architecture: "phi9") { _ in }
    }
}
