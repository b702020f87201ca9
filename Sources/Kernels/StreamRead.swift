internal import CKernels

/// A streaming read of memory with the widest loads the CPU has: the ceiling a mat-vec, which reads
/// every weight byte once, can hope for. Used to measure read bandwidth.
public enum StreamRead {
    /// Sums `byteCount` bytes at `base` as 64-bit words (the sum is only there so the reads happen).
    ///
    /// - Parameters:
    ///   - base: 64-byte-aligned memory.
    ///   - byteCount: A multiple of 512.
    /// - Returns: The wrapping sum.
    public static func sum(_ base: UnsafeRawPointer, byteCount: Int) -> UInt64 {
        precondition(Int(bitPattern: base) % 64 == 0 && byteCount % 512 == 0, "StreamRead needs 64-byte alignment and 512-byte multiples")
        return ck_stream_sum(base, byteCount)
    }
}
