/// Prompt lookup: guesses how a sequence goes on from the last place its latest tokens appeared
/// earlier in it (the prompt and the text generated so far). An edit, a summary or an answer from a
/// document copies long runs of the prompt; those runs are guessed here for free, for the model to
/// verify in one pass.
///
/// Every n-gram of `orders` that ends at a position is remembered by its hash (the latest such
/// position wins), so recording a token and proposing a guess are O(orders) each, however long the
/// sequence. A hash collision only costs a guess: a match is checked token by token before it is used.
struct NGramIndex: Sendable {
    /// The n-gram lengths matched, longest first.
    let orders: [Int]
    /// The sequence so far.
    private(set) var tokens: [Int32] = []
    /// Per order (as `orders`): n-gram hash → the latest position where such an n-gram ends.
    private var latest: [[UInt64: Int32]]
    /// Positions whose n-grams are recorded (all but the last token's: a lookup of the sequence's own
    /// ending must find an earlier place).
    private var indexed = 0

    /// Creates an empty index matching n-grams of `orders` tokens (longest first; each at least 1).
    init(orders: [Int] = [4, 3, 2]) {
        self.orders = orders.filter { $0 >= 1 }.sorted(by: >)
        latest = Array(repeating: [:], count: self.orders.count)
    }

    /// Appends tokens to the sequence.
    mutating func append<S: Sequence>(contentsOf more: S) where S.Element == Int32 {
        tokens.append(contentsOf: more)
    }

    /// Up to `limit` tokens that followed the latest earlier occurrence of the sequence's ending (the
    /// longest of `orders` that occurred before); empty when none did.
    mutating func propose(limit: Int) -> [Int32] {
        guard limit > 0, tokens.count >= 2 else { return [] }
        recordUpTo(tokens.count - 1)
        let end = tokens.count - 1
        for (k, order) in orders.enumerated() where order <= end {
            guard let found = latest[k][hash(endingAt: end, order: order)] else { continue }
            let position = Int(found)
            // Checked: the hash may collide.
            guard position < end, position + 1 >= order, matches(endingAt: position, and: end, order: order) else { continue }
            let start = position + 1
            return Array(tokens[start..<min(tokens.count, start + limit)])
        }
        return []
    }

    /// Records the n-grams ending at every position before `end`.
    private mutating func recordUpTo(_ end: Int) {
        while indexed < end {
            let position = indexed
            for (k, order) in orders.enumerated() where position + 1 >= order {
                latest[k][hash(endingAt: position, order: order)] = Int32(truncatingIfNeeded: position)
            }
            indexed += 1
        }
    }

    private func matches(endingAt a: Int, and b: Int, order: Int) -> Bool {
        for i in 0..<order where tokens[a - i] != tokens[b - i] { return false }
        return true
    }

    /// A 64-bit hash of the `order` tokens ending at `end` (FNV-1a over the ids, then a final mix).
    private func hash(endingAt end: Int, order: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in (end - order + 1)...end {
            h = (h ^ UInt64(UInt32(bitPattern: tokens[i]))) &* 0x0000_0100_0000_01b3
        }
        h ^= h >> 29
        h = h &* 0xbf58_476d_1ce4_e5b9
        return h ^ (h >> 32)
    }
}
