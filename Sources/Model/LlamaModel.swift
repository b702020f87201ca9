public import GGUF
import Kernels

/// The `llama`, `mistral3` and `qwen2` architectures (Mistral 7B, Nemo, Ministral-8B-2410, Ministral 3;
/// Qwen2/2.5): the weights, bound in place from the mapped file, and what the forward pass needs to
/// know about them (MODEL-SPEC §4). llama.cpp's graphs for the three differ only in Ministral 3's
/// query temperature and in Qwen2's Q/K/V biases and NEOX RoPE ordering.
public final class LlamaModel: @unchecked Sendable {
    // @unchecked Sendable: immutable after init; the weights are read-only mapped memory.

    /// One transformer block's weights.
    struct Layer {
        let attentionNorm: FloatVector
        let query: WeightMatrix
        let key: WeightMatrix
        let value: WeightMatrix
        /// Q/K/V biases (Qwen2), added right after the projections as llama.cpp's build_qkv does.
        let queryBias: FloatVector?
        let keyBias: FloatVector?
        let valueBias: FloatVector?
        let attentionOutput: WeightMatrix
        let ffnNorm: FloatVector
        let gate: WeightMatrix
        let up: WeightMatrix
        let down: WeightMatrix
    }

    /// The hyperparameters.
    public let configuration: ModelConfiguration
    /// The parsed file the weights live in.
    public let file: GGUFFile
    let embedding: WeightMatrix
    let layers: [Layer]
    let outputNorm: FloatVector
    let output: WeightMatrix
    let rope: RoPEConfiguration
    /// NORM (adjacent pairs: llama, mistral3) or NEOX (halves: qwen2), as llama_model_rope_type says.
    let ropeOrdering: RoPEOrdering
    /// The attention scale (1/√head_dim unless the file says otherwise).
    let attentionScale: Float

    /// The vocabulary size (rows of the embedding).
    public var vocabularySize: Int { embedding.rows }

    /// Binds the weights of a `llama` or `mistral3` file.
    ///
    /// - Parameter file: The parsed file.
    /// - Throws: `GGUFError` for bad hyperparameters, `ModelError` for a missing or misshapen tensor or
    ///   an architecture this class does not run.
    public init(file: GGUFFile) throws {
        let c = try ModelConfiguration(metadata: file.metadata)
        guard [.llama, .mistral3, .qwen2].contains(c.architecture) else {
            throw ModelError(.unsupportedArchitecture, "LlamaModel runs llama, mistral3 and qwen2, not \(c.architecture)")
        }
        guard c.keyLength == c.valueLength, c.ropeDimensionCount == c.keyLength else {
            throw ModelError(
                .wrongShape,
                "llama.cpp's \(c.architecture) graph needs key_length = value_length = rope.dimension_count "
                    + "(got \(c.keyLength), \(c.valueLength), \(c.ropeDimensionCount))")
        }
        guard let vocabulary = file.tensor(named: "token_embd.weight")?.dimensions.last else {
            throw ModelError(.missingTensor, "tensor token_embd.weight is missing")
        }
        let bind = TensorBinder(file: file)
        let hidden = c.embeddingLength
        configuration = c
        self.file = file
        embedding = try bind.matrix("token_embd.weight", rows: vocabulary, columns: hidden)
        layers = try (0..<c.blockCount).map { i in
            let q = c.headCount[i] * c.keyLength
            let kv = c.headCountKV[i] * c.keyLength
            func bias(_ name: String, _ count: Int) throws -> FloatVector? {
                bind.has("blk.\(i).\(name).bias") ? try bind.vector("blk.\(i).\(name).bias", count: count) : nil
            }
            return Layer(
                attentionNorm: try bind.vector("blk.\(i).attn_norm.weight", count: hidden),
                query: try bind.matrix("blk.\(i).attn_q.weight", rows: q, columns: hidden),
                key: try bind.matrix("blk.\(i).attn_k.weight", rows: kv, columns: hidden),
                value: try bind.matrix("blk.\(i).attn_v.weight", rows: kv, columns: hidden),
                queryBias: try bias("attn_q", q),
                keyBias: try bias("attn_k", kv),
                valueBias: try bias("attn_v", kv),
                attentionOutput: try bind.matrix("blk.\(i).attn_output.weight", rows: hidden, columns: q),
                ffnNorm: try bind.vector("blk.\(i).ffn_norm.weight", count: hidden),
                gate: try bind.matrix("blk.\(i).ffn_gate.weight", rows: c.feedForwardLength[i], columns: hidden),
                up: try bind.matrix("blk.\(i).ffn_up.weight", rows: c.feedForwardLength[i], columns: hidden),
                down: try bind.matrix("blk.\(i).ffn_down.weight", rows: hidden, columns: c.feedForwardLength[i]))
        }
        outputNorm = try bind.vector("output_norm.weight", count: hidden)
        // Tied embeddings (Ministral 3 3B): no output.weight, the embedding doubles as the output.
        output =
            bind.has("output.weight")
            ? try bind.matrix("output.weight", rows: vocabulary, columns: hidden) : embedding
        rope = RoPEConfiguration(configuration: c)
        ropeOrdering = c.architecture == .qwen2 ? .neox : .norm
        attentionScale = c.attentionScale ?? 1 / Float(c.keyLength).squareRoot()
    }

    /// Ministral 3's query temperature for a position: `1 + β·ln(1 + ⌊p / N⌋)`, computed as llama.cpp's
    /// `llm_graph_input_attn_temp` does (the logarithm in double), or 1 when the model has none.
    func queryTemperature(position: Int) -> Float {
        let beta = configuration.attentionTemperatureScale
        guard configuration.architecture == .mistral3, beta != 0 else { return 1 }
        let floorScale = Float(configuration.ropeScaling.originalContextLength)
        let steps = (Float(position) / floorScale).rounded(.down)
        return Float(log(Double(steps) + 1.0) * Double(beta) + 1.0)
    }
}

extension RoPEConfiguration {
    /// RoPE settings as llama.cpp's context derives them from the hyperparameters (MODEL-SPEC §4.4):
    /// `freq_scale` is 1/factor (1 when the type is `none`); YaRN sets the extrapolation mix to 1 and
    /// an attention factor that cancels the magnitude ggml's rope_yarn multiplies in again.
    init(configuration c: ModelConfiguration) {
        let type = c.ropeScaling.type
        let freqScale: Float = type == "none" ? 1 : 1 / c.ropeScaling.factor
        let extrapolation: Float = type == "yarn" ? 1 : 0
        var attention: Float = 1
        if extrapolation != 0 {
            func mscale(_ scale: Float, _ m: Float) -> Float { scale <= 1 ? 1 : 0.1 * m * logf(scale) + 1 }
            let factor = 1 / freqScale
            let logMultiplier = c.ropeScaling.yarnLogMultiplier
            attention = logMultiplier != 0 ? mscale(factor, 1) / mscale(factor, logMultiplier) : mscale(factor, 1)
            attention *= 1 / (1 + 0.1 * logf(factor))
        }
        self.init(
            dimensions: c.ropeDimensionCount, originalContext: c.ropeScaling.originalContextLength, base: c.ropeFreqBase,
            scale: freqScale, extrapolation: extrapolation, attentionFactor: attention * c.ropeScaling.attentionFactor,
            betaFast: c.ropeScaling.yarnBetaFast, betaSlow: c.ropeScaling.yarnBetaSlow)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
