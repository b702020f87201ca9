internal import CKernels

/// Multiplies weight matrices by activations on one kernel path and a worker pool: mat-vec for
/// decode (one token), mat-mat for prefill (a batch of tokens).
///
/// Activations are quantized once per call to the weight type's format (Q8_0 or Q8_K, as
/// llama.cpp's CPU backend does), then the pool splits the matrix rows into chunks of 256 KiB
/// of weights or more (see `rowsPerChunk`), so each worker streams long runs.
///
/// One call at a time: the quantized-activation scratch buffer is shared between calls.
public final class MatrixMultiplier: @unchecked Sendable {
    // @unchecked Sendable: `scratch` is only touched inside a call, and calls are documented as
    // one-at-a-time; the kernel table is written only in init and read-only afterwards.

    /// The kernel path in use.
    public let path: KernelPath
    /// Which path runs each type's kernels (`path`, but for bit-identical faster ones).
    public let choice: KernelChoice
    /// The pool that runs the row chunks.
    public let pool: WorkerPool
    /// The base path's table with `choice`'s kernels in place (owned; written only in init).
    let table: UnsafeMutablePointer<ck_kernels>
    /// `table` with the small-batch mat-mat choices in place (`KernelChoice.smallBatch` rows or fewer).
    let smallTable: UnsafeMutablePointer<ck_kernels>
    private var scratch: UnsafeMutableRawPointer
    private var scratchCapacity: Int

    /// The least bytes of weights per chunk of rows handed to one worker. Long runs matter: chunks
    /// are handed out alternately, so a worker's reads jump from chunk to chunk and the hardware
    /// prefetcher restarts at each jump (measured on the 2-core box: Q4_0 mat-vec at 2 threads went
    /// from 31 GB/s with 64 KiB chunks to 38-41 GB/s with 256 KiB-1 MiB ones).
    static let minimumChunkBytes = 256 << 10

    /// Creates a multiplier.
    ///
    /// - Parameters:
    ///   - path: The kernel path (see `KernelPath.select(environment:)`).
    ///   - pool: The worker pool.
    ///   - choice: Per-type kernel paths (default: all on `path`); its base must be `path`.
    /// - Throws: `KernelError` `.unsupportedPath` if this CPU cannot run `path`.
    public init(path: KernelPath, pool: WorkerPool, choice: KernelChoice? = nil) throws {
        guard let base = ck_select_kernels(path.cPath) else {
            throw KernelError(.unsupportedPath, "this CPU cannot run the \(path) kernels")
        }
        let choice = choice ?? KernelChoice(base: path)
        guard choice.base == path else {
            throw KernelError(.unsupportedPath, "a kernel choice based on \(choice.base) for the \(path) path")
        }
        self.path = path
        self.choice = choice
        self.pool = pool
        table = .allocate(capacity: 1)
        table.initialize(to: base.pointee)
        for (type, override) in choice.matvec {
            guard let other = ck_select_kernels(override.cPath) else { continue }
            table.pointee.setMatvec(other.pointee.matvec(for: type), for: type)
        }
        for (type, override) in choice.matmul {
            guard let other = ck_select_kernels(override.cPath) else { continue }
            table.pointee.setMatmul(other.pointee.matmul(for: type), for: type)
        }
        smallTable = .allocate(capacity: 1)
        smallTable.initialize(to: table.pointee)
        for (type, override) in choice.smallMatmul {
            guard let other = ck_select_kernels(override.cPath) else { continue }
            smallTable.pointee.setMatmul(other.pointee.matmul(for: type), for: type)
        }
        scratchCapacity = 1 << 16
        scratch = .allocate(byteCount: scratchCapacity, alignment: 64)
    }

    deinit {
        scratch.deallocate()
        table.deallocate()
        smallTable.deallocate()
    }

    /// The table for a product over `count` activation rows.
    func table(rows count: Int) -> ck_kernels {
        count <= KernelChoice.smallBatch ? smallTable.pointee : table.pointee
    }

