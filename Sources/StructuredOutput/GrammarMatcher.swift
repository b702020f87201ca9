/// Matches bytes against a grammar incrementally: the state is the set of pushdown stacks the
/// bytes so far allow (an ambiguous grammar keeps several).
///
/// A value type over a per-matcher arena; copies share nothing mutable (the arena is copied on
/// write), so a caller may try bytes on a copy.
public struct GrammarMatcher: Sendable {
    public let automaton: GrammarAutomaton
    var arena = StackArena()
    /// The live stacks, sorted, each with a byte set on top.
    private(set) var stacks: [Int32] = []
    /// Whether the bytes so far form a complete text of the grammar.
    public private(set) var isComplete = false
    /// Bytes consumed so far.
    public private(set) var consumed = 0

    /// The most stacks a state may hold; an ambiguous grammar past this is cut (`isDead`).
    public static let maxStacks = 4096

    public init(_ automaton: GrammarAutomaton) {
        self.automaton = automaton
        var out = StackArena.Expansion()
        for start in automaton.rootStarts {
            arena.expand(start, StackArena.root, automaton, into: &out)
        }
        stacks = Array(Set(out.stacks)).sorted()
        isComplete = out.accepting
    }

    public init(_ grammar: Grammar) {
        self.init(GrammarAutomaton(grammar))
    }

    /// Nothing more can be matched (a complete text may still end here: see `isComplete`).
    public var isDead: Bool { stacks.isEmpty }

    /// The bytes that may come next.
    public var allowedBytes: ByteSet {
        var set = ByteSet()
        for stack in stacks { set.formUnion(automaton.set(at: arena.positions[Int(stack)])) }
        return set
    }

    /// Consumes one byte; returns false (and leaves the state unchanged) when the grammar forbids it.
    @discardableResult
    public mutating func accept(_ byte: UInt8) -> Bool {
        let out = arena.advance(stacks, byte, automaton)
        guard !out.stacks.isEmpty || out.accepting, out.stacks.count <= Self.maxStacks else { return false }
        stacks = out.stacks
        isComplete = out.accepting
        consumed += 1
        return true
    }

    /// Consumes `bytes` if the grammar allows all of them; otherwise returns the index of the first
    /// byte refused and leaves the state unchanged.
    public mutating func accept<Bytes: Sequence<UInt8>>(bytes: Bytes) -> Int? {
        let mark = arena.count
        let saved = (stacks, isComplete, consumed)
        var i = 0
        for byte in bytes {
            if !accept(byte) {
                arena.rollback(to: mark)
                (stacks, isComplete, consumed) = saved
                return i
            }
            i += 1
        }
        return nil
    }

    /// Whether `bytes` from this state is allowed, without changing the state.
    public func allows<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Bool {
        var copy = self
        return copy.accept(bytes: bytes) == nil
    }

    /// Whether the whole of `text` matches the grammar from the start.
    public static func matches(_ grammar: Grammar, _ text: some Sequence<UInt8>) -> Bool {
        var matcher = GrammarMatcher(grammar)
        return matcher.accept(bytes: text) == nil && matcher.isComplete
    }
}
