import Vision

/// Fuzz target 8: image bytes, through the decoder (libpng and libjpeg-turbo behind CImageCodecs, with
/// the header checked against the limits first) and, for what decodes, Pixtral's preprocessing. A bad
/// image must be a thrown `ImageError`; the C libraries must not read or write out of bounds (the
/// target is built with AddressSanitizer, the C target included).
public enum ImageFuzzer {
    /// Limits kept small so each input is quick (the full-size limits are the tests' concern).
    static let limits = ImageLimits(maxEncodedBytes: 1 << 20, maxPixels: 1 << 20, maxSide: 4096)
    static let preprocessor = ImagePreprocessor.pixtral(
        patchSize: 16, mergeSize: 2, mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711])

    public static func run(_ data: [UInt8]) {
        guard let image = try? ImageDecoder.decode(data, limits: limits) else { return }
        precondition(image.pixels.count == image.width * image.height * 3)
        // Resampling a megapixel image per input would slow the fuzzer to a crawl; small ones go through.
        if image.width * image.height <= 1 << 14 {
            let output = preprocessor(image)
            precondition(output.pixels.count == output.width * output.height * 3)
        }
    }
}
