/// BPE merge ranks: an open-addressing hash table from a pair of symbol ids to (rank, merged symbol).
///
/// llama.cpp keys its ranks by the pair of token *strings*; once every string is interned as a
/// symbol id (see `BytePairEncoder`), a pair of `Int32` ids is an exact, allocation-free key.
///
/// The slots hold only ranks; each rank's pair and merged symbol sit in one 12-byte entry indexed by
/// rank. Tekken's 269 443 merges take 2 MiB of slots (2^19, at most 3/4 full) and 3 MiB of entries,
/// where slots holding the key, rank and result took 8 MiB; a look-up reads one slot and one entry.
struct MergeTable: Sendable {
    private struct Entry {
        var left: Int32
        var right: Int32
        var result: Int32
    }

    private var slots: [Int32]
    /// Indexed by rank; ranks that never merge (lines skipped, pairs already present) stay unused.
    private var entries: [Entry]
    private var mask: Int
    private(set) var count = 0

    /// Creates an empty table sized for about `capacity` merges.
    init(capacity: Int) {
        var size = 16
        while size * 3 < capacity * 4 { size <<= 1 }
        slots = Array(repeating: -1, count: size)
        entries = []
        entries.reserveCapacity(capacity)
        mask = size - 1
    }

    @inline(__always)
    private static func slot(_ left: Int32, _ right: Int32, _ mask: Int) -> Int {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        var h = key &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
        return Int(truncatingIfNeeded: h) & mask
    }

    /// Adds a merge unless the pair is already present (the first, lowest rank wins, as in llama.cpp).
    ///
    /// - Parameters:
    ///   - rank: The merge's rank, in `0..<Int32.max`, increasing from call to call.
    mutating func insert(left: Int32, right: Int32, rank: Int32, result: Int32) {
        precondition(rank >= 0 && Int(rank) >= entries.count, "merges are inserted in rank order")
        if (count + 1) * 4 > slots.count * 3 { grow() }
        var slot = Self.slot(left, right, mask)
        while slots[slot] >= 0 {
            let entry = entries[Int(slots[slot])]
            if entry.left == left && entry.right == right { return }
            slot = (slot + 1) & mask
        }
        while entries.count < Int(rank) { entries.append(Entry(left: -1, right: -1, result: -1)) }
        entries.append(Entry(left: left, right: right, result: result))
        slots[slot] = rank
        count += 1
    }

    /// The rank and merged symbol of `(left, right)`, or `nil` when the pair does not merge.
    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> (rank: Int32, result: Int32)? {
        var slot = Self.slot(left, right, mask)
        while true {
            let rank = slots[slot]
            if rank < 0 { return nil }
            let entry = entries[Int(rank)]
            if entry.left == left && entry.right == right { return (rank, entry.result) }
            slot = (slot + 1) & mask
        }
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = Array(repeating: -1, count: size)
        mask = size - 1
        for (rank, entry) in entries.enumerated() where entry.result >= 0 {
            var slot = Self.slot(entry.left, entry.right, mask)
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(rank)
        }
    }
}
