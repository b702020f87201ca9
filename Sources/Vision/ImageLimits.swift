/// Bounds on an image a client sends, checked against the header before anything image-sized is
/// allocated.
///
/// A PNG or JPEG header is a few bytes that can claim any size: 50,000 × 50,000 pixels would be 7.5 GB
/// of RGB. `ImageDecoder` reads the header alone, checks it here, and only then allocates the pixels
/// and lets libpng or libjpeg-turbo decode (the libraries get the same bounds as their own limits, and
/// libjpeg-turbo a cap on its working memory, so a progressive file cannot make it allocate more).
public struct ImageLimits: Sendable, Equatable {
    /// The most encoded bytes accepted (default 20 MiB).
    public var maxEncodedBytes: Int
    /// The most pixels (width × height) accepted (default 25 megapixels).
    public var maxPixels: Int
    /// The longest side accepted, width or height (default 16384).
    public var maxSide: Int

    /// Creates limits.
    ///
    /// - Parameters:
    ///   - maxEncodedBytes: The most encoded bytes accepted.
    ///   - maxPixels: The most pixels accepted.
    ///   - maxSide: The longest width or height accepted.
    public init(maxEncodedBytes: Int = 20 << 20, maxPixels: Int = 25_000_000, maxSide: Int = 16384) {
        self.maxEncodedBytes = max(0, maxEncodedBytes)
        self.maxPixels = max(0, maxPixels)
        self.maxSide = max(0, min(maxSide, Int(Int32.max)))
    }

    /// The working memory a decoder may ask for: a progressive JPEG keeps every coefficient (two bytes a
    /// sample, up to four components), plus room for tables and row buffers.
    var decoderMemory: Int {
        let (product, overflow) = maxPixels.multipliedReportingOverflow(by: 8)
        return overflow ? Int.max : product &+ (16 << 20)
    }

    /// Throws `tooLarge` unless a `width × height` image is within the limits.
    ///
    /// - Parameters:
    ///   - width: The width the header claims.
    ///   - height: The height the header claims.
    ///   - format: The format's name, for the message.
    /// - Throws: `ImageError` `.tooLarge` or, for a zero side, `.malformed`.
    func check(width: Int, height: Int, format: String) throws(ImageError) {
        if width <= 0 || height <= 0 {
            throw ImageError(.malformed, "the \(format) header claims \(width)×\(height) pixels")
        }
        if width > maxSide || height > maxSide {
            throw ImageError(.tooLarge, "the \(format) is \(width)×\(height) pixels; the longest side allowed is \(maxSide)")
        }
        if width.multipliedReportingOverflow(by: height).partialValue > maxPixels {
            throw ImageError(.tooLarge, "the \(format) is \(width)×\(height) pixels; at most \(maxPixels) are allowed")
        }
    }
}
