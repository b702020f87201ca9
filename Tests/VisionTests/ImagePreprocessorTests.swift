import Testing
import Vision

/// The preprocessor's edges that the llama.cpp fixtures do not reach.
@Suite struct ImagePreprocessorTests {
    static let mean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    static let std: [Float] = [0.26862954, 0.26130258, 0.27577711]
    static let pixtral = ImagePreprocessor.pixtral(patchSize: 16, mergeSize: 2, mean: mean, std: std)

    static func image(width: Int, height: Int) -> RGBImage {
        // A 997-byte noise pattern, doubled up to size (the standard library's append is fast in debug).
        var pixels = (0..<997).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        let count = width * height * 3
        while pixels.count < count { pixels.append(contentsOf: pixels.prefix(count - pixels.count)) }
        return RGBImage(width: width, height: height, pixels: Array(pixels.prefix(count)))
    }

    @Test func pixtralLimits() {
        #expect(Self.pixtral.minPixels == 8 * 32 * 32)
        #expect(Self.pixtral.maxPixels == 1024 * 32 * 32)
        #expect(Self.pixtral.targetSize(width: 0, height: 5) == (0, 0))
    }

    /// Sizes at every extreme stay multiples of 32 within the budget (or at one aligned row or column
    /// for the thinnest images, as llama.cpp does), and resizing them neither traps nor pads wrongly.
    @Test(arguments: [(1, 1), (4000, 1), (1, 4000), (16384, 1), (1, 16384), (16384, 1525), (5000, 5000), (31, 33)])
    func extremes(width: Int, height: Int) {
        let size = Self.pixtral.targetSize(width: width, height: height)
        #expect(size.width % 32 == 0 && size.height % 32 == 0 && size.width > 0 && size.height > 0)
        #expect(size.width * size.height <= Self.pixtral.maxPixels)
        let output = Self.pixtral(Self.image(width: width, height: height))
        #expect(output.width == size.width && output.height == size.height)
        #expect(output.pixels.count == size.width * size.height * 3)
        #expect(output.pixels.allSatisfy { $0.isFinite })
    }

    /// A 4000 × 1 image keeps its one row, centred in black rows: the padding is (0 − mean) / std.
    @Test func wideImageIsPaddedBlack() {
        let output = Self.pixtral(Self.image(width: 4000, height: 1))
        #expect(output.width == 4000 && output.height == 32)
        let black = (0 - Self.mean[0]) / Self.std[0]
        #expect(output.pixels[0] == black)
        #expect(output.pixels[(15 * 4000) * 3] != black || output.pixels[(15 * 4000) * 3 + 3] != black)
        #expect(output.pixels[(16 * 4000) * 3] == black)
    }
}
