// Resizing as llama.cpp's img_tool does it for Pixtral: `resize` with the PAD_CEIL style (scale to fit,
// pad black, centre) over `resize_pillow`, Pillow's separable two-pass resampler with the bicubic
// filter (a = -0.5), weights in 22-bit fixed point.

extension ImagePreprocessor {
    /// Fixed-point fraction bits of the resampling weights (32 − 8 for the pixel − 2 of headroom).
    static let precisionBits: Int32 = 22

    /// Scales `image` to fit `width × height` keeping its aspect ratio (sides rounded up, at most the
    /// target), centres it, and fills the rest black. Returns RGB8 bytes of the target size.
    static func resizeAndPad(_ image: RGBImage, width: Int, height: Int) -> [UInt8] {
        if width == image.width && height == image.height { return image.pixels }
        let scale = min(Float(width) / Float(image.width), Float(height) / Float(image.height))
        let fitWidth = max(1, min(int((Float(image.width) * scale).rounded(.up)), width))
        let fitHeight = max(1, min(int((Float(image.height) * scale).rounded(.up)), height))
        let fitted = resample(image.pixels, width: image.width, height: image.height, toWidth: fitWidth, toHeight: fitHeight)
        if fitWidth == width && fitHeight == height { return fitted }

        var canvas = [UInt8](repeating: 0, count: width * height * 3)
        let left = (width - fitWidth) / 2
        let top = (height - fitHeight) / 2
        let rowBytes = fitWidth * 3
        canvas.withUnsafeMutableBufferPointer { out in
            fitted.withUnsafeBufferPointer { source in
                for y in 0..<fitHeight {
                    let from = y * rowBytes
                    let to = ((top + y) * width + left) * 3
                    for i in 0..<rowBytes { out[to + i] = source[from + i] }
                }
            }
        }
        return canvas
    }

    /// Pillow's resampler: a horizontal pass over every source row, then a vertical pass, each only when
    /// that side changes, rounding to bytes in between.
    static func resample(_ pixels: [UInt8], width: Int, height: Int, toWidth: Int, toHeight: Int) -> [UInt8] {
        var current = pixels
        if toWidth != width {
            let kernel = Kernel(inSize: width, outSize: toWidth)
            current = resampleHorizontal(current, width: width, height: height, kernel: kernel)
        }
        if toHeight != height {
            let kernel = Kernel(inSize: height, outSize: toHeight)
            current = resampleVertical(current, width: toWidth, kernel: kernel)
        }
        return current
    }

    /// The bicubic filter with a = -0.5 (Pillow's; PyTorch's uses -0.75).
    static func bicubic(_ distance: Double) -> Double {
        let a = -0.5
        let x = distance < 0 ? -distance : distance
        if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
        if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
        return 0
    }

    /// One dimension's filter: for each output pixel the first input pixel, how many are read, and
    /// their fixed-point weights (`size` slots each).
    struct Kernel {
        var size: Int
        var first: [Int]
        var count: [Int]
        var weights: [Int32]

        init(inSize: Int, outSize: Int) {
            let scale = Double(inSize) / Double(outSize)
            let filterScale = max(scale, 1)
            let support = 2 * filterScale
            size = Int(support.rounded(.up)) * 2 + 1
            first = [Int](repeating: 0, count: outSize)
            count = [Int](repeating: 0, count: outSize)
            weights = [Int32](repeating: 0, count: outSize * size)
            let fixedOne = Double(sign: .plus, exponent: Int(ImagePreprocessor.precisionBits), significand: 1)
            var taps = [Double](repeating: 0, count: size)
            for output in 0..<outSize {
                let center = (Double(output) + 0.5) * scale
                let inverse = 1 / filterScale
                let low = max(0, Int(center - support + 0.5))
                let high = min(inSize, Int(center + support + 0.5))
                let n = min(max(0, high - low), size)
                var total = 0.0
                for x in 0..<n {
                    let w = bicubic((Double(x + low) - center + 0.5) * inverse)
                    taps[x] = w
                    total += w
                }
                for x in 0..<n where total != 0 { taps[x] /= total }
                for x in 0..<n {
                    // Pillow adds ±0.5 and truncates toward zero.
                    weights[output * size + x] = Int32(taps[x] * fixedOne + (taps[x] < 0 ? -0.5 : 0.5))
                }
                first[output] = low
                count[output] = n
            }
        }
    }

    static func clip8(_ value: Int32) -> UInt8 {
        let shifted = value >> precisionBits
        return shifted < 0 ? 0 : shifted > 255 ? 255 : UInt8(shifted)
    }

    static func resampleHorizontal(_ pixels: [UInt8], width: Int, height: Int, kernel: Kernel) -> [UInt8] {
        let outWidth = kernel.first.count
        let half: Int32 = 1 << (precisionBits - 1)
        return [UInt8](unsafeUninitializedCapacity: outWidth * height * 3) { out, initialized in
            pixels.withUnsafeBufferPointer { source in
                kernel.weights.withUnsafeBufferPointer { weights in
                    for y in 0..<height {
                        let row = y * width * 3
                        for x in 0..<outWidth {
                            var s0 = half, s1 = half, s2 = half
                            var p = row + kernel.first[x] * 3
                            let k = x * kernel.size
                            for t in 0..<kernel.count[x] {
                                let w = weights[k + t]
                                s0 = s0 &+ Int32(source[p]) &* w
                                s1 = s1 &+ Int32(source[p + 1]) &* w
                                s2 = s2 &+ Int32(source[p + 2]) &* w
                                p += 3
                            }
                            let o = (y * outWidth + x) * 3
                            out[o] = clip8(s0)
                            out[o + 1] = clip8(s1)
                            out[o + 2] = clip8(s2)
                        }
                    }
                }
            }
            initialized = outWidth * height * 3
        }
    }

    static func resampleVertical(_ pixels: [UInt8], width: Int, kernel: Kernel) -> [UInt8] {
        let outHeight = kernel.first.count
        let rowBytes = width * 3
        let half: Int32 = 1 << (precisionBits - 1)
        var sums = [Int32](repeating: 0, count: rowBytes)
        return [UInt8](unsafeUninitializedCapacity: rowBytes * outHeight) { out, initialized in
            pixels.withUnsafeBufferPointer { source in
                sums.withUnsafeMutableBufferPointer { acc in
                    for y in 0..<outHeight {
                        for i in 0..<rowBytes { acc[i] = half }
                        for t in 0..<kernel.count[y] {
                            let w = kernel.weights[y * kernel.size + t]
                            let row = (kernel.first[y] + t) * rowBytes
                            for i in 0..<rowBytes { acc[i] = acc[i] &+ Int32(source[row + i]) &* w }
                        }
                        let o = y * rowBytes
                        for i in 0..<rowBytes { out[o + i] = clip8(acc[i]) }
                    }
                }
            }
            initialized = rowBytes * outHeight
        }
    }
}
