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
        var messages: [[UInt8]] = []
        for byte in bytes {
            if byte == 0 {
                messages.append(pending)
                pending.removeAll(keepingCapacity: true)
            } else {
                guard pending.count < maximumMessageBytes else {
                    pending.removeAll()
                    throw WireError.messageTooLarge(limit: maximumMessageBytes)
                }
                pending.append(byte)
            }
        }
        return messages
    }
}
