public import GGUF
public import Kernels

/// The `llama`, `mistral3`, `qwen2` and `gemma3` architectures (Mistral 7B, Nemo, Ministral-8B-2410,
/// Ministral 3; Qwen2/2.5; Gemma 3): the weights, bound in place from the mapped file, and what the
/// forward pass needs to know about them (MODEL-SPEC §4). llama.cpp's graphs for the first three differ
/// only in Ministral 3's query temperature and in Qwen2's Q/K/V biases and NEOX RoPE ordering; Gemma 3
/// (llama.cpp's `llm_build_gemma3<iswa>`) adds the embedding scale, per-head Q/K RMS norms, norms after
/// attention and after the FFN, GeGLU, a query scale, and sliding-window layers with their own RoPE θ.
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
        /// Per-head RMS norms of Q and K before RoPE (Gemma 3), `keyLength` weights shared by every head.
        let queryNorm: FloatVector?
        let keyNorm: FloatVector?
        let attentionOutput: WeightMatrix
        /// RMS norm of the attention output before the residual add (Gemma 3's `post_attention_norm`).
        let postAttentionNorm: FloatVector?
        let ffnNorm: FloatVector
        /// The FFN: one SwiGLU/GeGLU block, or a mixture of experts.
        let feedForward: FeedForwardWeights
        /// RMS norm of the FFN output before the residual add (Gemma 3's `post_ffw_norm`).
        let postFeedForwardNorm: FloatVector?
        /// The sliding window this layer attends through (a key at `p` is visible from a query at `q`
        /// when `q - p < window`), or nil for full causal attention.
        let slidingWindow: Int?
        /// The layer's RoPE settings (Gemma 3's sliding-window layers have their own θ and no scaling).
        let rope: RoPEConfiguration
    }

    /// A layer's FFN weights.
    enum FeedForwardWeights {
        /// One gated FFN: gate and up `ffn × hidden`, down `hidden × ffn`.
        case dense(gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix)
        /// A sparse mixture of experts (Mixtral).
        case experts(MixtureOfExperts)

        /// The FFN's matrices, in the order a step reads them (for experts: the router, then every
        /// expert's; a step reads only the chosen ones).
        var matrices: [WeightMatrix] {
            switch self {
            case .dense(let gate, let up, let down): [gate, up, down]
            case .experts(let experts): [experts.router] + experts.matrices
            }
        }
    }

    /// The FFN's gated activation.
    enum FeedForwardActivation {
        /// `silu(gate) · up` (llama, mistral3, qwen2).
        case swiglu
        /// `gelu(gate) · up`, tanh-approximated GELU (gemma3).
        case geglu
    }

    /// The hyperparameters.
    public let configuration: ModelConfiguration
    /// The parsed file the weights live in.
    public let file: GGUFFile
    let embedding: WeightMatrix
    let layers: [Layer]
    let outputNorm: FloatVector
    let output: WeightMatrix
    /// NORM (adjacent pairs: llama, mistral3) or NEOX (halves: qwen2, gemma3), as llama_model_rope_type says.
    let ropeOrdering: RoPEOrdering
    /// The softmax scale of the attention scores (1/√head_dim unless the file says otherwise; 1 for
    /// Gemma 3, whose queries are scaled instead).
    let attentionScale: Float
    /// A factor on the queries after RoPE (Gemma 3's `f_attention_scale`), or nil.
    let queryScale: Float?
    /// A factor on the token embeddings (Gemma 3: √n_embd), or nil.
    let embeddingScale: Float?
    /// The FFN activation.
    let feedForward: FeedForwardActivation

    /// The vocabulary size (rows of the embedding).
    public var vocabularySize: Int { embedding.rows }

    /// Whether every FFN down projection (every expert's too) takes quantized activations, so that a
    /// batch's FFN runs band by band (`MatrixMultiplier.feedForwardInBands`) and holds a band of its
    /// gate outputs, not all of them. Float down projections (F32, F16, BF16) take the gate's output
    /// as it is, so they need it whole.
    public var feedForwardRunsInBands: Bool {
        layers.allSatisfy { layer in
            switch layer.feedForward {
            case .dense(_, _, let down): down.type.activationFormat != .f32
            case .experts(let experts): experts.down.allSatisfy { $0.type.activationFormat != .f32 }
            }
        }
    }

    /// The matrices a decode step multiplies, in the order it reads them (every layer's, then the output).
    public var matrices: [WeightMatrix] {
        layers.flatMap { [$0.query, $0.key, $0.value, $0.attentionOutput] + $0.feedForward.matrices } + [output]
    }

    /// Binds the weights of a `llama`, `mistral3`, `qwen2` or `gemma3` file.
    ///
    /// - Parameter file: The parsed file.
    /// - Throws: `GGUFError` for bad hyperparameters, `ModelError` for a missing or misshapen tensor or
    ///   an architecture this class does not run.
    public init(file: GGUFFile) throws {
        let c = try ModelConfiguration(metadata: file.metadata)
        let gemma = c.architecture == .gemma3
        guard [.llama, .mistral3, .qwen2, .gemma3].contains(c.architecture) else {
            throw ModelError(.unsupportedArchitecture, "LlamaModel runs llama, mistral3, qwen2 and gemma3, not \(c.architecture)")
        }
        // llama.cpp's llama and mistral3 graphs take a mixture of experts in place of the FFN
        // (Mixtral); its qwen2 and gemma3 graphs have none (Qwen's MoE models are another architecture).
        if c.isMixtureOfExperts, ![.llama, .mistral3].contains(c.architecture) {
            throw ModelError(
                .unsupportedArchitecture, "\(c.architecture) with experts (expert_count \(c.expertCount)) is not an architecture llama.cpp runs")
        }
        if gemma, c.slidingWindow == nil {
            // llama.cpp builds such a file with its non-SWA gemma3 graph, which adds final logit
            // softcapping (tanh); Brise has no matched tanh, so it refuses rather than differs.
            throw ModelError(
                .unsupportedArchitecture,
                "gemma3 without a sliding window (llama.cpp's non-iswa graph, with final logit softcapping) is not supported")
        }
        guard c.keyLength == c.valueLength, c.ropeDimensionCount == c.keyLength else {
            throw ModelError(
                .wrongShape,
                "llama.cpp's \(c.architecture) graph needs key_length = value_length = rope.dimension_count "
                    + "(got \(c.keyLength), \(c.valueLength), \(c.ropeDimensionCount))")
        }
        guard c.ropeDimensionCount >= 2, c.ropeDimensionCount % 2 == 0 else {
            throw ModelError(.wrongShape, "rope.dimension_count (\(c.ropeDimensionCount)) must be even and at least 2")
        }
        guard let vocabulary = file.tensor(named: "token_embd.weight")?.dimensions.last else {
            throw ModelError(.missingTensor, "tensor token_embd.weight is missing")
        }
        // Sampling and the token ids are 32-bit.
        guard vocabulary < Int(Int32.max) else {
            throw ModelError(.wrongShape, "token_embd.weight has \(vocabulary) rows; at most \(Int32.max - 1)")
        }
        let bind = TensorBinder(file: file)
        let hidden = c.embeddingLength
        let globalRope = RoPEConfiguration(configuration: c)
        // llama_model::get_rope_freq_base/scale: sliding-window layers use rope.freq_base_swa and a
        // frequency scale of 1; the rest (and every layer of models without a window) the global ones.
        var localRope = globalRope
        localRope.base = c.ropeFreqBaseSlidingWindow ?? c.ropeFreqBase
        localRope.scale = 1
        configuration = c
        self.file = file
        embedding = try bind.matrix("token_embd.weight", rows: vocabulary, columns: hidden)
        layers = try (0..<c.blockCount).map { i in
            let q = c.headCount[i] * c.keyLength
            let kv = c.headCountKV[i] * c.keyLength
            func bias(_ name: String, _ count: Int) throws -> FloatVector? {
                bind.has("blk.\(i).\(name).bias") ? try bind.vector("blk.\(i).\(name).bias", count: count) : nil
            }
            /// A norm weight gemma3 requires (and the other architectures do not have).
            func gemmaNorm(_ name: String, _ count: Int) throws -> FloatVector? {
                gemma ? try bind.vector("blk.\(i).\(name).weight", count: count) : nil
            }
            let window = c.usesSlidingWindow(layer: i) ? c.slidingWindow : nil
            return Layer(
                attentionNorm: try bind.vector("blk.\(i).attn_norm.weight", count: hidden),
                query: try bind.matrix("blk.\(i).attn_q.weight", rows: q, columns: hidden),
                key: try bind.matrix("blk.\(i).attn_k.weight", rows: kv, columns: hidden),
                value: try bind.matrix("blk.\(i).attn_v.weight", rows: kv, columns: hidden),
                queryBias: try bias("attn_q", q),
                keyBias: try bias("attn_k", kv),
                valueBias: try bias("attn_v", kv),
                queryNorm: try gemmaNorm("attn_q_norm", c.keyLength),
                keyNorm: try gemmaNorm("attn_k_norm", c.keyLength),
                attentionOutput: try bind.matrix("blk.\(i).attn_output.weight", rows: hidden, columns: q),
                postAttentionNorm: try gemmaNorm("post_attention_norm", hidden),
                ffnNorm: try bind.vector("blk.\(i).ffn_norm.weight", count: hidden),
                feedForward: try Self.feedForward(layer: i, configuration: c, bind: bind),
                postFeedForwardNorm: try gemmaNorm("post_ffw_norm", hidden),
                slidingWindow: window,
                rope: window == nil ? globalRope : localRope)
        }
        outputNorm = try bind.vector("output_norm.weight", count: hidden)
        // Tied embeddings (Ministral 3 3B): no output.weight, the embedding doubles as the output.
        output =
            bind.has("output.weight")
            ? try bind.matrix("output.weight", rows: vocabulary, columns: hidden) : embedding
        ropeOrdering = c.architecture == .qwen2 || gemma ? .neox : .norm
        if gemma {
            // llama.cpp's gemma3 loader ignores attention.scale: 1/√(n_embd / n_head) (integer division)
            // for the 27B (62 layers), else 1/√head_dim, applied to Q after RoPE; the softmax scale is 1.
            let dimension = c.blockCount == 62 ? hidden / c.headCount[0] : c.keyLength
            queryScale = 1 / Float(dimension).squareRoot()
            attentionScale = 1
            // ggml_scale(inpL, sqrtf(n_embd)), in float.
            embeddingScale = Float(hidden).squareRoot()
            feedForward = .geglu
        } else {
            queryScale = nil
            attentionScale = c.attentionScale ?? 1 / Float(c.keyLength).squareRoot()
            embeddingScale = nil
            feedForward = .swiglu
        }
    }

    /// Layer `i`'s FFN: `ffn_{gate,up,down}` for a dense model; for one with experts, the router
    /// `ffn_gate_inp` (F32 in llama.cpp's files) and the stacked `ffn_{gate,up,down}_exps` (llama.cpp's layout; the older
    /// per-expert tensors `ffn_gate.E.weight` are refused by name, as llama.cpp no longer loads them).
    private static func feedForward(layer i: Int, configuration c: ModelConfiguration, bind: TensorBinder) throws -> FeedForwardWeights {
        let hidden = c.embeddingLength
        let ffn = c.feedForwardLength[i]
        guard c.isMixtureOfExperts else {
            return .dense(
                gate: try bind.matrix("blk.\(i).ffn_gate.weight", rows: ffn, columns: hidden),
                up: try bind.matrix("blk.\(i).ffn_up.weight", rows: ffn, columns: hidden),
                down: try bind.matrix("blk.\(i).ffn_down.weight", rows: hidden, columns: ffn))
        }
        if !bind.has("blk.\(i).ffn_gate_exps.weight"), bind.has("blk.\(i).ffn_gate.0.weight") {
            throw ModelError(
                .missingTensor,
                "blk.\(i) stores its experts one tensor each (ffn_gate.0.weight …), an old layout; convert the model again "
                    + "with llama.cpp's convert_hf_to_gguf.py, which stacks them as ffn_gate_exps")
        }
        let n = c.expertCount
        let router = try bind.matrix("blk.\(i).ffn_gate_inp.weight", rows: n, columns: hidden)
        return .experts(
            MixtureOfExperts(
                router: router,
                gate: try bind.matrices("blk.\(i).ffn_gate_exps.weight", count: n, rows: ffn, columns: hidden),
                up: try bind.matrices("blk.\(i).ffn_up_exps.weight", count: n, rows: ffn, columns: hidden),
                down: try bind.matrices("blk.\(i).ffn_down_exps.weight", count: n, rows: hidden, columns: ffn),
                used: c.expertUsedCount))
    }

    /// Bytes of every expert matrix (0 for a dense model): a step reads only the chosen ones.
    public var expertByteCount: Int {
        layers.reduce(0) { total, layer in
            guard case .experts(let experts) = layer.feedForward else { return total }
            return total + experts.matrices.reduce(0) { $0 + $1.byteCount }
        }
    }

    /// The most expert bytes one layer's step touches: the gate, up and down matrices of the experts
    /// a token goes through (0 for a dense model).
    public var expertWorkingSetBytes: Int {
        layers.map { layer -> Int in
            guard case .experts(let experts) = layer.feedForward else { return 0 }
            return experts.used * (experts.gate[0].byteCount + experts.up[0].byteCount + experts.down[0].byteCount)
        }.max() ?? 0
    }

    /// Where each layer's stacked expert tensors lie in the mapped file (byte ranges from the file's
    /// start), for residency reports and for locking everything but them.
    public var expertFileRanges: [Range<Int>] {
        let start = file.file.withUnsafeBytes { Int(bitPattern: $0.baseAddress!) }
        return layers.flatMap { layer -> [Range<Int>] in
            guard case .experts(let experts) = layer.feedForward else { return [] }
            return [experts.gate, experts.up, experts.down].map { stack in
                let first = Int(bitPattern: stack[0].base) - start
                return first..<(first + stack.count * stack[0].byteCount)
            }
        }
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
