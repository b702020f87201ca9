/// Prompt lookup: guesses how a sequence goes on from where its latest tokens appeared earlier in it
/// (the prompt and the text generated so far). An edit, a summary or an answer from a document copies
/// long runs of the prompt; those runs are guessed here for free, for the model to verify in one pass.
///
/// Two rules, in this order:
/// - **Follow the copy.** Once a guess starts at some earlier place, every token the sequence then
///   appends is checked against that place's next one; while they agree the copy goes on, and the next
///   guess continues from there without any lookup. A copy is followed through n-grams that occur
///   many times (`self.`, `return `, a closing brace), where the latest occurrence is usually the wrong
///   one.
/// - **Find it again after a break.** When the text leaves the copy (an edited line, a renamed word),
///   the next guess comes from the longest n-gram of `orders` that ends the sequence and occurred
///   before, at its first occurrence at or after the place the copy broke (an edit goes on down the
///   source), else its latest occurrence.
///
/// Every n-gram of `orders` that ends at a position is remembered by its hash: the latest position per
/// hash, and per position the previous one with the same hash. Recording a token is O(orders); a
/// lookup walks at most `maximumWalk` earlier occurrences. A hash collision only costs a guess: a match
/// is checked token by token before it is used.
struct NGramIndex: Sendable {
    /// The most earlier occurrences of an n-gram a lookup walks back through.
    static let maximumWalk = 256

    /// The n-gram lengths matched, longest first.
    let orders: [Int]
    /// The sequence so far.
    private(set) var tokens: [Int32] = []
    /// Per order (as `orders`): n-gram hash → the latest position where such an n-gram ends.
    private var latest: [[UInt64: Int32]]
    /// Per order, per recorded position: the previous position whose n-gram has the same hash (-1: none).
    private var previous: [[Int32]]
    /// Positions whose n-grams are recorded (all but the last token's: a lookup of the sequence's own
    /// ending must find an earlier place).
    private var indexed = 0
    /// The copy being followed: the position whose token should come next (nil: none).
    private var cursor: Int?
    /// Where the last copy broke: the position whose token the sequence did not repeat.
    private var anchor: Int?

    /// Creates an empty index matching n-grams of `orders` tokens (longest first; each at least 1).
    init(orders: [Int] = [4, 3, 2]) {
        self.orders = orders.filter { $0 >= 1 }.sorted(by: >)
        latest = Array(repeating: [:], count: self.orders.count)
        previous = Array(repeating: [], count: self.orders.count)
    }

    /// Appends tokens to the sequence, following the copy (if any) token by token.
    mutating func append<S: Sequence>(contentsOf more: S) where S.Element == Int32 {
        for token in more {
            if let next = cursor {
                if next < tokens.count, tokens[next] == token {
                    cursor = next + 1
                } else {
                    anchor = next
                    cursor = nil
                }
            }
            tokens.append(token)
        }
    }

    /// Up to `limit` tokens that should follow the sequence: the copy it is following, else what
    /// followed an earlier occurrence of its ending (see the type's rules); empty when there is none.
    mutating func propose(limit: Int) -> [Int32] {
        guard limit > 0, tokens.count >= 2 else { return [] }
        let end = tokens.count - 1
        if let next = cursor, next <= end {
            return Array(tokens[next..<min(tokens.count, next + limit)])
        }
        recordUpTo(end)
        for (k, order) in orders.enumerated() where order <= end {
            guard let position = match(order: k, endingAt: end) else { continue }
            let start = position + 1
            cursor = start
            return Array(tokens[start..<min(tokens.count, start + limit)])
        }
        cursor = nil
        return []
    }

    /// The earlier position where the n-gram of orders[k] ending at `end` also ends: the first at or
    /// after the anchor (its continuation starting there or later), else the latest; nil when none.
    private func match(order k: Int, endingAt end: Int) -> Int? {
        let order = orders[k]
        guard var position = latest[k][hash(endingAt: end, order: order)].map(Int.init) else { return nil }
        var latestMatch: Int?
        var firstAfterAnchor: Int?
        for _ in 0..<Self.maximumWalk {
            // Checked: the hash may collide.
            if position < end, position + 1 >= order, matches(endingAt: position, and: end, order: order) {
                if latestMatch == nil { latestMatch = position }
                if let anchor, position + 1 >= anchor { firstAfterAnchor = position }
            }
            let earlier = Int(previous[k][position])
            guard earlier >= 0 else { break }
            // Walk on while an earlier occurrence may still start at or after the anchor, or while
            // every occurrence so far was a collision.
            let mayFollowAnchor = anchor.map { earlier + 1 >= $0 } ?? false
            guard mayFollowAnchor || latestMatch == nil else { break }
            position = earlier
        }
        return firstAfterAnchor ?? latestMatch
    }

    /// Records the n-grams ending at every position before `end`.
    private mutating func recordUpTo(_ end: Int) {
        while indexed < end {
            let position = indexed
            for (k, order) in orders.enumerated() {
                var before: Int32 = -1
                if position + 1 >= order {
                    let key = hash(endingAt: position, order: order)
                    before = latest[k][key] ?? -1
                    latest[k][key] = Int32(truncatingIfNeeded: position)
                }
                previous[k].append(before)
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
