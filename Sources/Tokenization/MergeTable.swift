/// BPE merge ranks: an open-addressing hash table from a pair of symbol ids to (rank, merged symbol).
///
/// llama.cpp keys its ranks by the pair of token *strings*; once every string is interned as a
/// symbol id (see `BytePairEncoder`), a pair of `Int32` ids is an exact, allocation-free key.
struct MergeTable: Sendable {
    private var keys: [UInt64]
    private var ranks: [Int32]
    private var results: [Int32]
    private var mask: Int
    private(set) var count = 0

    private static let empty = UInt64.max

    /// Creates an empty table sized for about `capacity` merges.
    init(capacity: Int) {
        // At most 3/4 full: Tekken's 269 443 merges fit 2^19 slots (half full, 8 MiB) rather than 2^20.
        var size = 16
        while size * 3 < capacity * 4 { size <<= 1 }
        keys = Array(repeating: Self.empty, count: size)
        ranks = Array(repeating: 0, count: size)
        results = Array(repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        var h = key &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
        return Int(truncatingIfNeeded: h) & mask
    }

    /// Adds a merge unless the pair is already present (the first, lowest rank wins, as in llama.cpp).
    mutating func insert(left: Int32, right: Int32, rank: Int32, result: Int32) {
        if (count + 1) * 4 > keys.count * 3 { grow() }
        let key = Self.key(left, right)
        var slot = Self.slot(key, mask)
        while keys[slot] != Self.empty {
            if keys[slot] == key { return }
            slot = (slot + 1) & mask
        }
        keys[slot] = key
        ranks[slot] = rank
        results[slot] = result
        count += 1
    }

    /// The rank and merged symbol of `(left, right)`, or `nil` when the pair does not merge.
    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> (rank: Int32, result: Int32)? {
        let key = Self.key(left, right)
        var slot = Self.slot(key, mask)
        while true {
            let stored = keys[slot]
            if stored == key { return (ranks[slot], results[slot]) }
            if stored == Self.empty { return nil }
            slot = (slot + 1) & mask
        }
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldRanks = ranks
        let oldResults = results
        let size = keys.count * 2
        keys = Array(repeating: Self.empty, count: size)
        ranks = Array(repeating: 0, count: size)
        results = Array(repeating: 0, count: size)
        mask = size - 1
        for index in 0..<oldKeys.count where oldKeys[index] != Self.empty {
            var slot = Self.slot(oldKeys[index], mask)
            while keys[slot] != Self.empty { slot = (slot + 1) & mask }
            keys[slot] = oldKeys[index]
            ranks[slot] = oldRanks[index]
            results[slot] = oldResults[index]
        }
    }
}
