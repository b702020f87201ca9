internal import CKernels

/// Two matrices of the same shape over one input, band of rows by band of rows: an FFN's gate and up
/// projections for a batch, so that up's output needs only a band's worth of memory. The caller
/// combines each band (SwiGLU into the gate's output) before the next one overwrites it; a batch of
/// 512 tokens on a 9216-wide FFN then holds 18 MiB of up outputs as 2 MiB.
///
/// Every weight row is still read once per call (a band is a range of rows, multiplied against the
/// whole batch), the input is quantized once, and each row goes through the same kernel with the
/// same activation bytes as in `multiply(_:batch:count:into:)`: the outputs are bit-identical to it.
extension MatrixMultiplier {
    /// `Y₁ = X · W₁ᵀ` in full and `Y₂ = X · W₂ᵀ` one band of rows at a time, calling `afterBand`
    /// after each band.
    ///
    /// - Parameters:
    ///   - first: The first weights (`rows × columns`), e.g. the FFN gate.
    ///   - second: The second weights, the same shape, e.g. the FFN up projection.
    ///   - x: `count × columns` activations, row-major.
    ///   - count: The number of activation rows (2 or more).
    ///   - bandRows: Rows per band, a multiple of 64.
    ///   - y: `count × rows` outputs of `first`, row-major.
    ///   - z: `count × bandRows` floats: band `b`'s outputs of `second`, row-major with a row length
    ///     of the band's row count (the last band may be shorter).
    ///   - afterBand: Called with each band's row range once both outputs hold it.
    public func multiplyInBands(
        _ first: WeightMatrix, _ second: WeightMatrix, batch x: UnsafeBufferPointer<Float>, count: Int, bandRows: Int,
        first y: UnsafeMutablePointer<Float>, secondBand z: UnsafeMutablePointer<Float>,
        afterBand: (Range<Int>) -> Void
    ) {
        inBands(first, second, batch: x, count: count, bandRows: bandRows, first: y, firstIsBand: false, second: z, afterBand: afterBand)
    }

    /// The bytes of `count` rows of `w`'s input in its quantized activation format (what
    /// `feedForwardInBands` writes for a down projection `w`), or `nil` when `w` takes float
    /// activations as they are (F32, F16 and BF16 weights).
    ///
    /// - Parameters:
    ///   - w: The weights the activations are for.
    ///   - count: Activation rows.
    public func quantizedActivationBytes(for w: WeightMatrix, count: Int) -> Int? {
        let format = w.type.activationFormat
        return format == .f32 ? nil : count * format.rowByteCount(columns: w.columns)
    }

    /// A batch's gated FFN in bands of FFN rows, holding only a band of each projection: for each
    /// band of `bandRows` rows, the gate and up projections of that band, `combine` (which turns the
    /// gate's band into the FFN's activation, e.g. SwiGLU), and that band of every row quantized into
    /// `activations` in `down`'s activation format; then the down projection over them.
    ///
    /// The same bits as the gate and up projections in full, `combine` over whole rows and
    /// `multiply(down, …)`: every weight row goes through the same kernel with the same activation
    /// bytes, and quantization works block by block (bands start at multiples of 256, a whole number
    /// of Q8_0 and Q8_K blocks). A 512-token batch of a 9216-wide FFN holds 2 MiB of gate outputs
    /// instead of 18 MiB, plus the down projection's 5 MiB of quantized input.
    ///
    /// - Parameters:
    ///   - gate: The gate weights (`ffn × hidden`).
    ///   - up: The up weights, the same shape.
    ///   - down: The down weights (`hidden × ffn`) with a quantized activation format
    ///     (`quantizedActivationBytes(for:count:)` is not `nil`).
    ///   - x: `count × hidden` activations, row-major.
    ///   - count: Activation rows (2 or more).
    ///   - bandRows: FFN rows per band, a multiple of 256.
    ///   - gateBand: `count × bandRows` floats: a band of gate outputs, row length the band's width.
    ///   - upBand: The same for the up projection.
    ///   - activations: `quantizedActivationBytes(for: down, count: count)` bytes.
    ///   - combine: Called with each band's row range once `gateBand` and `upBand` hold it; leaves
    ///     the FFN's activation for those rows in `gateBand`.
    ///   - y: `count × hidden` outputs.
    public func feedForwardInBands(
        gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix, batch x: UnsafeBufferPointer<Float>, count: Int,
        bandRows: Int, gateBand: UnsafeMutablePointer<Float>, upBand: UnsafeMutablePointer<Float>,
        activations: UnsafeMutableRawPointer, combine: (Range<Int>) -> Void, into y: UnsafeMutablePointer<Float>
    ) {
        let format = down.type.activationFormat
        precondition(format != .f32 && down.columns == gate.rows, "the down projection takes float activations or differs in shape")
        precondition(bandRows > 0 && bandRows % 256 == 0, "bands must start at whole activation blocks")
        let ffn = gate.rows
        let stride = format.rowByteCount(columns: ffn)
        inBands(gate, up, batch: x, count: count, bandRows: bandRows, first: gateBand, firstIsBand: true, second: upBand) { band in
            combine(band)
            quantize(
                format, rows: count, columns: band.count, from: gateBand, stride: band.count,
                into: activations + format.rowByteCount(columns: band.lowerBound), stride: stride)
        }
        multiply(down, activations: UnsafeRawPointer(activations), stride: stride, count: count, into: y)
    }

