import Foundation
public import Model

/// An image in a prompt, preprocessed for the vision encoder: where its positions start and the
/// pixels that make its embeddings. The prompt's ids at its positions are the `[IMG]`/`[IMG_BREAK]`
/// placeholders of its grid.
public struct PromptImage: Sendable {
    /// The position of its first image token in the prompt.
    public var position: Int
    /// Its token layout.
    public var grid: ImageTokenGrid
    /// Preprocessed pixels: `width × height × 3` normalized floats, RGB interleaved.
    public var width: Int
    public var height: Int
    public var pixels: [Float]
    /// A digest of the image's content (the decoded pixels): the KV prefix reuse tells images apart by
    /// it, since their placeholders are the same for every image of one grid.
    public var digest: UInt64

    /// Creates a prompt image.
    public init(position: Int, grid: ImageTokenGrid, width: Int, height: Int, pixels: [Float], digest: UInt64) {
        self.position = position
        self.grid = grid
        self.width = width
        self.height = height
        self.pixels = pixels
        self.digest = digest
    }

    /// The prompt positions it takes.
    public var positions: Range<Int> { position..<(position + grid.tokenCount) }

    /// The cache key of its `index`-th position: a negative number (token ids are not) from the
    /// digest and the index, so a cached prefix matches a new prompt inside an image only where the
    /// images are the same.
    func cacheKey(_ index: Int) -> Int32 {
        var x = digest &+ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        x ^= x >> 31
        return -1 - Int32(truncatingIfNeeded: x & 0x7FFF_FFFE)
    }
}

extension GenerationRequest {
    /// The prompt as the KV prefix reuse compares it: token ids, with each image position replaced by
    /// its image's cache key.
    var cacheKeys: [Int32] {
        guard !images.isEmpty else { return prompt }
        var keys = prompt
        for image in images {
            for (index, position) in image.positions.enumerated() where position < keys.count {
                keys[position] = image.cacheKey(index)
            }
        }
        return keys
    }
}
