/// Where a pull is, reported to its progress callback.
public struct PullProgress: Sendable {
    /// The pull's phase.
    public enum Phase: Sendable, Equatable {
        /// Bytes are arriving.
        case downloading
        /// An attempt failed; the next starts after `delay` seconds. `reason` says what happened.
        case retrying(reason: String, delay: Double)
        /// The server ignored the range or the partial file was unusable: starting from byte 0.
        case restarting(reason: String)
        /// The download is complete; size, SHA-256 and GGUF structure are being checked.
        case verifying
    }

    /// The phase.
    public var phase: Phase
    /// Bytes of the file on disk so far.
    public var receivedBytes: Int
    /// The file's total size, once known.
    public var totalBytes: Int?
    /// Where the current attempt started (0, or the resume offset).
    public var attemptStart: Int
    /// The attempt's number, from 1.
    public var attempt: Int

    /// Creates a report.
    ///
    /// - Parameters:
    ///   - phase: The phase.
    ///   - receivedBytes: Bytes on disk.
    ///   - totalBytes: The total, if known.
    ///   - attemptStart: The attempt's first byte.
    ///   - attempt: The attempt's number.
    public init(phase: Phase, receivedBytes: Int, totalBytes: Int?, attemptStart: Int, attempt: Int) {
        self.phase = phase
        self.receivedBytes = receivedBytes
        self.totalBytes = totalBytes
        self.attemptStart = attemptStart
        self.attempt = attempt
    }
}
