import Foundation
import ModelStore
import TestSupport
import Testing
import Vision

/// Decoding and preprocessing against what llama.cpp does, as scripts/dump-llamacpp-pixels.py measured
/// it on the libmtmd.so llama-cpp-python 0.3.36 ships (its stb_image and its Pixtral preprocessor);
/// the fixtures are under Fixtures/vision/pixels.
@Suite struct ImageParityTests {
    struct Decoded: Decodable {
        struct Entry: Decodable {
            var width: Int
            var height: Int
            var sha256: String
            var stb: String?
        }
        var images: [String: Entry]
    }

    struct Preprocessed: Decodable {
        struct Sample: Decodable {
            var index: Int
            var bits: String
        }
        struct Case: Decodable {
            var input: String
            var width: Int
            var height: Int
            var patch: Int
            var merge: Int
            var min_pixels: Int
            var max_pixels: Int
            var target_width: Int
            var target_height: Int
            var sha256: String
            var samples: [Sample]
        }
        var mean: [Float]
        var std: [Float]
        var cases: [Case]
    }

    static func bytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("vision/pixels/" + relative))))
    }

    static func load<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(try bytes(name)))
    }

    static func sha256<T>(_ values: [T]) -> String {
        var hash = SHA256()
        values.withUnsafeBytes { hash.update($0) }
        return hash.hexDigest()
    }

    /// Every PNG variant (8- and 16-bit, grey, alpha, palettes with and without tRNS, 1/2/4-bit,
    /// Adam7) decodes to exactly stb_image's bytes.
    @Test func pngDecodesExactlyAsStbImage() throws {
        let decoded = try Self.load(Decoded.self, "decoded.json")
        let pngs = decoded.images.filter { $0.key.hasPrefix("png/") }
        #expect(pngs.count >= 20)
        for (name, expected) in pngs.sorted(by: { $0.key < $1.key }) {
            let image = try ImageDecoder.decode(try Self.bytes(name))
            #expect(image.width == expected.width && image.height == expected.height, "\(name)")
            #expect(Self.sha256(image.pixels) == expected.sha256, "\(name): pixels differ from stb_image's")
        }
    }

    /// libjpeg-turbo against stb_image on the same JPEGs: the largest difference of one sample and how
    /// many samples differ, exactly as measured. Both decoders run the IJG "islow" integer IDCT design
    /// and triangle ("fancy") chroma upsampling, but each rounds its IDCT stages, its upsampling and its
    /// YCbCr→RGB fixed point its own way, so some samples land one to three levels apart. One more
    /// difference is stb's: its horizontal-only (4:2:2) upsampler weights the last chroma pair the wrong
    /// way round (3 × the second-to-last sample + the last, for the second-to-last output column), which
    /// libjpeg-turbo does not copy, so a 4:2:2 file's next-to-last column can differ by much more (16 here).
    /// Of libjpeg-turbo's settings, ISLOW with fancy upsampling is the closest (measured by
    /// scripts/dump-llamacpp-pixels.py's fixtures: IFAST differs in 48–83 % of samples, FLOAT in 2–17 %,
    /// plain upsampling in 68–82 % of subsampled ones).
    @Test func jpegDiffersFromStbImageByTheMeasuredAmount() throws {
        let decoded = try Self.load(Decoded.self, "decoded.json")
        let jpegs = decoded.images.filter { $0.key.hasPrefix("jpeg/") }
        #expect(jpegs.count == Self.jpegDifferences.count)
        for (name, expected) in jpegs.sorted(by: { $0.key < $1.key }) {
            let ours = try ImageDecoder.decode(try Self.bytes(name))
            // stb's own decode, stored as a PNG (which decodes exactly, above).
            let stb = try ImageDecoder.decode(try Self.bytes(expected.stb ?? ""))
            #expect(Self.sha256(stb.pixels) == expected.sha256, "\(name): the stored stb decode")
            #expect(ours.width == stb.width && ours.height == stb.height, "\(name)")
            var maxDelta = 0
            var differing = 0
            for (a, b) in zip(ours.pixels, stb.pixels) where a != b {
                maxDelta = max(maxDelta, abs(Int(a) - Int(b)))
                differing += 1
            }
            let measured = Self.jpegDifferences[name]
            print("\(name): max |Δ| \(maxDelta), \(differing) of \(ours.pixels.count) samples differ")
            #expect(measured?.maxDelta == maxDelta && measured?.differing == differing,
                    "\(name): max |Δ| \(maxDelta), \(differing) of \(ours.pixels.count) samples differ")
        }
    }

    /// The measured difference per JPEG fixture: (largest |Δ| of a sample, samples that differ).
    static let jpegDifferences: [String: (maxDelta: Int, differing: Int)] = [
        "jpeg/baseline-420.jpg": (2, 447),  // of 9,045 samples: 4.9 %
        "jpeg/baseline-422.jpg": (16, 1375),  // 15.2 %; |Δ| > 3 only in stb's misweighted column
        "jpeg/baseline-444.jpg": (2, 199),  // 2.2 %
        "jpeg/progressive-420.jpg": (2, 546),  // 6.0 %
        "jpeg/progressive-444.jpg": (2, 147),  // 1.6 %
        "jpeg/q100-444.jpg": (2, 137),  // 1.5 %
        "jpeg/gray.jpg": (1, 57),  // 0.6 %: the IDCT alone
        "jpeg/cmyk.jpg": (1, 75),  // 0.8 % (Adobe CMYK, no colour transform; × K rounded as stb does)
        "jpeg/large-420.jpg": (3, 9921),  // of 147,456: 6.7 %
    ]

    /// Every preprocessing case (tiny, very wide, very tall, upscaled into the minimum, downscaled into
    /// the maximum, odd sizes; patch 16 and 14, merge 2) matches llama.cpp's target size and float
    /// pixels bit for bit.
    @Test func preprocessingMatchesLlamaCppBitForBit() throws {
        let fixture = try Self.load(Preprocessed.self, "preprocessed.json")
        #expect(fixture.cases.count >= 20)
        for item in fixture.cases {
            let label = "\(item.input) patch \(item.patch) merge \(item.merge)"
            let image = try ImageDecoder.decode(try Self.bytes(item.input))
            #expect(image.width == item.width && image.height == item.height, "\(label)")
            let preprocessor = ImagePreprocessor.pixtral(patchSize: item.patch, mergeSize: item.merge, mean: fixture.mean, std: fixture.std)
            #expect(preprocessor.minPixels == item.min_pixels && preprocessor.maxPixels == item.max_pixels, "\(label)")
            let size = preprocessor.targetSize(width: image.width, height: image.height)
            #expect(size.width == item.target_width && size.height == item.target_height, "\(label): \(size)")
            let output = preprocessor(image)
            #expect(output.width == item.target_width && output.height == item.target_height, "\(label)")
            #expect(output.pixels.count == item.target_width * item.target_height * 3, "\(label)")
            for sample in item.samples where sample.index < output.pixels.count {
                let bits = String(output.pixels[sample.index].bitPattern, radix: 16)
                #expect(bits.leftPadded(to: 8) == sample.bits, "\(label): value \(sample.index)")
            }
            // The digest is of little-endian float32 bytes, the order every supported machine stores.
            #expect(Self.sha256(output.pixels) == item.sha256, "\(label): float pixels differ from llama.cpp's")
        }
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }
}
