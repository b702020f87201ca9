/// A bounds-checked little-endian reader over untrusted bytes.
///
/// Every read checks the remaining length first and throws `.truncated` with the offset; nothing here
/// can read outside `bytes` or trap on overflow.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    var position: Int

    var remaining: Int { bytes.count - position }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let size = MemoryLayout<T>.size
        guard position >= 0, remaining >= size else {
            throw GGUFError(.truncated, "file ends inside \(what()) (needs \(size) bytes)", offset: position)
        }
        let value = bytes.loadUnaligned(fromByteOffset: position, as: T.self)
        position += size
        return T(littleEndian: value)
    }

    mutating func readFloat(_ what: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    mutating func readDouble(_ what: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// Reads a u64 length and checks it against `limit` and the bytes left, returning the string's range.
    mutating func readStringRange(limit: Int, _ what: @autoclosure () -> String = "string") throws -> Range<Int> {
        let start = position
        let length = try read(UInt64.self, "the length of \(what())")
        guard length <= UInt64(limit) else {
            throw GGUFError(
                .limitExceeded, "\(what()) is \(length) bytes long; the limit is \(limit)", offset: start)
        }
        let count = Int(length)  // fits: length <= limit <= Int.max
        guard remaining >= count else {
            throw GGUFError(
                .truncated, "\(what()) of \(count) bytes runs past the end of the file (\(remaining) left)",
                offset: start)
        }
        let range = position..<(position + count)
        position += count
        return range
    }

    /// Reads a string that must be valid UTF-8 (keys, tensor names).
    mutating func readUTF8String(limit: Int, _ what: @autoclosure () -> String) throws -> String {
        let start = position
        let range = try readStringRange(limit: limit, what())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[range])
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw GGUFError(.invalidString, "\(what()) is not valid UTF-8", offset: start)
        }
        return string
    }

    /// Moves forward `count` bytes, which must be there.
    mutating func skip(_ count: Int, _ what: @autoclosure () -> String) throws {
        guard count >= 0, remaining >= count else {
            throw GGUFError(
                .truncated, "\(what()) of \(count) bytes runs past the end of the file (\(remaining) left)",
                offset: position)
        }
        position += count
    }
}
