internal import CKernels

/// A weight tensor type the kernels compute with, and the activation format its dot products take.
public enum WeightType: String, Sendable, CaseIterable, CustomStringConvertible {
    case f32, f16, bf16, q8_0, q4_0, q5_0, q4_K, q5_K, q6_K

    /// How activations are given to this type's dot products.
    public enum ActivationFormat: Sendable {
        /// Plain `Float`s.
        case f32
        /// Q8_0 blocks of 32 (for Q4_0, Q5_0, Q8_0 weights), as llama.cpp's CPU backend does.
        case q8_0
        /// Q8_K blocks of 256 (for the K-quants).
        case q8_K
    }

    /// The type with this ggml id, or `nil` when the kernels cannot compute with it.
    ///
    /// - Parameter ggmlTypeID: A GGUF tensor type id.
    public init?(ggmlTypeID: UInt32) {
        let raw = ck_type_from_ggml(ggmlTypeID)
        guard raw >= 0, let type = WeightType.allCases.first(where: { Int32($0.cType.rawValue) == raw }) else {
            return nil
        }
        self = type
    }

    var cType: ck_type {
        switch self {
        case .f32: CK_TYPE_F32
        case .f16: CK_TYPE_F16
        case .bf16: CK_TYPE_BF16
        case .q8_0: CK_TYPE_Q8_0
        case .q4_0: CK_TYPE_Q4_0
        case .q5_0: CK_TYPE_Q5_0
        case .q4_K: CK_TYPE_Q4_K
        case .q5_K: CK_TYPE_Q5_K
        case .q6_K: CK_TYPE_Q6_K
        }
    }

    private var traits: ck_type_traits { ck_type_get_traits(cType)!.pointee }

    /// The ggml type id.
    public var ggmlTypeID: UInt32 { traits.ggml_type }
    /// Elements per block.
    public var blockSize: Int { Int(traits.block_elems) }
    /// Bytes per block.
    public var bytesPerBlock: Int { Int(traits.block_bytes) }

    /// The activation format this type's dot products take.
    public var activationFormat: ActivationFormat {
        switch traits.act_type {
        case CK_TYPE_Q8_0: .q8_0
        case CK_TYPE_Q8_K: .q8_K
        default: .f32
        }
    }

    /// Bytes of a row of `columns` elements, or `nil` when that is not a whole number of blocks.
    ///
    /// - Parameter columns: The row length.
    public func rowByteCount(columns: Int) -> Int? {
        guard columns > 0, columns % blockSize == 0 else { return nil }
        return columns / blockSize * bytesPerBlock
    }

    public var description: String { rawValue }
}

extension WeightType.ActivationFormat {
    /// Bytes of a row of `columns` activations in this format (columns a multiple of the block).
    func rowByteCount(columns: Int) -> Int {
        switch self {
        case .f32: columns * 4
        case .q8_0: columns / 32 * Int(CK_Q8_0_BLOCK_BYTES)
        case .q8_K: columns / 256 * Int(CK_Q8_K_BLOCK_BYTES)
        }
    }
}
