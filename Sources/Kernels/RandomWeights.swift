internal import CKernels

/// Owned, 64-byte-aligned memory holding random weight matrices, for tests and benchmarks.
///
/// Quantized blocks get random quants and scales set to small normal f16 values (random bytes in a
/// scale field would give NaNs and infinities, which real files never hold); float types get values
/// in [-1, 1].
public final class RandomWeights: @unchecked Sendable {
    // @unchecked Sendable: the bytes are written only in init and read-only afterwards.

    /// The bytes.
    public let base: UnsafeMutableRawPointer
    /// Their size.
    public let byteCount: Int

    /// Fills `byteCount` bytes (rounded down to whole rows by the caller's matrices) for `type`.
    ///
    /// - Parameters:
    ///   - type: The weight type whose block layout to follow.
    ///   - rows: Rows of `columns` elements to make.
    ///   - columns: Row length (a whole number of blocks).
    ///   - seed: The seed.
    /// - Throws: `KernelError` `.shapeMismatch` when `columns` is not whole blocks.
    public init(type: WeightType, rows: Int, columns: Int, seed: UInt64) throws {
        guard let rowBytes = type.rowByteCount(columns: columns), rows >= 0 else {
            throw KernelError(.shapeMismatch, "\(columns) is not a whole number of \(type) blocks")
        }
        byteCount = rows * rowBytes
        base = .allocate(byteCount: max(byteCount, 64), alignment: 64)
        var state = seed | 1
        func next() -> UInt64 {
            // xorshift64*: fast enough to fill a GiB in well under a second.
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 0x2545_F491_4F6C_DD1D
        }
        let words = byteCount / 8
        let wordPointer = base.bindMemory(to: UInt64.self, capacity: words)
        for i in 0..<words { wordPointer[i] = next() }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        for i in (words * 8)..<byteCount { bytes[i] = UInt8(truncatingIfNeeded: next()) }

        // A small normal f16 scale: exponent chosen so d·q stays in a sane range.
        func scale() -> UInt16 { ck_fp32_to_fp16(Float(next() % 1000 + 1) / 64_000) }
        func store(_ value: UInt16, at offset: Int) {
            bytes[offset] = UInt8(value & 0xFF)
            bytes[offset + 1] = UInt8(value >> 8)
        }
        let blocks = byteCount / type.bytesPerBlock
        switch type {
        case .f32:
            let floats = base.bindMemory(to: Float.self, capacity: byteCount / 4)
            for i in 0..<(byteCount / 4) { floats[i] = Float(Int64(next() >> 1) % 2_000_001 - 1_000_000) / 1_000_000 }
        case .f16, .bf16:
            for i in 0..<(byteCount / 2) {
                let value = Float(Int64(next() >> 1) % 2001 - 1000) / 1000
                store(type == .f16 ? ck_fp32_to_fp16(value) : ck_fp32_to_bf16(value), at: i * 2)
            }
        case .q8_0, .q4_0, .q5_0:
            for b in 0..<blocks { store(scale(), at: b * type.bytesPerBlock) }
        case .q4_K, .q5_K:
            for b in 0..<blocks {
                store(scale(), at: b * type.bytesPerBlock)
                store(scale(), at: b * type.bytesPerBlock + 2)
            }
        case .q6_K:
            for b in 0..<blocks { store(scale(), at: b * type.bytesPerBlock + 208) }
        }
    }

    deinit {
        base.deallocate()
    }

    /// A matrix over these bytes starting at `offset`.
    ///
    /// - Parameters:
    ///   - type: The type the bytes were filled for.
    ///   - rows: Rows.
    ///   - columns: Columns.
    ///   - offset: Byte offset (a multiple of the row size keeps blocks aligned to the fill).
    /// - Returns: The matrix, holding this buffer alive.
    /// - Throws: `KernelError` when the shape does not fit.
    public func matrix(type: WeightType, rows: Int, columns: Int, offset: Int = 0) throws -> WeightMatrix {
        let matrix = try WeightMatrix(base: base + offset, type: type, rows: rows, columns: columns, owner: self)
        guard offset >= 0, offset + matrix.byteCount <= byteCount else {
            throw KernelError(.shapeMismatch, "a \(rows)×\(columns) \(type) matrix at \(offset) does not fit in \(byteCount) bytes")
        }
        return matrix
    }
}
