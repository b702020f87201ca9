internal import CKernels

/// One query head's attention over an F16 KV cache, in one C call (see `attend_f16` in
/// `Sources/CKernels/include/CKernelsOps.h`).
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
        query: UnsafePointer<Float>, keys: UnsafePointer<UInt16>, values: UnsafePointer<UInt16>, headDimension: Int,
        cells: Int, positions: Range<Int>, scale: Float, scratch: UnsafeMutablePointer<Float>,
        into out: UnsafeMutablePointer<Float>
    ) {
        precondition(!positions.isEmpty && positions.lowerBound >= 0 && headDimension > 0, "attendF16: nothing to attend")
        var arguments = ck_attend_f16_args(
            q: query, keys: UnsafeRawPointer(keys), values: UnsafeRawPointer(values), head_dim: headDimension,
            cells: cells, first: positions.lowerBound, visible: positions.upperBound, scale: scale, scratch: scratch,
            out: out)
        c.attendF16(c.table, &arguments)
    }
}