    private func reserveScratch(_ bytes: Int) {
        guard bytes > scratchCapacity else { return }
        scratch.deallocate()
        scratchCapacity = max(bytes, scratchCapacity * 2)
        scratch = .allocate(byteCount: scratchCapacity, alignment: 64)
    }

    func rowsPerChunk(_ w: WeightMatrix) -> Int {
        // About four chunks per thread (so a preempted worker delays a quarter of its share, not all
        // of it), but at least minimumChunkBytes of weights; a multiple of 16 rows (the mat-mat
        // kernels walk 8-row tiles).
        let bytes = max(Self.minimumChunkBytes, w.byteCount / (pool.threadCount * 4))
        let rows = max(1, bytes / max(1, w.rowStride))
        return max(16, (rows + 15) / 16 * 16)
    }

    /// Quantizes `count` activation rows of `w.columns` floats into the scratch buffer (or, for
    /// float weights, uses them as they are) and calls `body` with the activation bytes and stride.
    func withActivations<R>(
        for w: WeightMatrix, _ x: UnsafeBufferPointer<Float>, count: Int,
        _ body: (UnsafeRawPointer, Int) -> R
    ) -> R {
        let format = w.type.activationFormat
        if format == .f32 {
            return body(UnsafeRawPointer(x.baseAddress!), w.columns * 4)
        }
        let stride = format.rowByteCount(columns: w.columns)
        reserveScratch(stride * count)
        quantize(
            format, rows: count, columns: w.columns, from: x.baseAddress!, stride: w.columns, into: scratch, stride: stride)
        return body(UnsafeRawPointer(scratch), stride)
    }

    /// Quantizes `count` rows of `columns` floats (row `t` at `source + t · sourceStride`) into
    /// `format` (Q8_0 or Q8_K), row `t` at `destination + t · stride`.
    func quantize(
        _ format: WeightType.ActivationFormat, rows count: Int, columns: Int, from source: UnsafePointer<Float>,
        stride sourceStride: Int, into destination: UnsafeMutableRawPointer, stride: Int
    ) {
        precondition(format != .f32, "float activations are used as they are")
        let quantize = format == .q8_0 ? table.pointee.quantize_q8_0 : table.pointee.quantize_q8_K
        // Quantizing is cheap next to the multiply; split it only when there are many rows.
        pool.parallelFor(count: count, chunk: max(1, count / (pool.threadCount * 4))) { range in
            for row in range {
                quantize(source + row * sourceStride, destination + row * stride, columns)
            }
        }
    }

    /// `y = W · x`: one activation vector (decode).
    ///
    /// - Parameters:
    ///   - w: The weights (`rows × columns`).
    ///   - x: `columns` activations.
    ///   - y: `rows` outputs.
    public func multiply(_ w: WeightMatrix, vector x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>) {
        precondition(x.count >= w.columns && y.count >= w.rows, "shape mismatch: \(w.rows)×\(w.columns) · \(x.count) → \(y.count)")
        guard let matvec = table.pointee.matvec(for: w.type) else {
            preconditionFailure("no \(w.type) mat-vec on the \(path) path")
        }
        let base = w.base
        let stride = w.rowStride
        let columns = w.columns
        let output = y.baseAddress!
        withActivations(for: w, x, count: 1) { xq, _ in
            pool.parallelFor(count: w.rows, chunk: rowsPerChunk(w)) { rows in
                matvec(base, stride, xq, output, rows.lowerBound, rows.upperBound, columns)
            }
        }
    }

