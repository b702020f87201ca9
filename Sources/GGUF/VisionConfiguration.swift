/// The image encoder of a multimodal projector file (`mmproj`, llama.cpp's `clip` architecture), from
/// its `clip.*` metadata.
///
/// Brise runs the `pixtral` projector: Pixtral 12B, Mistral Small 3.1 and Ministral 3's vision towers
/// (a ViT with 2-D RoPE, RMSNorm and a SwiGLU FFN, an optional 2×2 patch merger, and a GELU MLP into
/// the text model's embedding width). Every count is checked against a bound before anything is
/// sized from it.
public struct VisionConfiguration: Sendable, Equatable {
    /// The projector types Brise runs (`clip.projector_type`).
    public enum Projector: String, Sendable, CaseIterable {
        /// Pixtral: with `spatial_merge_size` 2 and `mm.patch_merger`, Mistral Small 3.1 and Ministral 3.
        case pixtral
    }

    /// The feed-forward activation (`clip.use_silu`, `clip.use_gelu`; GELU-quick when neither).
    public enum Activation: String, Sendable {
        case silu, gelu, geluQuick
    }

    /// The projector type.
    public var projector: Projector
    /// The encoder's width (`clip.vision.embedding_length`).
    public var embeddingLength: Int
    /// The FFN's inner width (`clip.vision.feed_forward_length`).
    public var feedForwardLength: Int
    /// Transformer blocks (`clip.vision.block_count`).
    public var blockCount: Int
    /// Attention heads (`clip.vision.attention.head_count`).
    public var headCount: Int
    /// Key/value heads (`clip.vision.attention.head_count_kv`, else `headCount`).
    public var headCountKV: Int
    /// Floats per head (`clip.vision.attention.head_dim`, else width / heads).
    public var headDimension: Int
    /// RMSNorm ε (`clip.vision.attention.layer_norm_epsilon`).
    public var normEpsilon: Float
    /// The nominal image side (`clip.vision.image_size`); llama.cpp sizes Pixtral images by token
    /// limits instead.
    public var imageSize: Int
    /// Pixels per patch side (`clip.vision.patch_size`).
    public var patchSize: Int
    /// Patches merged per side into one image token (`clip.vision.spatial_merge_size`, else 1).
    public var mergeSize: Int
    /// Per-channel normalization mean and standard deviation (`clip.vision.image_mean`/`image_std`).
    public var imageMean: [Float]
    public var imageStandardDeviation: [Float]
    /// The FFN activation.
    public var activation: Activation
    /// The 2-D RoPE frequency base (llama.cpp fixes it at 10 000 for Pixtral).
    public var ropeBase: Float = 10_000

    /// Bounds on every count, so a hostile file cannot size buffers from a huge value.
    public static let maximumWidth = 16_384
    public static let maximumFeedForward = 65_536
    public static let maximumBlocks = 256
    public static let maximumHeads = 256
    public static let maximumPatchSize = 256
    public static let maximumMergeSize = 8

