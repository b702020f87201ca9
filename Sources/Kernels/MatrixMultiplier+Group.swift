internal import CKernels

/// Several matrices over one input in one pool dispatch: Q, K and V of a layer (all read the normed
/// residual) or its FFN gate and up. The input is quantized once, not once per matrix, and the row
/// chunks of every matrix go to the pool as one job, so the workers wait for each other once per
/// group instead of once per matrix.
///
/// Every matrix is split into the same row chunks as `multiply(_:batch:count:into:)` splits it and
/// each chunk runs the same kernel on the same activation bytes, so the outputs are bit-identical to
/// separate calls.
extension MatrixMultiplier {
    /// `Y_i = X · W_iᵀ` for each matrix `W_i` of `ws`, all over the same `count` activation rows.
    ///
    /// Matrices whose input size or activation format differ from the first's are multiplied
    /// separately (same results, one dispatch each).
    ///
    /// - Parameters:
    ///   - ws: The weights (each `rows_i × columns`).
    ///   - x: `count × columns` activations, row-major.
    ///   - count: The number of activation rows (1 for decode).
    ///   - ys: One output per matrix, `count × rows_i` floats each, row-major.
    public func multiply(
        _ ws: [WeightMatrix], batch x: UnsafeBufferPointer<Float>, count: Int, into ys: [UnsafeMutableBufferPointer<Float>]
    ) {
        precondition(ws.count == ys.count, "one output per matrix")
        guard let lead = ws.first, count > 0 else { return }
        let sharing = ws.indices.filter {
            ws[$0].columns == lead.columns && ws[$0].type.activationFormat == lead.type.activationFormat
        }
        for i in ws.indices where !sharing.contains(i) {
            multiply(ws[i], batch: x, count: count, into: ys[i])
        }
        guard sharing.count > 1 else {
            if let only = sharing.first { multiply(ws[only], batch: x, count: count, into: ys[only]) }
            return
        }
        // The chunks of every matrix, in order: (matrix, first row, end row).
        var chunks: [(matrix: Int, rows: Range<Int>)] = []
        for i in sharing {
            let w = ws[i]
            precondition(x.count >= count * w.columns && ys[i].count >= count * w.rows, "shape mismatch")
            let step = rowsPerChunk(w)
            var start = 0
            while start < w.rows {
                chunks.append((i, start..<min(w.rows, start + step)))
                start += step
            }
        }
        let table = table(rows: count)
        let outputs = ys.map { $0.baseAddress! }
        withActivations(for: lead, x, count: count) { xq, xqStride in
            pool.parallelFor(count: chunks.count, chunk: 1) { range in
                for c in range {
                    let (i, rows) = chunks[c]
                    let w = ws[i]
                    if count == 1 {
                        guard let matvec = table.matvec(for: w.type) else {
                            preconditionFailure("no \(w.type) mat-vec on the \(path) path")
                        }
                        matvec(w.base, w.rowStride, xq, outputs[i], rows.lowerBound, rows.upperBound, w.columns)
                    } else {
                        guard let matmul = table.matmul(for: w.type) else {
                            preconditionFailure("no \(w.type) mat-mat on the \(path) path")
                        }
                        matmul(
                            w.base, w.rowStride, xq, xqStride, count, outputs[i], w.rows, rows.lowerBound, rows.upperBound,
                            w.columns)
                    }
                }
            }
        }
    }
}
