import Synchronization

/// For one grammar and one vocabulary, what the top of a stack allows regardless of what is below
/// it, computed once per stack top on first use (the idea of XGrammar's adaptive token-mask cache).
/// The key is the stack's top `depth` positions (the position and the rules it returns into), so
/// tokens that close a small rule and go on in its callers are still decided here:
///
/// - `accepted`: tokens whose bytes are all matched within the known top of the stack (or that end
///   exactly where it ends): allowed whatever lies below;
/// - `dependent`: tokens that run past the known top into the unknown rest: checked against the real
///   stack at each step (rare: a token spanning more than `depth` rule returns);
/// - every other token is refused there.
///
/// Shared by every sequence decoding with the grammar; thread-safe.
public final class TokenMaskCache: Sendable {
    public let automaton: GrammarAutomaton
    public let trie: TokenTrie

    struct Entry: Sendable {
        /// Bit per token id.
        var accepted: [UInt64]
        /// Indices into `trie.sorted`, ascending.
        var dependent: [Int32]
    }

    private let entries = Mutex<[[Int32]: Entry]>([:])
    /// How many positions of a stack key a cache entry.
    public static let depth = 12

    public init(automaton: GrammarAutomaton, trie: TokenTrie) {
        self.automaton = automaton
        self.trie = trie
    }

    /// Words in a token bitset.
    var words: Int { (trie.vocabularySize + 63) / 64 }

    /// How many positions have been computed.
    public var computedPositions: Int { entries.withLock { $0.count } }

    /// The entry for a stack whose top positions are `key` (top first); when the stack has no
    /// more than these, `complete` says so (its base is the root, not an unknown context).
    func entry(_ key: [Int32], complete: Bool) -> Entry {
        let mapKey = complete ? key + [-1] : key
        if let entry = entries.withLock({ $0[mapKey] }) { return entry }
        let entry = compute(key, complete: complete)
        entries.withLock { $0[mapKey] = entry }
        return entry
    }

    /// Walks the trie from a stack holding `key`'s positions above an unknown context (or the root).
    private func compute(_ key: [Int32], complete: Bool) -> Entry {
        var accepted = [UInt64](repeating: 0, count: words)
        var dependent: [Int32] = []
        var arena = StackArena()
        arena.contextFree = true
        // Stack sets, interned: id -> stacks; memo of (set, byte) -> (set, reached bottom).
        var sets: [[Int32]] = []
        var setIDs: [[Int32]: Int32] = [:]
        var memo: [UInt32: (Int32, Bool, Bool, Bool)] = [:]
        func intern(_ stacks: [Int32]) -> Int32 {
            if let id = setIDs[stacks] { return id }
            let id = Int32(sets.count)
            sets.append(stacks)
            setIDs[stacks] = id
            return id
        }
        let empty = intern([])
        var base = complete ? StackArena.root : StackArena.bottom
        for position in key.reversed() { base = arena.node(position, base) }
        let start = intern([base])
        let automaton = self.automaton
        func advance(_ set: Int32, _ byte: UInt8) -> (Int32, Bool, Bool, Bool) {
            let key = UInt32(set) << 8 | UInt32(byte)
            if let hit = memo[key] { return hit }
            let out = arena.advance(sets[Int(set)], byte, automaton)
            let result = (intern(out.stacks), out.reachedBottom, out.accepting, out.needsText)
            memo[key] = result
            return result
        }
        func markAccepted(_ range: Range<Int32>) {
            for i in range {
                let id = Int(trie.sorted[Int(i)])
                accepted[id >> 6] |= 1 << UInt64(id & 63)
            }
        }
        // Iterative preorder walk: frames of (node, its set, bottom reached on the path).
        var frames: [(node: Int32, set: Int32, hit: Bool)] = [(0, start, false)]
        while let frame = frames.popLast() {
            let node = Int(frame.node)
            var child = node + 1
            let end = Int(trie.subtreeEnd[node])
            while child < end {
                let (next, bottomHere, completes, needsText) = advance(frame.set, trie.edge[child])
                // A checked item closing here is decided on the real text, as the unknown context
                // is (but is not allowed whatever lies below, as reaching that context is).
                let hit = frame.hit || bottomHere || needsText
                let tokens = trie.tokensStart[child]..<trie.tokensEnd[child]
                if next != empty || bottomHere || completes {
                    markAccepted(tokens)
                } else if hit {
                    dependent.append(contentsOf: tokens)
                }
                if next != empty {
                    frames.append((Int32(child), next, hit))
                } else if hit {
                    // Past the rule's end with nothing local left: every longer token depends on
                    // the context.
                    dependent.append(contentsOf: trie.tokensEnd[child]..<trie.subtreeTokensEnd[child])
                }
                child = Int(trie.subtreeEnd[child])
            }
        }
        dependent.sort()
        return Entry(accepted: accepted, dependent: dependent)
    }
}
