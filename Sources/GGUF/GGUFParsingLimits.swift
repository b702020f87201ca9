/// Explicit upper bounds the parser enforces before it allocates or walks anything.
///
/// The defaults are far above any real model (a 131k-token vocabulary with 270k merges, a few
/// thousand tensors) and far below what would exhaust memory or time on a hostile file.
public struct GGUFParsingLimits: Sendable {
    /// The most tensors a file may declare.
    public var maxTensorCount: Int
    /// The most metadata key-value pairs a file may declare.
    public var maxMetadataCount: Int
    /// The longest key or tensor name, in bytes.
    public var maxKeyLength: Int
    /// The longest string value, in bytes (chat templates are the long ones: tens of KB).
    public var maxStringLength: Int
    /// The most elements one array may hold.
    public var maxArrayCount: Int
    /// How deeply arrays may nest (an array of arrays is depth 2).
    public var maxArrayNesting: Int

    /// Creates limits.
    ///
    /// - Parameters:
    ///   - maxTensorCount: The most tensors.
    ///   - maxMetadataCount: The most metadata pairs.
    ///   - maxKeyLength: The longest key or tensor name.
    ///   - maxStringLength: The longest string value.
    ///   - maxArrayCount: The most elements per array.
    ///   - maxArrayNesting: The deepest nesting of arrays.
    public init(
        maxTensorCount: Int = 1 << 16,
        maxMetadataCount: Int = 1 << 16,
        maxKeyLength: Int = 1 << 16,
        maxStringLength: Int = 1 << 24,
        maxArrayCount: Int = 1 << 26,
        maxArrayNesting: Int = 8
    ) {
        self.maxTensorCount = maxTensorCount
        self.maxMetadataCount = maxMetadataCount
        self.maxKeyLength = maxKeyLength
        self.maxStringLength = maxStringLength
        self.maxArrayCount = maxArrayCount
        self.maxArrayNesting = maxArrayNesting
    }

    /// The default limits.
    public static var `default`: Self { .init() }

    /// No limits beyond the file's own size (used to re-read arrays the parser already checked).
    static var unlimited: Self {
        .init(
            maxTensorCount: .max, maxMetadataCount: .max, maxKeyLength: .max, maxStringLength: .max,
            maxArrayCount: .max, maxArrayNesting: .max)
    }
}
