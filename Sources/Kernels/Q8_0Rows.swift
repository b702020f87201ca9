internal import CKernels

/// Q8_0 rows outside the weight matrices: the Q8_0 KV cache stores each head's keys and values as
/// blocks of 32 int8 values with an F16 scale, quantized as llama.cpp's CPU backend quantizes to Q8_0
/// (`ck_quantize_row_q8_0`: the same bytes on every path).
public enum Q8_0Rows {
    /// Bytes of a row of `count` values (`count` a multiple of 32).
    ///
    /// - Parameter count: Values in the row.
    /// - Returns: `count / 32 × 34`.
    public static func byteCount(_ count: Int) -> Int {
        precondition(count % 32 == 0, "Q8_0 rows are whole 32-blocks")
        return count / 32 * 34
    }

    /// Quantizes `count` floats (a multiple of 32) into Q8_0 blocks.
    ///
    /// - Parameters:
    ///   - x: The floats.
    ///   - y: `byteCount(count)` bytes.
    ///   - count: The number of values.
    public static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer, count: Int) {
        precondition(count % 32 == 0, "Q8_0 rows are whole 32-blocks")
        ck_quantize_row_q8_0(x, y, count)
    }

    /// Dequantizes `count` values of Q8_0 blocks into floats.
    ///
    /// - Parameters:
    ///   - x: `byteCount(count)` bytes.
    ///   - y: `count` floats.
    ///   - count: The number of values.
    public static func dequantize(_ x: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % 32 == 0, "Q8_0 rows are whole 32-blocks")
        ck_dequantize_row_q8_0(x, y, count)
    }
}
