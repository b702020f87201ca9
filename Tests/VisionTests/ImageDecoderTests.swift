import Foundation
import TestSupport
import Testing
import Vision

/// Hostile and broken image bytes: each is a clear `ImageError`, never a trap, a hang or a huge
/// allocation.
@Suite struct ImageDecoderTests {
    static func fixture(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("vision/pixels/" + relative))))
    }

    /// The error `decode` throws, or nil when it decodes.
    static func failure(_ bytes: [UInt8], limits: ImageLimits = .init()) -> ImageError? {
        do {
            _ = try ImageDecoder.decode(bytes, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Crafted headers

    static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A PNG with a valid IHDR claiming `width × height` 8-bit RGB, then `rest`.
    static func pngHeader(width: UInt32, height: UInt32, rest: [UInt8] = []) -> [UInt8] {
        pngSignature + chunk("IHDR", bigEndian(width) + bigEndian(height) + [8, 2, 0, 0, 0]) + rest
    }

    /// A real JPEG with its SOF0 frame's size replaced.
    static func jpeg(width: UInt16, height: UInt16) throws -> [UInt8] {
        var bytes = try fixture("jpeg/baseline-420.jpg")
        let sof = try #require((0..<bytes.count - 9).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 })
        bytes[sof + 5] = UInt8(height >> 8)
        bytes[sof + 6] = UInt8(height & 0xFF)
        bytes[sof + 7] = UInt8(width >> 8)
        bytes[sof + 8] = UInt8(width & 0xFF)
        return bytes
    }

    // MARK: Tests

    @Test func emptyBytes() {
        #expect(Self.failure([])?.code == .empty)
    }

    @Test func unknownSignatures() {
        for bytes in [Array("GIF89a....".utf8), Array("BM6\0\0\0".utf8), [0x00], [0xFF, 0xD8], Array("RIFF\0\0\0\0WEBPVP8 ".utf8),
                      Array(Self.pngSignature.prefix(7))] {
            let error = Self.failure(bytes)
            #expect(error?.code == .unknownFormat, "\(bytes)")
            #expect(error?.message.contains("PNG or JPEG") == true)
        }
    }

    @Test func fiftyThousandSquaredIsRefusedFromTheHeader() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let png = Self.failure(Self.pngHeader(width: 50_000, height: 50_000))
        #expect(png?.code == .tooLarge, "\(String(describing: png))")
        let jpeg = Self.failure(try Self.jpeg(width: 50_000, height: 50_000))
        #expect(jpeg?.code == .tooLarge, "\(String(describing: jpeg))")
        // Beyond libpng's own limits and PNG's 2^31 - 1: still the header's verdict.
        #expect(Self.failure(Self.pngHeader(width: 0x7FFF_FFFF, height: 1))?.code == .tooLarge)
        #expect(Self.failure(Self.pngHeader(width: 0xFFFF_FFFF, height: 1))?.code == .malformed)
        #expect(clock.now - start < .seconds(1))
    }

    @Test func limitsAreCheckedPerSideAndPerPixel() throws {
        let png = try Self.fixture("png/rgb8.png")  // 37 × 23
        #expect(Self.failure(png, limits: ImageLimits(maxSide: 36))?.code == .tooLarge)
        #expect(Self.failure(png, limits: ImageLimits(maxPixels: 37 * 23 - 1))?.code == .tooLarge)
        #expect(Self.failure(png, limits: ImageLimits(maxEncodedBytes: png.count - 1))?.code == .tooLarge)
        #expect(Self.failure(png, limits: ImageLimits(maxPixels: 37 * 23, maxSide: 37)) == nil)
        let jpeg = try Self.fixture("jpeg/baseline-420.jpg")  // 67 × 45
        #expect(Self.failure(jpeg, limits: ImageLimits(maxSide: 66))?.code == .tooLarge)
        #expect(Self.failure(jpeg, limits: ImageLimits(maxPixels: 67 * 45 - 1))?.code == .tooLarge)
    }

    @Test func zeroWidthOrHeight() throws {
        #expect(Self.failure(Self.pngHeader(width: 0, height: 10))?.code == .malformed)
        #expect(Self.failure(Self.pngHeader(width: 10, height: 0))?.code == .malformed)
        #expect(Self.failure(try Self.jpeg(width: 0, height: 45)) != nil)
        #expect(Self.failure(try Self.jpeg(width: 67, height: 0)) != nil)
    }

    /// A header within the limits over almost no data: an error, at once (no decompression bomb).
    @Test func bigHeaderOverNoData() {
        let idat = Self.chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
        let error = Self.failure(Self.pngHeader(width: 4096, height: 4096, rest: idat + Self.chunk("IEND", [])))
        #expect(error?.code == .malformed || error?.code == .truncated, "\(String(describing: error))")
    }

    /// Every prefix of a PNG and a JPEG: an error, or (when only trailing bytes the decoder does not
    /// need are missing) the same image.
    @Test(arguments: ["png/rgb8.png", "png/rgb8-interlaced.png", "png/palette4.png", "jpeg/baseline-420.jpg",
                      "jpeg/progressive-420.jpg", "jpeg/gray.jpg"])
    func truncatedAtEveryLength(name: String) throws {
        let bytes = try Self.fixture(name)
        let whole = try ImageDecoder.decode(bytes)
        var failures = 0
        for cut in 0..<bytes.count {
            do {
                let image = try ImageDecoder.decode(Array(bytes.prefix(cut)))
                #expect(image == whole, "\(name) cut at \(cut) decoded to another image")
            } catch {
                failures += 1
                let expected: [ImageError.Code] = cut == 0 ? [.empty] : cut < 3 ? [.unknownFormat] : [.truncated, .malformed, .unknownFormat]
                #expect(expected.contains(error.code), "\(name) cut at \(cut): \(error)")
            }
        }
        // Only the trailer (PNG's IEND, JPEG's EOI) may go missing unnoticed.
        #expect(failures >= bytes.count - 12, "\(name): \(failures) of \(bytes.count) prefixes failed")
    }

    /// Flipped bytes everywhere (headers, tables, compressed data): an error or some image of a sane
    /// size, never a trap.
    @Test(arguments: ["png/rgb8.png", "png/gray16.png", "png/palette8-trns.png", "jpeg/baseline-420.jpg",
                      "jpeg/progressive-444.jpg", "jpeg/cmyk.jpg"])
    func corruptedBytes(name: String) throws {
        let bytes = try Self.fixture(name)
        var generator = SplitMix(seed: 0x1234 &+ UInt64(bytes.count))
        var errors = 0
        for position in 0..<bytes.count {
            for mask: UInt8 in [0xFF, 1 << UInt8(generator.next() % 8)] {
                var copy = bytes
                copy[position] ^= mask
                do {
                    let image = try ImageDecoder.decode(copy)
                    #expect(image.pixels.count == image.width * image.height * 3)
                } catch {
                    errors += 1
                    #expect(!error.message.isEmpty)
                }
            }
        }
        #expect(errors > 0, "\(name): no corruption was noticed")
    }

    @Test func errorsDescribeThemselves() {
        let error = ImageError(.truncated, "the PNG data ends early")
        #expect(error.description == "image error (truncated): the PNG data ends early")
    }
}

/// A small deterministic generator for the corruption tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
