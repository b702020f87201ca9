internal import CKernels

/// A weight matrix used in place: `rows` rows of `columns` elements of `type`, row `r` at
/// `base + r * rowStride`.
///
/// The bytes usually live in a mapped GGUF file; `owner` keeps that mapping alive as long as the
/// matrix exists, so the pointer cannot dangle.
public struct WeightMatrix: @unchecked Sendable {
    // @unchecked Sendable: the bytes are read-only (a PROT_READ mapping or memory the owner never
    // mutates) and `owner` keeps them alive.

    /// The first row's first byte.
    public let base: UnsafeRawPointer
    /// The element type.
    public let type: WeightType
    /// Output size.
    public let rows: Int
    /// Input size (row length in elements).
    public let columns: Int
    /// Bytes between consecutive rows.
    public let rowStride: Int
    /// Whatever keeps `base` valid (a `MappedFile`, a buffer).
    public let owner: AnyObject?

    /// Creates a matrix over existing bytes.
    ///
    /// - Parameters:
    ///   - base: The bytes.
    ///   - type: The element type.
    ///   - rows: The number of rows.
    ///   - columns: The row length in elements (a whole number of blocks).
    ///   - owner: Keeps the bytes alive.
    /// - Throws: `KernelError` `.shapeMismatch` when `columns` is not a whole number of blocks.
    public init(base: UnsafeRawPointer, type: WeightType, rows: Int, columns: Int, owner: AnyObject?) throws {
        guard rows >= 0, let stride = type.rowByteCount(columns: columns) else {
            throw KernelError(
                .shapeMismatch, "\(rows)×\(columns) \(type): the row length is not a whole number of \(type.blockSize)-blocks")
        }
        // K-quant activations are quantized in 256-blocks: every type's rows must also be whole Q8
        // activation blocks, which the block sizes above already guarantee (32 | 32, 256 | 256).
        self.base = base
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowStride = stride
        self.owner = owner
    }

    /// Bytes of the whole matrix.
    public var byteCount: Int { rows * rowStride }
}

extension WeightMatrix {
    /// Dequantizes row `row` into `out` (`columns` floats), with the scalar reference.
    ///
    /// - Parameters:
    ///   - row: The row index.
    ///   - out: At least `columns` floats.
    public func dequantizeRow(_ row: Int, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(row >= 0 && row < rows && out.count >= columns, "shape mismatch")
        _ = ck_dequantize_row(type.cType, base + row * rowStride, out.baseAddress!, columns)
    }
}
