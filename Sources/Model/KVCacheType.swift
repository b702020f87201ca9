public import GGUF

/// The element type of the KV cache: F16 (llama.cpp's default `type_k`/`type_v`, and ours) or Q8_0
/// (half the memory: 34 bytes per 32 values instead of 64).
///
/// With Q8_0, attention runs as llama.cpp's CPU flash-attention kernel does for a quantized cache
/// (see `attend_q8_0` in `Sources/CKernels/include/CKernelsOps.h`), so its logits differ slightly
/// from the F16 cache's (tests hold them within a cosine of 0.999).
public enum KVCacheType: String, Sendable, Hashable, CaseIterable {
    /// IEEE half precision.
    case f16
    /// Blocks of 32 int8 values with an F16 scale.
    case q8_0

    /// The GGML type (for byte counts: `ModelConfiguration.kvCacheBytesPerToken(cacheType:)`).
    public var ggmlType: GGMLType {
        switch self {
        case .f16: .f16
        case .q8_0: .q8_0
        }
    }

    /// Bytes of one row of `elements` values (a head), or nil if Q8_0 and not whole 32-blocks.
    public func rowByteCount(elements: Int) -> Int? {
        switch self {
        case .f16: elements * 2
        case .q8_0: elements % 32 == 0 ? elements / 32 * 34 : nil
        }
    }
}
