internal import CKernels

/// One query head's attention over an F16 or Q8_0 KV cache, in one C call (see `attend_f16` and
/// `attend_q8_0` in `Sources/CKernels/include/CKernelsOps.h`).
extension FloatOps {
    /// The floats of scratch `attendF16` needs for `visible` positions.
    ///
    /// - Parameters:
    ///   - headDimension: Floats per head.
    ///   - visible: One past the last visible position.
    /// - Returns: A float count.
    public static func attendF16ScratchCount(headDimension: Int, visible: Int) -> Int {
        ck_attend_f16_scratch_floats(headDimension, visible)
    }

    /// Causal attention of one query head over the F16 keys and values of one KV head, as llama.cpp's
    /// non-flash decode path computes it: K·Q with Q rounded to F16 (ggml_vec_dot_f16), softmax over
    /// the score row padded to 64-lane groups, probabilities rounded to F16, then P·V as
    /// ggml_vec_dot_f16 over the transposed V (position p in slot p mod 64, fused multiply-adds in
    /// position order, GGML_F32x16_REDUCE then `_mm512_reduce_add_ps` over the slots). The same bits on
    /// every path except for the K·Q dot, which is the path's `dotF16`.
    ///
    /// - Parameters:
    ///   - query: `headDimension` floats.
    ///   - keys: The KV head's cells, `cells × headDimension` F16 values.
    ///   - values: Laid out as `keys`.
    ///   - headDimension: Floats per head.
    ///   - cells: Cells of the cache; position `p` is in cell `p` (below `cells`) or `p mod cells`.
    ///   - positions: The visible positions (not empty).
    ///   - scale: The softmax scale.
    ///   - scratch: `attendF16ScratchCount(headDimension:visible:)` floats.
    ///   - out: `headDimension` floats.
    /// - Warning: The pointers must be valid for the sizes above during the call.
    public func attendF16(
        query: UnsafePointer<Float>, keys: UnsafeRawPointer, values: UnsafeRawPointer, headDimension: Int,
        cells: Int, positions: Range<Int>, scale: Float, scratch: UnsafeMutablePointer<Float>,
        into out: UnsafeMutablePointer<Float>
    ) {
        precondition(!positions.isEmpty && positions.lowerBound >= 0 && headDimension > 0, "attendF16: nothing to attend")
        var arguments = ck_attend_args(
            q: query, keys: keys, values: values, head_dim: headDimension,
            cells: cells, first: positions.lowerBound, visible: positions.upperBound, scale: scale, scratch: scratch,
            out: out)
        c.attendF16(c.table, &arguments)
    }

    /// The floats of scratch `attendQ8_0` needs.
    ///
    /// - Parameter headDimension: Floats per head.
    /// - Returns: A float count.
    public static func attendQ8_0ScratchCount(headDimension: Int) -> Int {
        ck_attend_q8_0_scratch_floats(headDimension)
    }

    /// Causal attention of one query head over the Q8_0 keys and values of one KV head, as llama.cpp's
    /// CPU flash-attention kernel computes it for a quantized cache: the query quantized to Q8_0, K·Q
    /// as Q8_0 dot products, an online softmax in position order, V rows dequantized and accumulated
    /// with fused multiply-adds, then divided by the softmax sum.
    ///
    /// - Parameters:
    ///   - query: `headDimension` floats (a multiple of 32).
    ///   - keys: The KV head's cells, `cells` rows of `headDimension / 32` Q8_0 blocks.
    ///   - values: Laid out as `keys`.
    ///   - headDimension: Floats per head.
    ///   - cells: Cells of the cache; position `p` is in cell `p` (below `cells`) or `p mod cells`.
    ///   - positions: The visible positions (not empty).
    ///   - scale: The softmax scale.
    ///   - scratch: `attendQ8_0ScratchCount(headDimension:)` floats.
    ///   - out: `headDimension` floats.
    /// - Warning: The pointers must be valid for the sizes above during the call.
    public func attendQ8_0(
        query: UnsafePointer<Float>, keys: UnsafeRawPointer, values: UnsafeRawPointer, headDimension: Int,
        cells: Int, positions: Range<Int>, scale: Float, scratch: UnsafeMutablePointer<Float>,
        into out: UnsafeMutablePointer<Float>
    ) {
        precondition(
            !positions.isEmpty && positions.lowerBound >= 0 && headDimension > 0 && headDimension % 32 == 0,
            "attendQ8_0: nothing to attend, or a head dimension that is not whole Q8_0 blocks")
        var arguments = ck_attend_args(
            q: query, keys: keys, values: values, head_dim: headDimension, cells: cells, first: positions.lowerBound,
            visible: positions.upperBound, scale: scale, scratch: scratch, out: out)
        c.attendQ8_0(c.table, &arguments)
    }
}
