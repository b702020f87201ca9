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
        var walk = TrieWalk(automaton: automaton)
        var base = complete ? StackArena.root : StackArena.bottom
        for position in key.reversed() { base = walk.arena.node(position, base) }
        let start = walk.intern([base])
        let empty = TrieWalk.empty
        trie.sorted.withUnsafeBufferPointer { sorted in
            trie.edge.withUnsafeBufferPointer { edge in
                trie.subtreeEnd.withUnsafeBufferPointer { subtreeEnd in
                    trie.tokensStart.withUnsafeBufferPointer { tokensStart in
                        trie.tokensEnd.withUnsafeBufferPointer { tokensEnd in
                            // Iterative preorder walk: frames of (node, its set, bottom reached on the path).
                            var frames: [(node: Int32, set: Int32, hit: Bool)] = [(0, start, false)]
                            while let frame = frames.popLast() {
                                let node = Int(frame.node)
                                var child = node + 1
                                let end = Int(subtreeEnd[node])
                                while child < end {
                                    let code = walk.step(frame.set, edge[child])
                                    let next = code & TrieWalk.setMask
                                    let bottomHere = code & TrieWalk.bottomFlag != 0
                                    // A checked item closing here is decided on the real text, as the
                                    // unknown context is (but is not allowed whatever lies below, as
                                    // reaching that context is).
                                    let hit = frame.hit || bottomHere || code & TrieWalk.needsTextFlag != 0
                                    let tokens = Int(tokensStart[child])..<Int(tokensEnd[child])
                                    if next != empty || bottomHere || code & TrieWalk.acceptingFlag != 0 {
                                        for i in tokens {
                                            let id = Int(sorted[i])
                                            accepted[id >> 6] |= 1 << UInt64(id & 63)
                                        }
                                    } else if hit {
                                        dependent.append(contentsOf: Int32(tokens.lowerBound)..<Int32(tokens.upperBound))
                                    }
                                    if next != empty {
                                        frames.append((Int32(child), next, hit))
                                    } else if hit {
                                        // Past the rule's end with nothing local left: every longer
                                        // token depends on the context.
                                        dependent.append(contentsOf: trie.tokensEnd[child]..<trie.subtreeTokensEnd[child])
                                    }
                                    child = Int(subtreeEnd[child])
                                }
                            }
                        }
                    }
                }
            }
        }
        dependent.sort()
        return Entry(accepted: accepted, dependent: dependent)
    }
}

/// The state of one trie walk: stack sets interned (id → stacks) and a flat table of
/// (set, byte) → the next set and flags. A walk visits up to every trie node, so the lookup is an
/// index, not a hash.
private struct TrieWalk {
    let automaton: GrammarAutomaton
    var arena = StackArena()
    var sets: [[Int32]] = []
    var setIDs: [[Int32]: Int32] = [:]
    var transitions: [Int32] = []
    /// Per set, the bytes any of its stacks can read (the others lead to the empty set at once).
    var readable: [ByteSet] = []

    static let unknown: Int32 = -1
    static let bottomFlag: Int32 = 1 << 28
    static let acceptingFlag: Int32 = 1 << 29
    static let needsTextFlag: Int32 = 1 << 30
    static let setMask: Int32 = (1 << 28) - 1
    /// The id of the empty set (interned first).
    static let empty: Int32 = 0

    init(automaton: GrammarAutomaton) {
        self.automaton = automaton
        arena.contextFree = true
        _ = intern([])
    }

    mutating func intern(_ stacks: [Int32]) -> Int32 {
        if let id = setIDs[stacks] { return id }
        let id = Int32(sets.count)
        sets.append(stacks)
        setIDs[stacks] = id
        transitions.append(contentsOf: repeatElement(Self.unknown, count: 256))
        readable.append(arena.readableBytes(stacks, automaton))
        return id
    }

    /// The transition of `set` over `byte`: the next set's id with the flags of what the step
    /// reached (the unknown context, the root, a checked item's close).
    @inline(__always)
    mutating func step(_ set: Int32, _ byte: UInt8) -> Int32 {
        let code = transitions[Int(set) << 8 | Int(byte)]
        return code != Self.unknown ? code : compute(set, byte)
    }

    private mutating func compute(_ set: Int32, _ byte: UInt8) -> Int32 {
        guard readable[Int(set)].contains(byte) else {
            transitions[Int(set) << 8 | Int(byte)] = Self.empty
            return Self.empty
        }
        let out = arena.advance(sets[Int(set)], byte, automaton)
        // Sets past 2^28 could not be indexed anyway (256 table entries each).
        let code = intern(out.stacks) | (out.reachedBottom ? Self.bottomFlag : 0) | (out.accepting ? Self.acceptingFlag : 0)
            | (out.needsText ? Self.needsTextFlag : 0)
        transitions[Int(set) << 8 | Int(byte)] = code
        return code
    }
}