    /// Reads the configuration from a projector file's metadata.
    ///
    /// - Parameter metadata: The file's metadata.
    /// - Throws: `GGUFError`: `.unsupportedArchitecture` when the file is not a `clip` file with a
    ///   vision encoder of a projector type Brise runs, `.missingKey` for a required key,
    ///   `.wrongValueType`/`.invalidValue` (naming the key) for a bad one.
    public init(metadata: GGUFMetadata) throws {
        let architecture = try metadata.string("general.architecture")
        guard architecture == "clip" else {
            throw GGUFError(
                .unsupportedArchitecture,
                "a vision projector is a `clip` file (llama.cpp's mmproj); this one is \(architecture.map { "`\($0)`" } ?? "unlabelled")",
                offset: metadata.offset(of: "general.architecture"))
        }
        guard try metadata.bool("clip.has_vision_encoder") ?? false else {
            throw GGUFError(.unsupportedArchitecture, "this projector file has no vision encoder (clip.has_vision_encoder)")
        }
        let typeKey = metadata.contains("clip.vision.projector_type") ? "clip.vision.projector_type" : "clip.projector_type"
        guard let typeName = try metadata.string(typeKey) else {
            throw GGUFError(.missingKey, "clip.projector_type is missing")
        }
        guard let projector = Projector(rawValue: typeName) else {
            throw GGUFError(
                .unsupportedArchitecture,
                "projector type \(typeName) is not supported (supported: "
                    + Projector.allCases.map(\.rawValue).joined(separator: ", ") + ")",
                offset: metadata.offset(of: typeKey))
        }
        self.projector = projector
        let keys = Keys(metadata: metadata, prefix: "clip.vision")
        embeddingLength = try keys.required("embedding_length", in: 1...Self.maximumWidth)
        feedForwardLength = try keys.required("feed_forward_length", in: 1...Self.maximumFeedForward)
        blockCount = try keys.required("block_count", in: 1...Self.maximumBlocks)
        headCount = try keys.required("attention.head_count", in: 1...Self.maximumHeads)
        headCountKV = try keys.optional("attention.head_count_kv", in: 1...Self.maximumHeads) ?? headCount
        guard headCount % headCountKV == 0 else {
            throw keys.invalid("attention.head_count_kv", "\(headCountKV) does not divide \(headCount) heads")
        }
        if let dimension = try keys.optional("attention.head_dim", in: 2...Self.maximumWidth) {
            headDimension = dimension
        } else {
            guard embeddingLength % headCount == 0 else {
                throw keys.invalid("attention.head_count", "\(headCount) heads do not divide the width \(embeddingLength)")
            }
            headDimension = embeddingLength / headCount
        }
        // 2-D RoPE rotates each half of a head by pairs.
        guard headDimension % 4 == 0 else {
            throw keys.invalid("attention.head_count", "a head of \(headDimension) floats cannot take 2-D RoPE (needs a multiple of 4)")
        }
        guard let epsilon = try keys.optionalFloat("attention.layer_norm_epsilon", positive: true) else {
            throw GGUFError(.missingKey, "clip.vision.attention.layer_norm_epsilon is missing")
        }
        normEpsilon = epsilon
        imageSize = try keys.required("image_size", in: 1...65_536)
        patchSize = try keys.required("patch_size", in: 1...Self.maximumPatchSize)
        mergeSize = try keys.optional("spatial_merge_size", in: 1...Self.maximumMergeSize) ?? 1
        imageMean = try Self.channels(metadata, "clip.vision.image_mean", positive: false)
        imageStandardDeviation = try Self.channels(metadata, "clip.vision.image_std", positive: true)
        let silu = try metadata.bool("clip.use_silu") ?? false
        let gelu = try metadata.bool("clip.use_gelu") ?? false
        guard !(silu && gelu) else {
            throw GGUFError(.invalidValue, "clip.use_silu and clip.use_gelu are both set", offset: metadata.offset(of: "clip.use_gelu"))
        }
        activation = silu ? .silu : gelu ? .gelu : .geluQuick
    }

    /// Three finite per-channel values.
    private static func channels(_ metadata: GGUFMetadata, _ key: String, positive: Bool) throws -> [Float] {
        guard let array = try metadata.array(key) else {
            throw GGUFError(.missingKey, "\(key) is missing")
        }
        guard array.count == 3 else {
            throw GGUFError(.invalidValue, "\(key) has \(array.count) values, not 3 (R, G, B)", offset: metadata.offset(of: key))
        }
        let values = try array.floats()
        for value in values where !value.isFinite || (positive && value <= 0) {
            throw GGUFError(
                .invalidValue, "\(key) holds \(value), not a finite\(positive ? " positive" : "") number", offset: metadata.offset(of: key))
        }
        return values
    }
}
