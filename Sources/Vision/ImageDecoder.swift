internal import CImageCodecs

/// Decodes PNG and JPEG bytes into `RGBImage`s, as llama.cpp's mtmd helper reads them with stb_image.
///
/// PNG goes through libpng and JPEG through libjpeg-turbo (the C target CImageCodecs), with stb_image's
/// conversions for three requested channels: grey replicated to RGB, alpha dropped (not composited onto
/// a background), palettes expanded, 16-bit samples reduced to their high byte, no gamma correction,
/// EXIF orientation ignored, Adobe CMYK/YCCK multiplied by K.
///
/// Parity with stb_image 2.30 (scripts/dump-llamacpp-pixels, fixtures in Fixtures/vision/pixels):
/// - PNG: identical bytes for RGB, RGBA, grey, grey+alpha, palette, palette with tRNS, 16-bit and
///   interlaced files. libpng checks the CRC of critical chunks and stb does not, so a PNG with a bad
///   IHDR/IDAT CRC is `malformed` here and decoded by llama.cpp.
/// - JPEG: not byte-identical. libjpeg-turbo (ISLOW integer IDCT, fancy upsampling: of its settings the
///   closest) and stb_image each round their IDCT, upsampling and YCbCr→RGB fixed point their own way:
///   on the fixtures 0.6–6.7 % of samples differ, by at most 1 (grey, CMYK) to 3 levels. stb's 4:2:2
///   upsampler also misweights the last chroma pair, so the next-to-last column of a 4:2:2 image can
///   differ by more (16 on the fixture). Exact figures per file: VisionTests/ImageParityTests.
///
/// Every problem with the bytes is a thrown `ImageError`; the header is checked against `ImageLimits`
/// before the pixels are allocated.
public enum ImageDecoder {
    /// The formats accepted, for messages.
    static let acceptedFormats = "PNG or JPEG"

    /// Decodes an encoded image.
    ///
    /// - Parameters:
    ///   - bytes: The whole PNG or JPEG file.
    ///   - limits: Bounds on the encoded size and the pixel size.
    /// - Returns: The pixels as 8-bit RGB.
    /// - Throws: `ImageError`: `.empty`, `.unknownFormat`, `.truncated`, `.malformed`, `.tooLarge` or
    ///   `.unsupported`.
    public static func decode(_ bytes: [UInt8], limits: ImageLimits = .init()) throws(ImageError) -> RGBImage {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(ImageError) -> RGBImage in try decode(raw, limits: limits) }
        }
        return try result.get()
    }

    /// Decodes an encoded image from memory the caller owns.
    ///
    /// - Parameters:
    ///   - bytes: The whole PNG or JPEG file.
    ///   - limits: Bounds on the encoded size and the pixel size.
    /// - Returns: The pixels as 8-bit RGB.
    /// - Throws: `ImageError`: `.empty`, `.unknownFormat`, `.truncated`, `.malformed`, `.tooLarge` or
    ///   `.unsupported`.
    public static func decode(_ bytes: UnsafeRawBufferPointer, limits: ImageLimits = .init()) throws(ImageError) -> RGBImage {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw ImageError(.empty, "the image has no bytes; expected a \(acceptedFormats) file")
        }
        if bytes.count > limits.maxEncodedBytes {
            throw ImageError(.tooLarge, "the image is \(bytes.count) bytes; at most \(limits.maxEncodedBytes) are allowed")
        }
        let format = ic_sniff(base, bytes.count)
        let name: String
        switch format {
        case IC_FORMAT_PNG: name = "PNG"
        case IC_FORMAT_JPEG: name = "JPEG"
        default:
            throw ImageError(.unknownFormat, "the bytes start with neither a PNG nor a JPEG signature; expected a \(acceptedFormats) file")
        }

        var message = [CChar](repeating: 0, count: 256)
        var info = ic_info()
        let probed = message.withUnsafeMutableBufferPointer { ic_probe(base, bytes.count, &info, $0.baseAddress!, $0.count) }
        if probed != IC_OK { throw error(probed, format: name, phase: "header", message: message) }
        let width = Int(info.width)
        let height = Int(info.height)
        try limits.check(width: width, height: height, format: name)

        var codecLimits = ic_limits(
            max_side: UInt32(limits.maxSide), max_pixels: UInt64(limits.maxPixels), max_memory: UInt64(limits.decoderMemory))
        var status = IC_OK
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * 3) { buffer, initialized in
            status = message.withUnsafeMutableBufferPointer { text in
                ic_decode(base, bytes.count, &codecLimits, info.width, info.height, buffer.baseAddress!, buffer.count,
                          text.baseAddress!, text.count)
            }
            initialized = status == IC_OK ? buffer.count : 0
        }
        if status != IC_OK { throw error(status, format: name, phase: "data", message: message) }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The `ImageError` for a codec status, with the library's own words.
    private static func error(_ status: ic_status, format: String, phase: String, message: [CChar]) -> ImageError {
        let detail = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let suffix = detail.isEmpty ? "" : ": \(detail)"
        switch status {
        case IC_TRUNCATED: return ImageError(.truncated, "the \(format) \(phase) ends early\(suffix)")
        case IC_TOO_LARGE: return ImageError(.tooLarge, "the \(format) is too large to decode\(suffix)")
        case IC_UNSUPPORTED: return ImageError(.unsupported, "the \(format) is of a kind not supported\(suffix)")
        case IC_UNKNOWN_FORMAT: return ImageError(.unknownFormat, "expected a \(acceptedFormats) file\(suffix)")
        default: return ImageError(.malformed, "the \(format) \(phase) is invalid\(suffix)")
        }
    }
}
