/// A ggml tensor element type, as stored in a GGUF tensor info.
///
/// Every type ggml defines is known by its id, name, block size and bytes per block, so any real
/// file can be inspected and its tensors sized, even types Brise cannot compute with yet. Ids that
/// ggml retired (4, 5, 31–33, 36–38) are not types; reading one is an error.
public struct GGMLType: Hashable, Sendable, CustomStringConvertible {
    /// The id stored in the file.
    public let id: UInt32
    /// The name llama.cpp and gguf-py use (`Q4_K`, `BF16`, …).
    public let name: String
    /// Elements per block (1 for plain element types).
    public let blockSize: Int
    /// Bytes per block.
    public let bytesPerBlock: Int

    private init(_ id: UInt32, _ name: String, _ blockSize: Int, _ bytesPerBlock: Int) {
        self.id = id
        self.name = name
        self.blockSize = blockSize
        self.bytesPerBlock = bytesPerBlock
    }

    /// The type with this id, or `nil` when ggml defines none.
    ///
    /// - Parameter id: The ggml type id.
    public init?(id: UInt32) {
        guard let known = Self.table[id] else { return nil }
        self = known
    }

    /// The type with this name (`"Q8_0"`), or `nil`.
    ///
    /// - Parameter name: A ggml type name, case-sensitive.
    public init?(name: String) {
        guard let known = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = known
    }

    public var description: String { name }

    /// Whether values of this type are quantized in blocks (as opposed to plain elements).
    public var isQuantized: Bool { blockSize > 1 }

    /// The bytes needed for `elements` values, or `nil` if `elements` is not a whole number of blocks
    /// or the size overflows.
    ///
    /// - Parameter elements: The number of elements (must be non-negative).
    public func byteCount(forElements elements: Int) -> Int? {
        guard elements >= 0, elements % blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
        return overflow ? nil : bytes
    }

    // MARK: - Known types (ggml.h `enum ggml_type`; sizes from ggml-common.h, checked against gguf-py)

    public static let f32 = GGMLType(0, "F32", 1, 4)
    public static let f16 = GGMLType(1, "F16", 1, 2)
    public static let q4_0 = GGMLType(2, "Q4_0", 32, 18)
    public static let q4_1 = GGMLType(3, "Q4_1", 32, 20)
    public static let q5_0 = GGMLType(6, "Q5_0", 32, 22)
    public static let q5_1 = GGMLType(7, "Q5_1", 32, 24)
    public static let q8_0 = GGMLType(8, "Q8_0", 32, 34)
    public static let q8_1 = GGMLType(9, "Q8_1", 32, 40)
    public static let q2_K = GGMLType(10, "Q2_K", 256, 84)
    public static let q3_K = GGMLType(11, "Q3_K", 256, 110)
    public static let q4_K = GGMLType(12, "Q4_K", 256, 144)
    public static let q5_K = GGMLType(13, "Q5_K", 256, 176)
    public static let q6_K = GGMLType(14, "Q6_K", 256, 210)
    public static let q8_K = GGMLType(15, "Q8_K", 256, 292)
    public static let iq2_xxs = GGMLType(16, "IQ2_XXS", 256, 66)
    public static let iq2_xs = GGMLType(17, "IQ2_XS", 256, 74)
    public static let iq3_xxs = GGMLType(18, "IQ3_XXS", 256, 98)
    public static let iq1_s = GGMLType(19, "IQ1_S", 256, 50)
    public static let iq4_nl = GGMLType(20, "IQ4_NL", 32, 18)
    public static let iq3_s = GGMLType(21, "IQ3_S", 256, 110)
    public static let iq2_s = GGMLType(22, "IQ2_S", 256, 82)
    public static let iq4_xs = GGMLType(23, "IQ4_XS", 256, 136)
    public static let i8 = GGMLType(24, "I8", 1, 1)
    public static let i16 = GGMLType(25, "I16", 1, 2)
    public static let i32 = GGMLType(26, "I32", 1, 4)
    public static let i64 = GGMLType(27, "I64", 1, 8)
    public static let f64 = GGMLType(28, "F64", 1, 8)
    public static let iq1_m = GGMLType(29, "IQ1_M", 256, 56)
    public static let bf16 = GGMLType(30, "BF16", 1, 2)
    public static let tq1_0 = GGMLType(34, "TQ1_0", 256, 54)
    public static let tq2_0 = GGMLType(35, "TQ2_0", 256, 66)
    public static let mxfp4 = GGMLType(39, "MXFP4", 32, 17)
    public static let nvfp4 = GGMLType(40, "NVFP4", 64, 36)
    public static let q1_0 = GGMLType(41, "Q1_0", 128, 18)

    /// Every type ggml defines, in id order.
    public static let allCases: [GGMLType] = [
        .f32, .f16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K,
        .iq2_xxs, .iq2_xs, .iq3_xxs, .iq1_s, .iq4_nl, .iq3_s, .iq2_s, .iq4_xs, .i8, .i16, .i32, .i64, .f64,
        .iq1_m, .bf16, .tq1_0, .tq2_0, .mxfp4, .nvfp4, .q1_0,
    ]

    private static let table: [UInt32: GGMLType] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.id, $0) })
}

/// The `general.file_type` values of llama.cpp's `llama_ftype`: what most tensors of a file are.
///
/// Only a hint: a loader must look at each tensor's own type.
public enum GGUFFileType {
    /// The llama.cpp name for a `general.file_type` value (`MOSTLY_Q4_K_M`), or `nil` when unknown.
    ///
    /// - Parameter value: The stored value.
    public static func name(of value: Int) -> String? {
        names[value]
    }

    private static let names: [Int: String] = [
        0: "ALL_F32", 1: "MOSTLY_F16", 2: "MOSTLY_Q4_0", 3: "MOSTLY_Q4_1", 7: "MOSTLY_Q8_0", 8: "MOSTLY_Q5_0",
        9: "MOSTLY_Q5_1", 10: "MOSTLY_Q2_K", 11: "MOSTLY_Q3_K_S", 12: "MOSTLY_Q3_K_M", 13: "MOSTLY_Q3_K_L",
        14: "MOSTLY_Q4_K_S", 15: "MOSTLY_Q4_K_M", 16: "MOSTLY_Q5_K_S", 17: "MOSTLY_Q5_K_M", 18: "MOSTLY_Q6_K",
        19: "MOSTLY_IQ2_XXS", 20: "MOSTLY_IQ2_XS", 21: "MOSTLY_Q2_K_S", 22: "MOSTLY_IQ3_XS", 23: "MOSTLY_IQ3_XXS",
        24: "MOSTLY_IQ1_S", 25: "MOSTLY_IQ4_NL", 26: "MOSTLY_IQ3_S", 27: "MOSTLY_IQ3_M", 28: "MOSTLY_IQ2_S",
        29: "MOSTLY_IQ2_M", 30: "MOSTLY_IQ4_XS", 31: "MOSTLY_IQ1_M", 32: "MOSTLY_BF16", 36: "MOSTLY_TQ1_0",
        37: "MOSTLY_TQ2_0", 38: "MOSTLY_MXFP4_MOE", 39: "MOSTLY_NVFP4", 40: "MOSTLY_Q1_0", 1024: "GUESSED",
    ]
}
