/// A model architecture Brise knows, from `general.architecture`.
public enum ModelArchitecture: String, Sendable, CaseIterable, Codable {
    /// Mistral 7B, Ministral-8B-2410, Nemo.
    case llama
    /// Ministral 3 (3B, 8B, 14B).
    case mistral3
    /// Qwen2 / Qwen2.5.
    case qwen2
    /// Gemma 3.
    case gemma3
}

/// RoPE frequency scaling, from `{arch}.rope.scaling.*`.
public struct RopeScaling: Sendable, Hashable, Codable {
    /// `none`, `linear`, `yarn` or `longrope`.
    public var type: String
    /// The scaling factor (1 when absent or 0); llama.cpp's `freq_scale_train` is its inverse.
    public var factor: Float
    /// The context length the model was trained with before extension (YaRN's `n_ctx_orig`).
    public var originalContextLength: Int
    /// An extra multiplier on the attention magnitude (`rope.scaling.attn_factor`, default 1).
    public var attentionFactor: Float
    /// YaRN β_fast (default 32).
    public var yarnBetaFast: Float
    /// YaRN β_slow (default 1).
    public var yarnBetaSlow: Float
    /// YaRN log multiplier (`mscale_all_dim`, default 0).
    public var yarnLogMultiplier: Float

    /// Creates a scaling description.
    ///
    /// - Parameters:
    ///   - type: `none`, `linear`, `yarn` or `longrope`.
    ///   - factor: The scaling factor.
    ///   - originalContextLength: The pre-extension context length.
    ///   - attentionFactor: The attention magnitude multiplier.
    ///   - yarnBetaFast: YaRN β_fast.
    ///   - yarnBetaSlow: YaRN β_slow.
    ///   - yarnLogMultiplier: YaRN log multiplier.
    public init(
        type: String, factor: Float, originalContextLength: Int, attentionFactor: Float, yarnBetaFast: Float,
        yarnBetaSlow: Float, yarnLogMultiplier: Float
    ) {
        self.type = type
        self.factor = factor
        self.originalContextLength = originalContextLength
        self.attentionFactor = attentionFactor
        self.yarnBetaFast = yarnBetaFast
        self.yarnBetaSlow = yarnBetaSlow
        self.yarnLogMultiplier = yarnLogMultiplier
    }
}

/// A model's hyperparameters, read from GGUF metadata with llama.cpp's defaults
/// (../shared/MODEL-SPEC.md §2.3).
///
/// Per-layer values (`feedForwardLength`, `headCount`, `headCountKV`) accept a scalar or an array of
/// `blockCount` values, as llama.cpp's `get_key_or_arr` does. The head dimension comes from
/// `attention.key_length` when present and only otherwise from `embedding_length / head_count`: for
/// Nemo, Ministral 3 3B/14B and Gemma 3 they differ.
public struct ModelConfiguration: Sendable, Hashable, Codable {
    public var architecture: ModelArchitecture
    /// `general.name`, when present.
    public var name: String?
    /// The context length the model was trained with (`context_length`).
    public var contextLength: Int
    /// The hidden size (`embedding_length`).
    public var embeddingLength: Int
    /// The number of transformer blocks.
    public var blockCount: Int
    /// The FFN width of each layer.
    public var feedForwardLength: [Int]
    /// Query heads of each layer.
    public var headCount: [Int]
    /// Key/value heads of each layer (grouped-query attention).
    public var headCountKV: [Int]
    /// The key head dimension.
    public var keyLength: Int
    /// The value head dimension.
    public var valueLength: Int
    /// How many dimensions of each head RoPE rotates.
    public var ropeDimensionCount: Int
    /// RoPE θ.
    public var ropeFreqBase: Float
    /// RoPE scaling.
    public var ropeScaling: RopeScaling
    /// The RMSNorm ε.
    public var rmsNormEpsilon: Float
    /// Ministral 3's attention temperature β (`attention.temperature_scale`; 0 = off).
    public var attentionTemperatureScale: Float
    /// An explicit `attention.scale` overriding 1/√head_dim, when present.
    public var attentionScale: Float?
    /// The sliding-window size, for architectures that use one (Gemma 3).
    public var slidingWindow: Int?
    /// Every `slidingWindowPattern`-th layer is global; the others use the sliding window (Gemma 3: 6).
    public var slidingWindowPattern: Int?
    /// Per-layer sliding-window flags, when the file gives `attention.sliding_window_pattern` as an array
    /// (llama.cpp's `load_swa_pattern` takes either form); overrides `slidingWindowPattern`.
    public var slidingWindowLayers: [Bool]?
    /// RoPE θ of the sliding-window layers (Gemma 3: 10 000).
    public var ropeFreqBaseSlidingWindow: Float?
    /// The vocabulary size: the number of `tokenizer.ggml.tokens`, else `{arch}.vocab_size`.
    public var vocabularySize: Int?
    /// Experts per FFN of a sparse mixture-of-experts model (`expert_count`; Mixtral: 8), or 0 for a
    /// dense model.
    public var expertCount: Int = 0
    /// Experts each token goes through (`expert_used_count`; Mixtral: 2), or 0 for a dense model.
    public var expertUsedCount: Int = 0

