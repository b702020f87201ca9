/// Mutates valid GGUF files into hostile ones, reproducibly from a seed.
///
/// Mutations aim at what a parser trusts: lengths, counts, type ids, offsets and dimensions get
/// "interesting" values (0, 1, all ones, the sign bit, powers of two, values near the file size);
/// bytes are flipped, overwritten, inserted, deleted, duplicated or cut off.
public struct GGUFMutator {
    private var random: SeededRandom

    /// Creates a mutator.
    ///
    /// - Parameter seed: The seed.
    public init(seed: UInt64) {
        random = SeededRandom(seed: seed)
    }

    /// Returns `original` with one to four random mutations applied.
    ///
    /// - Parameter original: A file's bytes.
    /// - Returns: The mutated bytes.
    public mutating func mutate(_ original: [UInt8]) -> [UInt8] {
        var bytes = original
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            apply(to: &bytes)
        }
        return bytes
    }

    private mutating func offset(in bytes: [UInt8], width: Int = 1) -> Int? {
        guard bytes.count >= width else { return nil }
        // Half the time, hit the header and tables, where every byte matters.
        let upper = Bool.random(using: &random) ? min(bytes.count - width, 512) : bytes.count - width
        return Int.random(in: 0...upper, using: &random)
    }

    private mutating func interesting64(fileSize: Int) -> UInt64 {
        let choices: [UInt64] = [
            0, 1, 2, 3, 4, 5, 8, 16, 31, 32, 33, 63, 64, 255, 256, 4096, 65535, 1 << 16, 1 << 24, 1 << 31,
            1 << 32, (1 << 32) - 1, UInt64(Int64.max), 1 << 63, UInt64.max, UInt64.max - 1,
            UInt64(fileSize), UInt64(fileSize) + 1, UInt64(max(0, fileSize - 1)), UInt64(fileSize) * 2,
        ]
        return choices.randomElement(using: &random) ?? 0
    }

    private mutating func interesting32() -> UInt32 {
        let choices: [UInt32] = [
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 30, 31, 33, 39, 41, 42, 64, 255, 0x7FFF_FFFF,
            0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFFE,
        ]
        return choices.randomElement(using: &random) ?? 0
    }

    private mutating func apply(to bytes: inout [UInt8]) {
        switch Int.random(in: 0..<10, using: &random) {
        case 0, 1:  // flip one bit
            guard let at = offset(in: bytes) else { return }
            bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &random)
        case 2:  // overwrite a byte
            guard let at = offset(in: bytes) else { return }
            bytes[at] = [0, 0xFF, 0x7F, 0x80, 1, UInt8.random(in: 0...255, using: &random)].randomElement(using: &random)!
        case 3, 4:  // a u64 field (counts, lengths, dimensions, offsets) gets an interesting value
            guard let at = offset(in: bytes, width: 8) else { return }
            let value = interesting64(fileSize: bytes.count)
            for i in 0..<8 { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        case 5:  // a u32 field (type ids, dimension counts, versions) gets an interesting value
            guard let at = offset(in: bytes, width: 4) else { return }
            let value = interesting32()
            for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
        case 6:  // cut the file
            guard !bytes.isEmpty else { return }
            bytes.removeLast(Int.random(in: 1...bytes.count, using: &random))
        case 7:  // delete a run
            guard let at = offset(in: bytes) else { return }
            bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...16, using: &random)))
        case 8:  // insert random bytes
            let at = Int.random(in: 0...bytes.count, using: &random)
            let run = (0..<Int.random(in: 1...16, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            bytes.insert(contentsOf: run, at: at)
        default:  // duplicate a run somewhere else (repeats keys, tensor infos)
            guard let from = offset(in: bytes) else { return }
            let run = Array(bytes[from..<min(bytes.count, from + Int.random(in: 4...64, using: &random))])
            bytes.insert(contentsOf: run, at: Int.random(in: 0...bytes.count, using: &random))
        }
    }
}
