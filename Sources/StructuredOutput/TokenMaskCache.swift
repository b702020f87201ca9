import Synchronization

/// For one grammar and one vocabulary, what each grammar position allows regardless of what is
/// below it on the stack, computed once per position on first use (the idea of XGrammar's
/// adaptive token-mask cache):
///
/// - `accepted`: tokens whose bytes are all matched inside the position's own rule (or that end
///   exactly where the rule ends): allowed whatever the context;
/// - `dependent`: tokens that run past the end of the rule into the unknown context: checked
///   against the real stack at each step (usually a few, such as `",` after a string's body);
/// - every other token is refused at that position.
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

    private let entries = Mutex<[Int32: Entry]>([:])

    public init(automaton: GrammarAutomaton, trie: TokenTrie) {
        self.automaton = automaton
        self.trie = trie
    }

    /// Words in a token bitset.
    var words: Int { (trie.vocabularySize + 63) / 64 }

    /// How many positions have been computed.
    public var computedPositions: Int { entries.withLock { $0.count } }

    func entry(_ position: Int32) -> Entry {
        if let entry = entries.withLock({ $0[position] }) { return entry }
        let entry = compute(position)
        entries.withLock { $0[position] = entry }
        return entry
    }

    /// Walks the trie from a stack holding only `position` above an unknown context.
    private func compute(_ position: Int32) -> Entry {
        var accepted = [UInt64](repeating: 0, count: words)
        var dependent: [Int32] = []
        var arena = StackArena()
        // Stack sets, interned: id -> stacks; memo of (set, byte) -> (set, reached bottom).
        var sets: [[Int32]] = []
        var setIDs: [[Int32]: Int32] = [:]
        var memo: [UInt32: (Int32, Bool)] = [:]
        func intern(_ stacks: [Int32]) -> Int32 {
            if let id = setIDs[stacks] { return id }
            let id = Int32(sets.count)
            sets.append(stacks)
            setIDs[stacks] = id
            return id
        }
        let empty = intern([])
        let start = intern([arena.node(position, StackArena.bottom)])
        let automaton = self.automaton
        func advance(_ set: Int32, _ byte: UInt8) -> (Int32, Bool) {
            let key = UInt32(set) << 8 | UInt32(byte)
            if let hit = memo[key] { return hit }
            let out = arena.advance(sets[Int(set)], byte, automaton)
            let result = (intern(out.stacks), out.reachedBottom)
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
                let (next, bottomHere) = advance(frame.set, trie.edge[child])
                let hit = frame.hit || bottomHere
                let tokens = trie.tokensStart[child]..<trie.tokensEnd[child]
                if next != empty || bottomHere {
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