    /// Whether the FFNs are mixtures of experts.
    public var isMixtureOfExperts: Bool { expertCount > 0 }

    /// Reads the configuration from a file's metadata.
    ///
    /// - Parameter metadata: The metadata.
    /// - Throws: `GGUFError`: `.missingKey` for a required key, `.wrongValueType` or `.invalidValue`
    ///   for a bad one (naming the key), `.unsupportedArchitecture` for an unknown architecture.
    public init(metadata: GGUFMetadata) throws {
        guard let archName = try metadata.string("general.architecture") else {
            throw GGUFError(.missingKey, "general.architecture is missing")
        }
        guard let architecture = ModelArchitecture(rawValue: archName) else {
            throw GGUFError(
                .unsupportedArchitecture,
                "architecture \(archName) is not supported (supported: "
                    + ModelArchitecture.allCases.map(\.rawValue).joined(separator: ", ") + ")",
                offset: metadata.offset(of: "general.architecture"))
        }
        let keys = Keys(metadata: metadata, prefix: archName)
        self.architecture = architecture
        name = try metadata.string("general.name")

        contextLength = try keys.required("context_length", in: 1...Self.maxPositions)
        embeddingLength = try keys.required("embedding_length", in: 1...Self.maxWidth)
        blockCount = try keys.required("block_count", in: 1...Self.maxLayers)
        feedForwardLength = try keys.perLayer("feed_forward_length", layers: blockCount, in: 1...Self.maxWidth)
        headCount = try keys.perLayer("attention.head_count", layers: blockCount, in: 1...Self.maxHeads)
        headCountKV =
            try keys.perLayerOptional("attention.head_count_kv", layers: blockCount, in: 1...Self.maxHeads)
            ?? headCount
        for (layer, (heads, kvHeads)) in zip(headCount, headCountKV).enumerated() where heads % kvHeads != 0 {
            throw keys.invalid(
                "attention.head_count_kv",
                "layer \(layer) has \(heads) query heads, not a multiple of its \(kvHeads) key/value heads")
        }
        let defaultHeadDimension = embeddingLength / headCount[0]
        keyLength = try keys.optional("attention.key_length", in: 1...Self.maxHeadDimension) ?? defaultHeadDimension
        valueLength =
            try keys.optional("attention.value_length", in: 1...Self.maxHeadDimension) ?? defaultHeadDimension
        guard keyLength > 0, valueLength > 0 else {
            throw keys.invalid("attention.key_length", "the head dimension is 0 (embedding_length < head_count)")
        }
        ropeDimensionCount = try keys.optional("rope.dimension_count", in: 0...keyLength) ?? keyLength
        ropeFreqBase = try keys.optionalFloat("rope.freq_base", positive: true) ?? 10_000
        guard let epsilon = try keys.optionalFloat("attention.layer_norm_rms_epsilon", positive: true) else {
            throw GGUFError(.missingKey, "\(archName).attention.layer_norm_rms_epsilon is missing")
        }
        rmsNormEpsilon = epsilon

        let factor = try keys.optionalFloat("rope.scaling.factor", positive: false) ?? 0
        ropeScaling = RopeScaling(
            type: try keys.string("rope.scaling.type") ?? (factor > 0 ? "linear" : "none"),
            factor: factor == 0 ? 1 : factor,
            originalContextLength: try keys.optional(
                "rope.scaling.original_context_length", in: 1...Self.maxPositions) ?? contextLength,
            attentionFactor: try keys.optionalFloat("rope.scaling.attn_factor", positive: true) ?? 1,
            yarnBetaFast: try keys.optionalFloat("rope.scaling.yarn_beta_fast", positive: false) ?? 32,
            yarnBetaSlow: try keys.optionalFloat("rope.scaling.yarn_beta_slow", positive: false) ?? 1,
            yarnLogMultiplier: try keys.optionalFloat("rope.scaling.yarn_log_multiplier", positive: false) ?? 0)
        guard ["none", "linear", "yarn", "longrope"].contains(ropeScaling.type) else {
            throw keys.invalid("rope.scaling.type", "unknown RoPE scaling type \(ropeScaling.type)")
        }
        guard ropeScaling.factor > 0 else {
            throw keys.invalid("rope.scaling.factor", "the factor \(ropeScaling.factor) is negative")
        }
        attentionTemperatureScale = try keys.optionalFloat("attention.temperature_scale", positive: false) ?? 0
        attentionScale = try keys.optionalFloat("attention.scale", positive: true)

        slidingWindowLayers = nil
        if architecture == .gemma3, let window = try keys.optional("attention.sliding_window", in: 0...Self.maxPositions),
            window > 0
        {
            // llama.cpp's gemma3 loader: standard SWA when attention.sliding_window > 0; the pattern is a
            // per-layer array or every n-th layer global (default 6); the local θ is rope.freq_base_swa,
            // else llama_hparams' default of 10 000.
            slidingWindow = window
            if case .array(let flags)? = metadata[keys.key("attention.sliding_window_pattern")] {
                guard flags.count == blockCount else {
                    throw keys.invalid("attention.sliding_window_pattern", "has \(flags.count) values for \(blockCount) layers")
                }
                slidingWindowLayers = try flags.values().enumerated().map { index, value in
                    guard let flag = value.boolValue ?? value.integerValue.map({ $0 != 0 }) else {
                        throw keys.invalid("attention.sliding_window_pattern", "element \(index) is \(value.type), expected BOOL")
                    }
                    return flag
                }
                slidingWindowPattern = nil
            } else {
                slidingWindowPattern = try keys.optional("attention.sliding_window_pattern", in: 1...Self.maxLayers) ?? 6
            }
            ropeFreqBaseSlidingWindow = try keys.optionalFloat("rope.freq_base_swa", positive: true) ?? 10_000
        } else {
            slidingWindow = nil
            slidingWindowPattern = nil
            ropeFreqBaseSlidingWindow = nil
        }

        // llama.cpp's llama_model_load_hparams: expert_count ≤ LLAMA_MAX_EXPERTS (512); a model with
        // experts uses at least one and at most all of them.
        expertCount = try keys.optional("expert_count", in: 0...Self.maxExperts) ?? 0
        expertUsedCount = try keys.optional("expert_used_count", in: 0...Self.maxExperts) ?? 0
        if expertCount > 0, !(1...expertCount).contains(expertUsedCount) {
            throw keys.invalid("expert_used_count", "\(expertUsedCount) of \(expertCount) experts: between 1 and the expert count")
        }
        if expertCount == 0, expertUsedCount != 0 {
            throw keys.invalid("expert_used_count", "\(expertUsedCount) experts used but expert_count is 0")
        }

        if let tokens = try metadata.array("tokenizer.ggml.tokens") {
            vocabularySize = tokens.count
        } else {
            vocabularySize = try keys.optional("vocab_size", in: 1...Int(Int32.max))
        }
    }

