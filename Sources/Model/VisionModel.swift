public import GGUF
import Kernels

/// A Pixtral vision encoder and projector (llama.cpp's `mmproj`, `clip` architecture, projector type
/// `pixtral`): the weights, bound in place from the mapped projector file, checked against the text
/// model they feed.
///
/// The graph is llama.cpp's `clip_graph_pixtral`: a patch-embedding convolution, RMSNorm before the
/// first block, blocks of RMSNorm → Q/K/V → 2-D RoPE → attention over every patch → output
/// projection → residual → RMSNorm → SwiGLU FFN → residual; then, for Mistral Small 3.1 and
/// Ministral 3, RMSNorm and a 2×2 patch merger; then a GELU MLP into the text model's width, with the
/// `[IMG_BREAK]` embedding after every row of image tokens but the last.
public final class VisionModel: @unchecked Sendable {
    // @unchecked Sendable: immutable after init; the weights are read-only mapped memory.

    /// One encoder block's weights.
    struct Block {
        let attentionNorm: FloatVector
        let query: WeightMatrix
        let key: WeightMatrix
        let value: WeightMatrix
        let queryBias: FloatVector?
        let keyBias: FloatVector?
        let valueBias: FloatVector?
        let output: WeightMatrix
        let outputBias: FloatVector?
        let ffnNorm: FloatVector
        /// The gate projection, or nil for an ungated FFN (`activation(up)`).
        let gate: WeightMatrix?
        let gateBias: FloatVector?
        let up: WeightMatrix
        let upBias: FloatVector?
        let down: WeightMatrix
        let downBias: FloatVector?
    }

    /// The hyperparameters.
    public let configuration: VisionConfiguration
    /// The parsed projector file the weights live in.
    public let file: GGUFFile
    /// The width of the embeddings the projector makes (the text model's embedding width).
    public let outputWidth: Int
    /// The patch embedding: `width` outputs by `3 · patch²` inputs, each input row ordered channel,
    /// then patch row, then patch column (the convolution kernel's ggml layout `[p, p, 3, width]`).
    let patchEmbedding: WeightMatrix
    let patchBias: FloatVector?
    let preNorm: FloatVector?
    let blocks: [Block]
    let postNorm: FloatVector?
    /// The patch merger (Mistral Small 3.1, Ministral 3): RMSNorm, then `width` outputs by
    /// `width · merge²` inputs over each `merge × merge` group of patches.
    let mergerNorm: FloatVector?
    let merger: WeightMatrix?
    let projection1: WeightMatrix
    let projection1Bias: FloatVector?
    let projection2: WeightMatrix
    let projection2Bias: FloatVector?
    /// The `[IMG_BREAK]` token's embedding (`outputWidth` floats), placed after each row of image
    /// tokens but the last.
    let rowBreak: [Float]