    /// `Y = X · Wᵀ`: a batch of `count` activation rows (prefill). `Y` row `j` is `W · X[j]`.
    ///
    /// - Parameters:
    ///   - w: The weights (`rows × columns`).
    ///   - x: `count × columns` activations, row-major.
    ///   - count: The number of activation rows.
    ///   - y: `count × rows` outputs, row-major.
    public func multiply(
        _ w: WeightMatrix, batch x: UnsafeBufferPointer<Float>, count: Int, into y: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(count >= 0 && x.count >= count * w.columns && y.count >= count * w.rows, "shape mismatch")
        guard count > 0 else { return }
        if count == 1 {
            multiply(w, vector: x, into: y)
            return
        }
        withActivations(for: w, x, count: count) { xq, xqStride in
            multiply(w, activations: xq, stride: xqStride, count: count, into: y.baseAddress!)
        }
    }

    /// `Y = X · Wᵀ` for `count` (2 or more) activation rows already in `w`'s activation format.
    func multiply(
        _ w: WeightMatrix, activations xq: UnsafeRawPointer, stride xqStride: Int, count: Int,
        into output: UnsafeMutablePointer<Float>
    ) {
        guard let matmul = table(rows: count).matmul(for: w.type) else {
            preconditionFailure("no \(w.type) mat-mat on the \(path) path")
        }
        let base = w.base
        let stride = w.rowStride
        let columns = w.columns
        let rows = w.rows
        pool.parallelFor(count: rows, chunk: rowsPerChunk(w)) { range in
            matmul(base, stride, xq, xqStride, count, output, rows, range.lowerBound, range.upperBound, columns)
        }
    }

    /// Dequantizes row `row` of `w` into `out` (`w.columns` floats), with the scalar reference.
    ///
    /// - Parameters:
    ///   - w: The weights.
    ///   - row: The row index.
    ///   - out: `w.columns` floats.
    public func dequantizeRow(_ w: WeightMatrix, row: Int, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(row >= 0 && row < w.rows && out.count >= w.columns, "shape mismatch")
        _ = ck_dequantize_row(w.type.cType, w.base + row * w.rowStride, out.baseAddress!, w.columns)
    }
}

extension ck_type {
    /// The index of this type in the kernel tables' per-type arrays.
    var index: Int { Int(rawValue) }
}

extension ck_kernels {
    /// The mat-vec kernel for `type` (C arrays import as tuples; this indexes one).
    func matvec(for type: WeightType) -> ck_matvec_fn? {
        element(of: matvec, at: type.cType.index, as: ck_matvec_fn?.self)
    }

    /// The mat-mat kernel for `type`.
    func matmul(for type: WeightType) -> ck_matmul_fn? {
        element(of: matmul, at: type.cType.index, as: ck_matmul_fn?.self)
    }
}

extension ck_kernels {
    /// Replaces the mat-vec kernel for `type`.
    mutating func setMatvec(_ kernel: ck_matvec_fn?, for type: WeightType) {
        setElement(of: &matvec, at: type.cType.index, to: kernel)
    }

    /// Replaces the mat-mat kernel for `type`.
    mutating func setMatmul(_ kernel: ck_matmul_fn?, for type: WeightType) {
        setElement(of: &matmul, at: type.cType.index, to: kernel)
    }
}

/// Sets element `index` of a homogeneous tuple imported from a C array.
private func setElement<Tuple, Element>(of tuple: inout Tuple, at index: Int, to value: Element) {
    precondition(
        index >= 0 && (index + 1) * MemoryLayout<Element>.stride <= MemoryLayout<Tuple>.size, "index out of range")
    withUnsafeMutableBytes(of: &tuple) { $0.storeBytes(of: value, toByteOffset: index * MemoryLayout<Element>.stride, as: Element.self) }
}

/// Element `index` of a homogeneous tuple imported from a C array.
private func element<Tuple, Element>(of tuple: Tuple, at index: Int, as _: Element.Type) -> Element {
    precondition(
        index >= 0 && (index + 1) * MemoryLayout<Element>.stride <= MemoryLayout<Tuple>.size, "index out of range")
    return withUnsafeBytes(of: tuple) { $0.load(fromByteOffset: index * MemoryLayout<Element>.stride, as: Element.self) }
}
