internal import CKernels
internal import COpenBLAS

/// Large matrix products through OpenBLAS's SGEMM, for work where llama.cpp's batched path is the
/// reference and bit-identity with its vec-dot order is not asked (the vision encoder: thousands of
/// patch rows per product, which our vec-dot-ordered mat-mat kernels run at a quarter of the
/// machine's FMA rate).
///
/// The numbers are llama.cpp's up to summation order: the activations are first rounded to the
/// format the weight type's dot products take (F16 for F16 weights, a Q8_0 or Q8_K round trip for
/// quantized ones, as ggml's `vec_dot_type` does), and the weights are dequantized exactly, so each
/// product is the one ggml forms; only the F32 sums run in another order. The workers of the pool
/// each take blocks of weight rows, dequantize them into their own scratch and run a single-threaded
/// SGEMM on them (OpenBLAS's own threads stay at one: the pool is the only source of parallelism,
/// so the CPU budget holds).
extension MatrixMultiplier {
    /// Weight rows per block a worker dequantizes and multiplies at once.
    public static let blasBlockRows = 512

    /// `Y = X · Wᵀ` for a large batch: as `multiply(_:batch:count:into:)`, through SGEMM.
    ///
    /// - Parameters:
    ///   - w: The weights (`rows × columns`), any type this multiplier reads.
    ///   - x: `count × columns` activations, row-major.
    ///   - count: The number of activation rows.
    ///   - y: `count × rows` outputs, row-major.
    public func multiplyThroughBLAS(
        _ w: WeightMatrix, batch x: UnsafeBufferPointer<Float>, count: Int, into y: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(count >= 0 && x.count >= count * w.columns && y.count >= count * w.rows, "shape mismatch")
        guard count > 0, w.rows > 0 else { return }
        Self.singleThreadedBLAS()
        let columns = w.columns
        // The activations as the weight type's dot products see them.
        let rounded = UnsafeMutablePointer<Float>.allocate(capacity: count * columns)
        defer { rounded.deallocate() }
        let source = x.baseAddress!
        let table = self.table.pointee
        let format = w.type.activationFormat
        let type = w.type
        pool.parallelFor(count: count, chunk: max(1, count / (pool.threadCount * 4))) { range in
            withUnsafeTemporaryAllocation(byteCount: max(64, columns / 32 * 40 + columns / 256 * 300), alignment: 64) { block in
                for row in range {
                    let from = source + row * columns
                    let to = rounded + row * columns
                    switch format {
                    case .f32:
                        switch type {
                        case .f16:
                            let bits = block.baseAddress!
                            var done = 0
                            // In pieces that fit the scratch (two bytes per value), with the path's
                            // vector conversions.
                            while done < columns {
                                let n = min(columns - done, block.count / 2)
                                table.fp32_to_fp16_row(from + done, bits, n)
                                table.fp16_to_fp32_row(bits, to + done, n)
                                done += n
                            }
                        case .bf16:
                            let bits = block.baseAddress!.assumingMemoryBound(to: UInt16.self)
                            var done = 0
                            while done < columns {
                                let n = min(columns - done, block.count / 2)
                                ck_fp32_to_bf16_row(from + done, bits, n)
                                ck_dequantize_row_bf16(bits, to + done, n)
                                done += n
                            }
                        default:
                            to.update(from: from, count: columns)
                        }
                    case .q8_0:
                        table.quantize_q8_0(from, block.baseAddress!, columns)
                        ck_dequantize_row_q8_0(block.baseAddress!, to, columns)
                    case .q8_K:
                        table.quantize_q8_K(from, block.baseAddress!, columns)
                        ck_dequantize_row_q8_K(block.baseAddress!, to, columns)
                    }
                }
            }
        }
        // Large blocks: SGEMM packs the activations again for every block (512 measured best of 128,
        // 512 and one block per worker on the 3B-sized encoder).
        let blockRows = Self.blasBlockRows
        let blocks = (w.rows + blockRows - 1) / blockRows
        let output = y.baseAddress!
        let rows = w.rows
        pool.parallelFor(count: blocks, chunk: 1) { range in
            let weights = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * columns)
            defer { weights.deallocate() }
            for b in range {
                let first = b * blockRows
                let n = min(blockRows, rows - first)
                for r in 0..<n {
                    let row = w.base + (first + r) * w.rowStride
                    if type == .f16 {
                        table.fp16_to_fp32_row(row, weights + r * columns, columns)
                    } else {
                        _ = ck_dequantize_row(type.cType, row, weights + r * columns, columns)
                    }
                }
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(n), Int32(columns), 1, rounded, Int32(columns), weights,
                    Int32(columns), 0, output + first, Int32(rows))
            }
        }
    }

    /// Rounds `count` floats in place to the nearest F16 value, with the path's vector conversions,
    /// on the pool.
    public func roundToHalf(_ values: UnsafeMutablePointer<Float>, count: Int) {
        let table = self.table.pointee
        let piece = 4096
        pool.parallelFor(count: (count + piece - 1) / piece, chunk: 1) { range in
            withUnsafeTemporaryAllocation(of: UInt16.self, capacity: piece) { bits in
                for p in range {
                    let start = p * piece
                    let n = min(piece, count - start)
                    table.fp32_to_fp16_row(values + start, bits.baseAddress!, n)
                    table.fp16_to_fp32_row(bits.baseAddress!, values + start, n)
                }
            }
        }
    }

    /// `C = A · Bᵀ` (or `A · B`) on plain floats, single-threaded (for a caller that splits the work
    /// over its own workers): `A` is `m × k` with row stride `lda`, `B` is `n × k` (`transposeB`) or
    /// `k × n` with row stride `ldb`, `C` is `m × n` with row stride `ldc`.
    public static func sgemm(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        singleThreadedBLAS()
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b,
            Int32(ldb), 0, c, Int32(ldc))
    }

    /// OpenBLAS at one thread per call (idempotent; OpenBLAS's own setting, read at each call).
    static func singleThreadedBLAS() {
        if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
    }
}
