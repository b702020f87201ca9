#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An open-addressing hash table from byte strings to `Int32` values.
///
/// Tokenizers look up millions of short byte strings (candidate merges, pre-tokens). A Swift
/// `Dictionary<[UInt8], Int32>` would allocate an array per look-up; this table hashes bytes in place
/// (an `UnsafeRawBufferPointer` into the text being tokenized) and compares them against one
/// contiguous key store.
struct ByteStringTable: Sendable {
    private var keyBytes: [UInt8] = []
    private var keyStarts: [Int32] = [0]
    private var values: [Int32] = []
    private var slots: [Int32]
    private var mask: Int

    /// Creates an empty table sized for about `capacity` keys of about `keyBytes` bytes in all.
    init(capacity: Int, keyBytes: Int = 0) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: -1, count: size)
        mask = size - 1
        self.keyBytes.reserveCapacity(keyBytes)
        keyStarts.reserveCapacity(capacity + 1)
        values.reserveCapacity(capacity)
    }

    /// The number of keys.
    var count: Int { values.count }

    /// Calls `body` with key `index` (`0..<count`, in insertion order).
    func withKey<R>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = Int(keyStarts[index])
        let end = Int(keyStarts[index + 1])
        return try keyBytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }

    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        // 8 bytes at a time, multiply-xorshift mixing; keys are short, so speed matters more than quality.
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: bytes.count)
        let n = bytes.count
        var i = 0
        while i + 8 <= n {
            let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ word) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        if i < n {
            var word: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                word |= UInt64(bytes[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ word) &* 0xC4CE_B9FE_1A85_EC53
        }
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 32)
    }

    /// Inserts `bytes` with `value` unless the key is present.
    ///
    /// - Returns: `true` if inserted, `false` if the key was already there (its value is kept, as
    ///   llama.cpp's `emplace` keeps the first merge rank).
    @discardableResult
    mutating func insert(_ bytes: UnsafeRawBufferPointer, value: Int32) -> Bool {
        if (values.count + 1) * 2 > slots.count { grow() }
        var slot = Int(truncatingIfNeeded: Self.hash(bytes)) & mask
        while true {
            let entry = slots[slot]
            if entry < 0 { break }
            if keyEquals(Int(entry), bytes) { return false }
            slot = (slot + 1) & mask
        }
        slots[slot] = Int32(values.count)
        keyBytes.append(contentsOf: bytes)
        keyStarts.append(Int32(keyBytes.count))
        values.append(value)
        return true
    }

    /// Inserts `bytes` with `value` unless the key is present.
    @discardableResult
    mutating func insert(_ bytes: [UInt8], value: Int32) -> Bool {
        bytes.withUnsafeBytes { insert($0, value: value) }
    }

    /// The value stored for `bytes`, or `nil`.
    @inline(__always)
    func lookup(_ bytes: UnsafeRawBufferPointer) -> Int32? {
        var slot = Int(truncatingIfNeeded: Self.hash(bytes)) & mask
        while true {
            let entry = slots[slot]
            if entry < 0 { return nil }
            if keyEquals(Int(entry), bytes) { return values[Int(entry)] }
            slot = (slot + 1) & mask
        }
    }

    /// The value stored for `bytes`, or `nil`.
    func lookup(_ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { lookup($0) }
    }

    @inline(__always)
    private func keyEquals(_ entry: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let start = Int(keyStarts[entry])
        let end = Int(keyStarts[entry + 1])
        guard end - start == bytes.count else { return false }
        return keyBytes.withUnsafeBytes { store in
            bytes.count == 0 || memcmp(store.baseAddress! + start, bytes.baseAddress!, bytes.count) == 0
        }
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = Array(repeating: -1, count: size)
        mask = size - 1
        for entry in 0..<values.count {
            let start = Int(keyStarts[entry])
            let end = Int(keyStarts[entry + 1])
            let h = keyBytes.withUnsafeBytes { Self.hash(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
            var slot = Int(truncatingIfNeeded: h) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(entry)
        }
    }
}