    /// Binds a projector file's weights.
    ///
    /// - Parameter file: The parsed projector file (kept alive by the weights).
    /// - Throws: `GGUFError` for bad metadata, `ModelError` (`.missingTensor`, `.wrongShape`,
    ///   `.unsupportedTensorType`, `.unsupportedArchitecture`) for tensors that do not fit it.
    public init(file: GGUFFile) throws {
        let c = try VisionConfiguration(metadata: file.metadata)
        configuration = c
        self.file = file
        let bind = TensorBinder(file: file)
        let width = c.embeddingLength
        let qDim = c.headCount * c.headDimension
        let kvDim = c.headCountKV * c.headDimension
        let patchInputs = 3 * c.patchSize * c.patchSize

        func optionalVector(_ name: String, _ count: Int) throws -> FloatVector? {
            bind.has(name) ? try bind.vector(name, count: count) : nil
        }

        patchEmbedding = try bind.matrix(
            "v.patch_embd.weight", dimensions: [c.patchSize, c.patchSize, 3, width], rows: width, columns: patchInputs)
        patchBias = try optionalVector("v.patch_embd.bias", width)
        preNorm = try optionalVector("v.pre_ln.weight", width)
        postNorm = try optionalVector("v.post_ln.weight", width)
        if c.activation == .geluQuick {
            throw ModelError(.unsupportedArchitecture, "the projector's FFN uses GELU-quick, which the Pixtral encoder does not")
        }
        blocks = try (0..<c.blockCount).map { i in
            let p = "v.blk.\(i)."
            let gated = bind.has(p + "ffn_gate.weight")
            return Block(
                attentionNorm: try bind.vector(p + "ln1.weight", count: width),
                query: try bind.matrix(p + "attn_q.weight", rows: qDim, columns: width),
                key: try bind.matrix(p + "attn_k.weight", rows: kvDim, columns: width),
                value: try bind.matrix(p + "attn_v.weight", rows: kvDim, columns: width),
                queryBias: try optionalVector(p + "attn_q.bias", qDim),
                keyBias: try optionalVector(p + "attn_k.bias", kvDim),
                valueBias: try optionalVector(p + "attn_v.bias", kvDim),
                output: try bind.matrix(p + "attn_out.weight", rows: width, columns: qDim),
                outputBias: try optionalVector(p + "attn_out.bias", width),
                ffnNorm: try bind.vector(p + "ln2.weight", count: width),
                gate: gated ? try bind.matrix(p + "ffn_gate.weight", rows: c.feedForwardLength, columns: width) : nil,
                gateBias: try optionalVector(p + "ffn_gate.bias", c.feedForwardLength),
                up: try bind.matrix(p + "ffn_up.weight", rows: c.feedForwardLength, columns: width),
                upBias: try optionalVector(p + "ffn_up.bias", c.feedForwardLength),
                down: try bind.matrix(p + "ffn_down.weight", rows: width, columns: c.feedForwardLength),
                downBias: try optionalVector(p + "ffn_down.bias", width))
        }
        if bind.has("mm.patch_merger.weight") {
            guard c.mergeSize > 1 else {
                throw ModelError(.wrongShape, "the projector has a patch merger but clip.vision.spatial_merge_size is 1")
            }
            mergerNorm = try bind.vector("mm.input_norm.weight", count: width)
            merger = try bind.matrix("mm.patch_merger.weight", rows: width, columns: width * c.mergeSize * c.mergeSize)
        } else {
            guard c.mergeSize == 1 else {
                throw ModelError(.missingTensor, "tensor mm.patch_merger.weight is missing for a spatial merge of \(c.mergeSize)")
            }
            mergerNorm = nil
            merger = nil
        }
        guard let second = file.tensor(named: "mm.2.weight"), second.dimensions.count == 2 else {
            throw ModelError(.missingTensor, "tensor mm.2.weight is missing or not 2-D")
        }
        let output = second.dimensions[1]
        guard output >= 1, output <= VisionConfiguration.maximumWidth else {
            throw ModelError(.wrongShape, "tensor mm.2.weight projects to \(output) floats")
        }
        outputWidth = output
        guard let first = file.tensor(named: "mm.1.weight"), first.dimensions.count == 2, first.dimensions[0] == width else {
            throw ModelError(.missingTensor, "tensor mm.1.weight is missing or does not take \(width) inputs")
        }
        let inner = first.dimensions[1]
        guard inner >= 1, inner <= VisionConfiguration.maximumFeedForward else {
            throw ModelError(.wrongShape, "tensor mm.1.weight projects to \(inner) floats")
        }
        projection1 = try bind.matrix("mm.1.weight", rows: inner, columns: width)
        projection1Bias = try optionalVector("mm.1.bias", inner)
        projection2 = try bind.matrix("mm.2.weight", rows: output, columns: inner)
        projection2Bias = try optionalVector("mm.2.bias", output)
        rowBreak = try bind.floats("v.token_embd.img_break", count: output)
    }

    /// Checks that this projector feeds `text`: its embeddings have the text model's width.
    ///
    /// - Parameter text: The text model.
    /// - Throws: `ModelError` `.wrongShape` naming both widths.
    public func check(feeds text: LlamaModel) throws {
        let width = text.configuration.embeddingLength
        guard outputWidth == width else {
            throw ModelError(
                .wrongShape,
                "the vision projector makes \(outputWidth)-wide embeddings, but the text model's width is \(width): "
                    + "it belongs to another model")
        }
    }

    /// The projector's inner width (`mm.1`'s outputs).
    public var projection1Rows: Int { projection1.rows }

    /// Bytes of weights the encoder reads per image (every tensor of the file).
    public var weightByteCount: Int { file.tensorByteCount }
}
