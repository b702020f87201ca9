/// Splits a byte stream into Varlink messages: JSON objects, each terminated by a NUL byte.
///
/// The buffer is bounded: a peer that sends more than `maximumMessageBytes` without a NUL (a huge
/// message, or no NUL at all) gets an error instead of growing the daemon's memory.
public struct VarlinkFramer: Sendable {
    /// The largest message accepted, NUL excluded.
    public let maximumMessageBytes: Int
    private var pending: [UInt8] = []

    /// Creates a framer.
    ///
    /// - Parameter maximumMessageBytes: The largest message accepted.
    public init(maximumMessageBytes: Int) {
        self.maximumMessageBytes = maximumMessageBytes
    }

    /// Bytes received but not yet part of a complete message.
    public var bufferedByteCount: Int { pending.count }

    /// Adds received bytes and returns the messages they complete (without their NULs).
    ///
    /// - Parameter bytes: Bytes from the socket.
    /// - Returns: Complete messages, in order.
    /// - Throws: `WireError.messageTooLarge` when a message exceeds the limit.
    public mutating func append(_ bytes: some Sequence<UInt8>) throws(WireError) -> [[UInt8]] {
        // Contiguous bytes (a socket's buffer) are searched for NULs and copied a run at a time; a
        // byte-by-byte loop made a 1.6 MB message cost seconds.
        var outcome: Result<[[UInt8]], WireError>?
        _ = bytes.withContiguousStorageIfAvailable { outcome = split($0) }
        if let outcome { return try outcome.get() }
        return try Array(bytes).withUnsafeBufferPointer { split($0) }.get()
    }

    private mutating func split(_ buffer: UnsafeBufferPointer<UInt8>) -> Result<[[UInt8]], WireError> {
        var messages: [[UInt8]] = []
        var rest = buffer[...]
        while !rest.isEmpty {
            let end = rest.firstIndex(of: 0)
            let run = rest[..<(end ?? rest.endIndex)]
            guard pending.count + run.count <= maximumMessageBytes else {
                pending.removeAll()
                return .failure(WireError.messageTooLarge(limit: maximumMessageBytes))
            }
            pending.append(contentsOf: run)
            guard let end else { break }
            messages.append(pending)
            pending.removeAll(keepingCapacity: true)
            rest = rest[(end + 1)...]
        }
        return .success(messages)
    }
}