    /// Whether layer `layer` attends through the sliding window (false for every layer of models
    /// without one).
    ///
    /// - Parameter layer: The layer index.
    public func usesSlidingWindow(layer: Int) -> Bool {
        guard slidingWindow != nil else { return false }
        if let flags = slidingWindowLayers { return layer < flags.count && flags[layer] }
        guard let pattern = slidingWindowPattern, pattern > 1 else { return false }
        return (layer + 1) % pattern != 0
    }

    /// The KV-cache bytes one token of context costs across all layers.
    ///
    /// - Parameter cacheType: The cache element type (F16 by default; Q8_0 needs head dimensions that
    ///   are whole blocks).
    /// - Returns: The bytes per token, or `nil` if the head dimensions are not whole blocks of the type.
    public func kvCacheBytesPerToken(cacheType: GGMLType = .f16) -> Int? {
        var total = 0
        for kvHeads in headCountKV {
            guard let keys = cacheType.byteCount(forElements: kvHeads * keyLength),
                let values = cacheType.byteCount(forElements: kvHeads * valueLength)
            else { return nil }
            total += keys + values
        }
        return total
    }

    /// The KV-cache bytes for a context of `contextLength` tokens, with sliding-window layers holding
    /// only their window.
    ///
    /// - Parameters:
    ///   - contextLength: Tokens of context.
    ///   - cacheType: The cache element type.
    /// - Returns: The bytes, or `nil` if the head dimensions are not whole blocks of the type.
    public func kvCacheBytes(contextLength: Int, cacheType: GGMLType = .f16) -> Int? {
        var total = 0
        for (layer, kvHeads) in headCountKV.enumerated() {
            guard let keys = cacheType.byteCount(forElements: kvHeads * keyLength),
                let values = cacheType.byteCount(forElements: kvHeads * valueLength)
            else { return nil }
            let tokens = usesSlidingWindow(layer: layer) ? min(contextLength, slidingWindow ?? contextLength) : contextLength
            total += (keys + values) * tokens
        }
        return total
    }

