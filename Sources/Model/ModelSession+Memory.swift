public import GGUF

extension ModelSession {
    /// The most tokens the CLI and daemon feed `evaluate` at once (longer prompts go in batches of this
    /// size: prefill equals token-by-token evaluation bit for bit, so batching changes no result).
    /// `evaluate` itself splits longer inputs into batches of this size, which the sliding-window
    /// layers' KV rings are sized for.
    public static let maximumBatch = 512

    /// The tokens a long prompt of a dense model is fed in at once by `evaluate` and the CLI (the
    /// daemon's scheduler has its own chunk, also 256 by default). Half of `maximumBatch`: a batch's
    /// buffers grow with its tokens (~70 KiB per token on the 3B shape), and each batch reads the
    /// weights once more, which at 256 tokens costs nothing measurable (3B shape, pp512, 2 threads:
    /// 24.4-26.7 tokens/s in 512-token batches, 24.8-27.8 in 256-token ones; peak RSS over file + KV
    /// 96 -> 77 MiB).
    public static let densePrefillBatch = 256

    /// The tokens `evaluate` and the CLI feed at once: `densePrefillBatch`, or `maximumBatch` for a
    /// mixture of experts, where each expert multiplies only the rows routed to it (a quarter of
    /// them for Mixtral's 2 of 8), so a batch reads its weights for a quarter of the work and halving
    /// it costs (the 2-layer Mixtral-width Q4_K_M file, pp512: 175 against 184 tokens/s).
    public var prefillBatch: Int {
        model.configuration.isMixtureOfExperts ? Self.maximumBatch : Self.densePrefillBatch
    }

    /// The scratch bytes a session allocates for batches of up to `batch` tokens with logits for the
    /// last one: the forward pass's buffers plus the quantized-activation scratch of the multiplier.
    ///
    /// - Parameters:
    ///   - configuration: The model's hyperparameters.
    ///   - vocabulary: The vocabulary size.
    ///   - batch: The largest batch.
    ///   - banded: Whether the model's FFN runs in bands (`LlamaModel.feedForwardRunsInBands`).
    /// - Returns: Bytes.
    public static func scratchBytes(configuration c: ModelConfiguration, vocabulary: Int, batch: Int, banded: Bool) -> Int {
        let hidden = c.embeddingLength
        let qDim = (c.headCount.max() ?? 1) * c.keyLength
        let ffn = c.feedForwardLength.max() ?? 1
        let n = Buffers.counts(configuration: c, tokens: batch, banded: banded)
        let floats = 2 * n.hidden + n.q + 2 * n.kv + n.gate + n.up + n.router + n.gathered + n.expertOutputs + vocabulary
        // Q8 activations: about 1.14 bytes per float of the widest input the multiplier quantizes
        // (34/32 for Q8_0, 292/256 for Q8_K); a banded FFN's down input has its own buffer.
        let widest = banded ? max(hidden, qDim) : max(hidden, ffn, qDim)
        let quantized = batch * widest * 292 / 256
        return floats * 4 + quantized + Buffers.downInputBytes(configuration: c, tokens: batch, banded: banded)
    }
}
