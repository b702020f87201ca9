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
        arena.readableBytes(stacks, automaton)
    }

    /// Consumes one byte; returns false (and leaves the state unchanged) when the grammar forbids it.
    @discardableResult
    public mutating func accept(_ byte: UInt8) -> Bool {
        let out = arena.advance(stacks, byte, automaton)
        guard !out.stacks.isEmpty || out.accepting, out.stacks.count <= Self.maxStacks else {
            arena.truncateText(to: consumed)
            return false
        }
        stacks = out.stacks
        isComplete = out.accepting
        consumed += 1
        arena.committed = consumed
        return true
    }

    /// Consumes `bytes` if the grammar allows all of them; otherwise returns the index of the first
    /// byte refused and leaves the state unchanged.
    public mutating func accept<Bytes: Sequence<UInt8>>(bytes: Bytes) -> Int? {
        let saved = snapshot()
        var i = 0
        for byte in bytes {
            if !accept(byte) {
                restore(saved)
                return i
            }
            i += 1
        }
        return nil
    }

    /// What `restore` needs to take the matcher back to this point.
    private struct Snapshot {
        var nodes: Int
        var stacks: [Int32]
        var isComplete: Bool
        var consumed: Int
        var closedItems: Int
    }

    private func snapshot() -> Snapshot {
        Snapshot(nodes: arena.count, stacks: stacks, isComplete: isComplete, consumed: consumed, closedItems: arena.closedItems)
    }

    /// Forgets what was read since `saved` (the arena's scratch nodes and text too).
    private mutating func restore(_ saved: Snapshot) {
        arena.rollback(to: saved.nodes)
        arena.uncommit(to: saved.consumed)
        arena.closedItems = saved.closedItems
        (stacks, isComplete, consumed) = (saved.stacks, saved.isComplete, saved.consumed)
    }

    /// Consumes `bytes` when the grammar allows them and, with checked rules, the open items can
    /// still close after them (`canCloseOpenItems`); otherwise leaves the state unchanged.
    public mutating func acceptKeepingItemsClosable<Bytes: Sequence<UInt8>>(bytes: Bytes) -> Bool {
        let saved = snapshot()
        guard accept(bytes: bytes) == nil else { return false }
        if canCloseOpenItems() { return true }
        restore(saved)
        return false
    }

    /// Whether `bytes` from this state is allowed, without changing the state.
    public func allows<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Bool {
        var copy = self
        return copy.accept(bytes: bytes) == nil
    }

    /// Whether the checked items open here can still close (a `ValueCheck` refuses an item only
    /// when it closes, so a text can reach a point no byte can finish: `["a"` under unique items
    /// that allow only `"a"` and `"b"` can, `[1, 1.` of unique integers cannot).
    ///
    /// A depth-first search over the bytes the grammar allows, likeliest closers first and without
    /// whitespace (JSON never needs it), for a text where a checked item closes passing its check,
    /// or the array ends, or the text is complete; when a stack is already outside every checked
    /// array, the answer is yes at once. The state is left as it was. With no checked rule, or when
    /// the search runs out of `budget` steps undecided, the answer is yes.
    public mutating func canCloseOpenItems(budget: Int = 2000, maxDepth: Int = 256) -> Bool {
        guard automaton.hasChecks else { return true }
        var steps = budget
        var path: [[Int32]] = []
        return search(depth: 0, maxDepth: maxDepth, closed: arena.closedItems, steps: &steps, path: &path) != false
    }

    /// True: a way out; false: none within `maxDepth`; nil: out of steps.
    ///
    /// A path that comes back to the same stacks a few times is going round a loop of the grammar
    /// (a string's characters, a fraction's zeros): it is not followed further, which keeps `1.000…`
    /// under unique integers from eating the budget.
    private mutating func search(depth: Int, maxDepth: Int, closed: Int, steps: inout Int, path: inout [[Int32]]) -> Bool? {
        if isComplete || arena.closedItems > closed || stacks.contains(where: { !arena.isInsideCheckedArray($0, automaton) }) {
            return true
        }
        if depth == maxDepth { return false }
        if path.reduce(0, { $0 + ($1 == stacks ? 1 : 0) }) >= Self.maxLoopRounds { return false }
        path.append(stacks)
        defer { path.removeLast() }
        let allowed = allowedBytes
        for byte in Self.searchOrder where allowed.contains(byte) {
            steps -= 1
            if steps < 0 { return nil }
            let saved = snapshot()
            guard accept(byte) else { continue }
            let found = search(depth: depth + 1, maxDepth: maxDepth, closed: closed, steps: &steps, path: &path)
            restore(saved)
            if found != false { return found }
        }
        return false
    }

    /// How many times a search path may pass the same stacks.
    static let maxLoopRounds = 3

    /// Closers first, then digits other than 0 and letters (a text that differs soon), 0, the rest
    /// of ASCII, space, then non-ASCII; no tab, newline or carriage return.
    private static let searchOrder: [UInt8] = {
        var order = Array("\"]}123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0".utf8)
        for b in UInt8(0x21)...0x7E where !order.contains(b) { order.append(b) }
        order.append(0x20)
        order += Array(0x80...0xFF)
        return order
    }()

    /// Whether the whole of `text` matches the grammar from the start.
    public static func matches(_ grammar: Grammar, _ text: some Sequence<UInt8>) -> Bool {
        var matcher = GrammarMatcher(grammar)
        return matcher.accept(bytes: text) == nil && matcher.isComplete
    }
}
