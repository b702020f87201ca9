/// An image ready for the vision encoder: `width × height` pixels, three interleaved normalized floats
/// each, row-major (the layout of llama.cpp's `clip_image_f32` buffer).
public struct PreprocessedImage: Sendable, Equatable {
    /// Pixels per row, a multiple of `patchSize × mergeSize`.
    public var width: Int
    /// Rows, a multiple of `patchSize × mergeSize`.
    public var height: Int
    /// `width × height × 3` values, `(v / 255 − mean[c]) / std[c]`.
    public var pixels: [Float]

    /// Creates a preprocessed image from its values.
    ///
    /// - Parameters:
    ///   - width: Pixels per row.
    ///   - height: Rows.
    ///   - pixels: `width × height × 3` values.
    public init(width: Int, height: Int, pixels: [Float]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// Pixtral's image preprocessing as llama.cpp runs it (`mtmd_image_preprocessor_dyn_size`): resize to a
/// multiple of `patchSize × mergeSize` within a pixel budget, keeping the aspect ratio, with Pillow's
/// bicubic filter; pad the rest black; scale to [0, 1]; normalize by the projector's mean and std.
///
/// Every step is reproduced operation for operation, in the precision llama.cpp uses (the size in
/// `Float`, the filter weights in `Double`, the resampling in 22-bit fixed point, the normalization
/// in `Float`), so the output matches llama.cpp's bit for bit (scripts/dump-llamacpp-pixels,
/// Fixtures/vision/pixels/preprocessed.json, VisionTests/ImageParityTests).
public struct ImagePreprocessor: Sendable {
    /// The side of one vision patch, in pixels.
    public let patchSize: Int
    /// Patches merged per side by the projector (1 for the original Pixtral).
    public let mergeSize: Int
    /// The fewest pixels an image is resized to (upscaled when smaller).
    public let minPixels: Int
    /// The most pixels an image is resized to (downscaled when larger).
    public let maxPixels: Int
    /// The per-channel mean subtracted, R, G, B.
    public let mean: [Float]
    /// The per-channel standard deviation divided by, R, G, B.
    public let std: [Float]

    /// Creates a preprocessor.
    ///
    /// The values come from a projector file the loader has already checked; values outside the ranges
    /// below are a programming error.
    ///
    /// - Parameters:
    ///   - patchSize: The patch side, 1...1024.
    ///   - mergeSize: Patches merged per side, 1...64.
    ///   - minPixels: The smallest pixel budget, at least 1.
    ///   - maxPixels: The largest pixel budget, at least `minPixels`.
    ///   - mean: Three channel means.
    ///   - std: Three channel standard deviations.
    public init(patchSize: Int, mergeSize: Int, minPixels: Int, maxPixels: Int, mean: [Float], std: [Float]) {
        precondition((1...1024).contains(patchSize) && (1...64).contains(mergeSize), "ImagePreprocessor: patch \(patchSize), merge \(mergeSize)")
        precondition(minPixels > 0 && maxPixels >= minPixels, "ImagePreprocessor: pixels \(minPixels)...\(maxPixels)")
        precondition(mean.count == 3 && std.count == 3, "ImagePreprocessor: mean and std need three channels")
        self.patchSize = patchSize
        self.mergeSize = mergeSize
        self.minPixels = minPixels
        self.maxPixels = maxPixels
        self.mean = mean
        self.std = std
    }

    /// The preprocessor llama.cpp sets up for a Pixtral projector: between 8 and 1024 image tokens
    /// (`set_limit_image_tokens(8, 1024)`), a token being `mergeSize²` patches.
    ///
    /// - Parameters:
    ///   - patchSize: The projector's patch size (`clip.vision.patch_size`).
    ///   - mergeSize: The projector's spatial merge size (`clip.vision.spatial_merge_size`, 1 if absent).
    ///   - mean: The projector's image mean.
    ///   - std: The projector's image standard deviation.
    /// - Returns: The preprocessor.
    public static func pixtral(patchSize: Int, mergeSize: Int, mean: [Float], std: [Float]) -> Self {
        let tokenArea = patchSize * patchSize * mergeSize * mergeSize
        return Self(patchSize: patchSize, mergeSize: mergeSize, minPixels: 8 * tokenArea, maxPixels: 1024 * tokenArea, mean: mean, std: std)
    }

    /// The size an image is resized to: each side rounded to a multiple of `patchSize × mergeSize`,
    /// then scaled down into `maxPixels` or up into `minPixels` keeping the aspect ratio
    /// (`img_tool::calc_size_preserved_ratio`, in `Float` as there).
    ///
    /// - Parameters:
    ///   - width: The image's width.
    ///   - height: The image's height.
    /// - Returns: The target size; (0, 0) for an empty image.
    public func targetSize(width: Int, height: Int) -> (width: Int, height: Int) {
        guard width > 0, height > 0 else { return (0, 0) }
        let align = patchSize * mergeSize
        let factor = Float(align)
        func roundBy(_ x: Float) -> Int { Self.int((x / factor).rounded(.toNearestOrAwayFromZero)) * align }
        func ceilBy(_ x: Float) -> Int { Self.int((x / factor).rounded(.up)) * align }
        func floorBy(_ x: Float) -> Int { Self.int((x / factor).rounded(.down)) * align }

        let w = Float(width)
        let h = Float(height)
        var newWidth = max(align, roundBy(w))
        var newHeight = max(align, roundBy(h))
        if newWidth * newHeight > maxPixels {
            let beta = (h * w / Float(maxPixels)).squareRoot()
            newHeight = max(align, floorBy(h / beta))
            newWidth = max(align, floorBy(w / beta))
        } else if newWidth * newHeight < minPixels {
            let beta = (Float(minPixels) / (h * w)).squareRoot()
            newHeight = ceilBy(h * beta)
            newWidth = ceilBy(w * beta)
        }
        return (newWidth, newHeight)
    }

    /// Resizes, pads and normalizes an image for the encoder.
    ///
    /// - Parameter image: The decoded image.
    /// - Returns: The normalized pixels at `targetSize`.
    public func preprocess(_ image: RGBImage) -> PreprocessedImage {
        let target = targetSize(width: image.width, height: image.height)
        let resized = Self.resizeAndPad(image, width: target.width, height: target.height)
        let (m0, m1, m2) = (mean[0], mean[1], mean[2])
        let (s0, s1, s2) = (std[0], std[1], std[2])
        let count = resized.count
        let pixels = [Float](unsafeUninitializedCapacity: count) { out, initialized in
            resized.withUnsafeBufferPointer { source in
                var i = 0
                while i < count {
                    // from_u8 (v / 255) then normalize ((x - mean) / std), each rounded to Float.
                    out[i] = (Float(source[i]) / 255 - m0) / s0
                    out[i + 1] = (Float(source[i + 1]) / 255 - m1) / s1
                    out[i + 2] = (Float(source[i + 2]) / 255 - m2) / s2
                    i += 3
                }
            }
            initialized = count
        }
        return PreprocessedImage(width: target.width, height: target.height, pixels: pixels)
    }

    /// Resizes, pads and normalizes an image for the encoder (`preprocess`).
    ///
    /// - Parameter image: The decoded image.
    /// - Returns: The normalized pixels at `targetSize`.
    public func callAsFunction(_ image: RGBImage) -> PreprocessedImage { preprocess(image) }

    /// `Int(x)` truncating as C's cast does, saturating where C's would be undefined.
    static func int(_ x: Float) -> Int {
        guard x.isFinite else { return x > 0 ? Int(Int32.max) : 0 }
        return Int(max(-0x1p31, min(0x1p31, x)))
    }
}
