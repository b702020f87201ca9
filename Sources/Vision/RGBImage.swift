/// An 8-bit RGB image: `width × height` pixels, row-major, three interleaved bytes a pixel.
///
/// The layout of llama.cpp's `clip_image_u8` buffer, which `ImagePreprocessor` reads.
public struct RGBImage: Sendable, Equatable {
    /// Pixels per row.
    public var width: Int
    /// Rows.
    public var height: Int
    /// `width × height × 3` bytes: R, G, B of the top-left pixel first, rows top to bottom.
    public var pixels: [UInt8]

    /// Creates an image from its interleaved RGB bytes.
    ///
    /// - Parameters:
    ///   - width: Pixels per row, at least 1.
    ///   - height: Rows, at least 1.
    ///   - pixels: Exactly `width × height × 3` bytes. A different count is a programming error.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "RGBImage: \(width)×\(height) has no pixels")
        precondition(pixels.count == width * height * 3, "RGBImage: \(pixels.count) bytes for \(width)×\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}
