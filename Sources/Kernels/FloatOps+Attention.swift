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

    /// The most query heads one `attendF16Heads` call takes.
    public static let attendF16MaxHeads = Int(CK_ATTEND_MAX_HEADS)

    /// `attendF16` for `count` query heads that share one KV head: the same bits as `count` calls, with
    /// each K and V row walked once for all of them (on AVX2; see `attend_f16_heads` in
    /// `CKernelsOps.h`). A prompt's attention streams every KV head's rows once per query head
    /// otherwise: from L3, once they outgrow L2, which bounds long prompts.
    ///
    /// - Parameters:
    ///   - queries: `count` heads of `headDimension` floats, one after the other.
    ///   - count: Query heads (1...`attendF16MaxHeads`).
    ///   - keys, values, headDimension, cells, positions, scale: As `attendF16`.
    ///   - scratch: `count` runs of `attendF16ScratchCount(headDimension:visible:)` floats.
    ///   - out: `count` heads of `headDimension` floats, one after the other.
    /// - Warning: The pointers must be valid for the sizes above during the call.
    public func attendF16Heads(
        queries: UnsafePointer<Float>, count: Int, keys: UnsafeRawPointer, values: UnsafeRawPointer,
        headDimension: Int, cells: Int, positions: Range<Int>, scale: Float, scratch: UnsafeMutablePointer<Float>,
        into out: UnsafeMutablePointer<Float>
    ) {
        precondition(
            !positions.isEmpty && positions.lowerBound >= 0 && headDimension > 0
                && (1...Self.attendF16MaxHeads).contains(count), "attendF16Heads: nothing to attend")
        let stride = Self.attendF16ScratchCount(headDimension: headDimension, visible: positions.upperBound)
        withUnsafeTemporaryAllocation(of: ck_attend_args.self, capacity: count) { arguments in
            for h in 0..<count {
                arguments[h] = ck_attend_args(
                    q: queries + h * headDimension, keys: keys, values: values, head_dim: headDimension, cells: cells,
                    first: positions.lowerBound, visible: positions.upperBound, scale: scale,
                    scratch: scratch + h * stride, out: out + h * headDimension)
            }
            c.attendF16Heads(c.table, arguments.baseAddress!, count)
        }
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
