internal import CKernels

/// IEEE half-precision conversion (round to nearest even, as ggml and F16C do), for F16 KV caches
/// and for rounding activations the way llama.cpp's F16 matrix products do.
public enum HalfPrecision {
    /// Converts `count` floats to F16 bit patterns.
    ///
    /// - Parameters:
    ///   - source: The floats.
    ///   - destination: `count` F16 values.
    ///   - count: The number of values.
    public static func convert(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<UInt16>, count: Int) {
        ck_fp32_to_fp16_row(source, destination, count)
    }

    /// Rounds `count` floats in place to the nearest F16 value (keeping them as `Float`).
    ///
    /// - Parameters:
    ///   - values: The floats.
    ///   - count: The number of values.
    public static func round(_ values: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            values[i] = ck_fp16_to_fp32(ck_fp32_to_fp16(values[i]))
        }
    }

    /// One F16 bit pattern as a float.
    ///
    /// - Parameter bits: The F16 value.
    /// - Returns: Its value.
    @inlinable
    public static func float(_ bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }
}
