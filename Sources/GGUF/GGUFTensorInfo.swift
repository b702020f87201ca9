/// One tensor's entry in a GGUF tensor table, validated against the file.
public struct GGUFTensorInfo: Sendable, Hashable {
    /// The tensor's name (`blk.0.attn_q.weight`).
    public let name: String
    /// The dimensions in ggml order: `dimensions[0]` is the contiguous one (a matrix is `[in, out]`).
    public let dimensions: [Int]
    /// The element type.
    public let type: GGMLType
    /// The offset of the tensor's bytes from the start of the data section, as stored.
    public let offset: Int
    /// The offset of the tensor's bytes from the start of the file.
    public let absoluteOffset: Int
    /// The number of bytes the tensor occupies.
    public let byteCount: Int
    /// Where this tensor's info starts in the file (for error messages).
    public let infoOffset: Int

    /// The number of elements.
    public var elementCount: Int { dimensions.reduce(1, *) }

    /// The number of rows: the product of every dimension but the first.
    public var rowCount: Int { dimensions.dropFirst().reduce(1, *) }

    /// The number of bytes of one row (`dimensions[0]` elements).
    public var rowByteCount: Int { (dimensions.first ?? 1) / type.blockSize * type.bytesPerBlock }

    /// The byte range in the file.
    public var fileRange: Range<Int> { absoluteOffset..<(absoluteOffset + byteCount) }
}