    /// `first`'s outputs in full (row length `first.rows`) or, with `firstIsBand`, band by band as
    /// `second`'s (row length the band's width).
    private func inBands(
        _ first: WeightMatrix, _ second: WeightMatrix, batch x: UnsafeBufferPointer<Float>, count: Int, bandRows: Int,
        first y: UnsafeMutablePointer<Float>, firstIsBand: Bool, second z: UnsafeMutablePointer<Float>,
        afterBand: (Range<Int>) -> Void
    ) {
        precondition(first.rows == second.rows && first.columns == second.columns, "the two matrices differ in shape")
        precondition(count > 1 && x.count >= count * first.columns && bandRows > 0 && bandRows % 64 == 0, "bad batch or band")
        let table = table(rows: count)
        guard let firstKernel = table.matmul(for: first.type), let secondKernel = table.matmul(for: second.type) else {
            preconditionFailure("no \(first.type)/\(second.type) mat-mat on the \(path) path")
        }
        let rows = first.rows
        let columns = first.columns
        // Chunks of a quarter band per thread (multiples of 16 rows), both matrices in one dispatch.
        let step = max(16, (bandRows / (pool.threadCount * 2) + 15) / 16 * 16)

        func run(_ band: Range<Int>, firstActivations: (UnsafeRawPointer, Int)?, secondActivations: (UnsafeRawPointer, Int)?) {
            var chunks: [(second: Bool, rows: Range<Int>)] = []
            for (isSecond, present) in [(false, firstActivations != nil), (true, secondActivations != nil)] where present {
                var start = band.lowerBound
                while start < band.upperBound {
                    chunks.append((isSecond, start..<min(band.upperBound, start + step)))
                    start += step
                }
            }
            // A banded output starts at its pointer: row r of it is at base + t · width + (r − band start).
            let width = band.count
            let shifted = z - band.lowerBound
            let (firstOut, firstWidth) = firstIsBand ? (y - band.lowerBound, width) : (y, rows)
            let chunkList = chunks
            pool.parallelFor(count: chunks.count, chunk: 1) { range in
                for c in range {
                    let (isSecond, chunk) = chunkList[c]
                    if isSecond, let (xq, xqStride) = secondActivations {
                        secondKernel(
                            second.base, second.rowStride, xq, xqStride, count, shifted, width, chunk.lowerBound,
                            chunk.upperBound, columns)
                    } else if let (xq, xqStride) = firstActivations {
                        firstKernel(
                            first.base, first.rowStride, xq, xqStride, count, firstOut, firstWidth, chunk.lowerBound,
                            chunk.upperBound, columns)
                    }
                }
            }
        }

        let bands = stride(from: 0, to: rows, by: bandRows).map { $0..<min(rows, $0 + bandRows) }
        if first.type.activationFormat == second.type.activationFormat {
            withActivations(for: first, x, count: count) { xq, xqStride in
                for band in bands {
                    run(band, firstActivations: (xq, xqStride), secondActivations: (xq, xqStride))
                    afterBand(band)
                }
            }
        } else {
            // Activations in two formats share one scratch: quantized again per band (a rare mix).
            for band in bands {
                withActivations(for: first, x, count: count) { run(band, firstActivations: ($0, $1), secondActivations: nil) }
                withActivations(for: second, x, count: count) { run(band, firstActivations: nil, secondActivations: ($0, $1)) }
                afterBand(band)
            }
        }
    }
}