    // Sanity bounds: far above any real model, low enough that derived sizes cannot overflow.
    static let maxPositions = 1 << 26
    static let maxWidth = 1 << 20
    static let maxLayers = 4096
    static let maxHeads = 4096
    static let maxHeadDimension = 1 << 14
    static let maxExperts = 512
}

/// Reads `{arch}.KEY` values with range checks and errors that name the key.
struct Keys {
    let metadata: GGUFMetadata
    let prefix: String

    func key(_ name: String) -> String { "\(prefix).\(name)" }

    func invalid(_ name: String, _ message: String) -> GGUFError {
        GGUFError(.invalidValue, "\(key(name)): \(message)", offset: metadata.offset(of: key(name)))
    }

    func optional(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = try metadata.integer(key(name)) else { return nil }
        guard range.contains(value) else {
            throw invalid(name, "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func required(_ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = try optional(name, in: range) else {
            throw GGUFError(.missingKey, "\(key(name)) is missing")
        }
        return value
    }

    func string(_ name: String) throws -> String? {
        try metadata.string(key(name))
    }

    func optionalFloat(_ name: String, positive: Bool) throws -> Float? {
        guard let value = try metadata.number(key(name)) else { return nil }
        guard value.isFinite, positive ? value > 0 : value >= 0 else {
            throw invalid(name, "\(value) is not a finite \(positive ? "positive" : "non-negative") number")
        }
        return Float(value)
    }

    /// A scalar applied to every layer, or an array of one value per layer.
    func perLayerOptional(_ name: String, layers: Int, in range: ClosedRange<Int>) throws -> [Int]? {
        guard let value = metadata[key(name)] else { return nil }
        if case .array(let array) = value {
            guard array.count == layers else {
                throw invalid(name, "has \(array.count) values for \(layers) layers")
            }
            let values = try array.integers()
            for value in values where !range.contains(value) {
                throw invalid(name, "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
            }
            return values
        }
        guard let single = try optional(name, in: range) else { return nil }
        return Array(repeating: single, count: layers)
    }

    func perLayer(_ name: String, layers: Int, in range: ClosedRange<Int>) throws -> [Int] {
        guard let values = try perLayerOptional(name, layers: layers, in: range) else {
            throw GGUFError(.missingKey, "\(key(name)) is missing")
        }
        return values
    }
}
