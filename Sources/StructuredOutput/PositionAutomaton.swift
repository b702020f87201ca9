/// A regular expression's position (Glushkov) automaton: one state per character occurrence of the
/// expression, plus the start; every transition into a position reads one character of that
/// position's set. Bounded repetition is unrolled (each copy has its own positions), so the number
/// of positions is bounded by `maxPositions`.
///
/// It has no empty transitions, so pairing its states with a count of characters read gives a
/// right-linear grammar for "matches the pattern and has between min and max characters": how a
/// `pattern` is enforced together with `minLength`/`maxLength` (`GrammarKit.lengthBounded`).
struct PositionAutomaton {
    /// What a position reads.
    enum Symbol: Hashable {
        /// Any character, in any JSON spelling (the unanchored sides of a pattern).
        case any
        /// One character of a set of Unicode scalars.
        case characters([ClosedRange<UInt32>])
    }

    /// One top-level alternative of a pattern with its anchors taken off.
    struct Branch {
        var body: RegexNode
        var anchoredStart: Bool
        var anchoredEnd: Bool
    }

    private(set) var symbols: [Symbol] = []
    /// The positions that may follow each position.
    private(set) var follow: [[Int]] = []
    /// The positions a match may start with.
    private(set) var first: [Int] = []
    /// Whether a match may end at each position.
    private(set) var isLast: [Bool] = []
    /// Whether the empty text matches.
    private(set) var nullable = false
    let maxPositions: Int
    /// The most follow entries (duplicates counted): nullable parts repeated make them grow with
    /// the square of the positions (`(a?b?){1000}`).
    let maxFollows: Int
    private var follows = 0

    /// The first positions, last positions and nullability of a sub-expression being built.
    private struct Part {
        var first: [Int] = []
        var last: [Int] = []
        var nullable = true
    }

    /// The automaton of a pattern's alternatives; an unanchored side reads any text.
    ///
    /// - Throws: `GrammarError` `.tooLarge` past `maxPositions` positions or `maxFollows` follow
    ///   entries.
    init(branches: [Branch], maxPositions: Int, maxFollows: Int) throws(GrammarError) {
        self.maxPositions = maxPositions
        self.maxFollows = maxFollows
        var whole = Part(nullable: false)
        for branch in branches {
            var part = Part()
            if !branch.anchoredStart { part = try concatenate(part, anyText()) }
            part = try concatenate(part, build(branch.body))
            if !branch.anchoredEnd { part = try concatenate(part, anyText()) }
            whole.first += part.first
            whole.last += part.last
            whole.nullable = whole.nullable || part.nullable
        }
        first = Self.unique(whole.first)
        nullable = whole.nullable
        isLast = Array(repeating: false, count: symbols.count)
        for p in whole.last { isLast[p] = true }
        follow = follow.map(Self.unique)
    }

    private static func unique(_ positions: [Int]) -> [Int] { Array(Set(positions)).sorted() }

    private mutating func position(_ symbol: Symbol) throws(GrammarError) -> Part {
        guard symbols.count < maxPositions else {
            throw GrammarError(
                .tooLarge, "pattern: with length bounds, its automaton needs more than \(maxPositions) positions",
                keyword: "pattern")
        }
        symbols.append(symbol)
        follow.append([])
        let p = symbols.count - 1
        return Part(first: [p], last: [p], nullable: false)
    }

    private mutating func anyText() throws(GrammarError) -> Part {
        try star(try position(.any))
    }

    /// Lets each of `from` be followed by each of `to`.
    private mutating func link(_ from: [Int], _ to: [Int]) throws(GrammarError) {
        let (n, overflow) = from.count.multipliedReportingOverflow(by: to.count)
        guard !overflow, follows + n <= maxFollows else {
            throw GrammarError(
                .tooLarge, "pattern: with length bounds, its automaton needs more than \(maxFollows) transitions",
                keyword: "pattern")
        }
        follows += n
        for l in from { follow[l] += to }
    }

    private mutating func star(_ part: Part) throws(GrammarError) -> Part {
        try link(part.last, part.first)
        return Part(first: part.first, last: part.last, nullable: true)
    }

    private mutating func concatenate(_ a: Part, _ b: Part) throws(GrammarError) -> Part {
        try link(a.last, b.first)
        return Part(
            first: a.first + (a.nullable ? b.first : []), last: b.last + (b.nullable ? a.last : []),
            nullable: a.nullable && b.nullable)
    }

    private mutating func build(_ node: RegexNode) throws(GrammarError) -> Part {
        switch node {
        case .empty, .start, .end:
            return Part()
        case .characters(let ranges):
            return try position(.characters(ranges))
        case .sequence(let xs):
            var part = Part()
            for x in xs { part = try concatenate(part, try build(x)) }
            return part
        case .alternation(let xs):
            var part = Part(nullable: false)
            for x in xs {
                let b = try build(x)
                part.first += b.first
                part.last += b.last
                part.nullable = part.nullable || b.nullable
            }
            return part
        case .repetition(let x, let min, let max):
            var part = Part()
            for _ in 0..<min { part = try concatenate(part, try build(x)) }
            if let max {
                // x{0,k} as (x(x(…)?)?)?, each copy with positions of its own.
                var tail = Part()
                for _ in 0..<Swift.max(0, max - min) {
                    var copy = try concatenate(try build(x), tail)
                    copy.nullable = true
                    tail = copy
                }
                return try concatenate(part, tail)
            }
            return try concatenate(part, try star(try build(x)))
        }
    }
}

extension GrammarKit {
    /// The JSON string content (quotes not included) that `automaton` matches and that has between
    /// `minLength` and `maxLength` characters: a right-linear rule per reachable pair of a position
    /// and a count (counts at or past `minLength` are one when there is no maximum). Pattern
    /// characters are spelled canonically; the unanchored sides take any spelling, each a character.
    ///
    /// - Throws: `GrammarError` `.tooLarge` past `maxStates` pairs.
    ///
    /// With `excluding`, the texts equal to one of those strings are taken out: the pairs also carry
    /// a node of their trie (or "past it"), and every character is spelled canonically (an escape
    /// could otherwise spell an excluded string the trie does not see).
    mutating func lengthBounded(
        _ automaton: PositionAutomaton, minLength: Int, maxLength: Int?, maxStates: Int, excluding: [String] = []
    ) throws(GrammarError) -> Element {
        struct State: Hashable {
            var position: Int  // -1: the start
            var count: Int
            var trie: Int  // -1: not a prefix of an excluded string
        }
        let trie = StringTrie(excluding)
        var rules: [State: Int] = [:]
        var queue: [State] = []
        func rule(_ state: State, _ kit: inout GrammarKit) throws(GrammarError) -> Int {
            if let r = rules[state] { return r }
            guard rules.count < maxStates else {
                throw GrammarError(
                    .tooLarge,
                    "pattern: with length bounds it needs more than \(maxStates) states (positions × lengths)",
                    keyword: "maxLength")
            }
            let r = try kit.builder.declare("bounded")
            rules[state] = r
            queue.append(state)
            return r
        }
        func ranges(_ symbol: PositionAutomaton.Symbol) -> [ClosedRange<UInt32>] {
            switch symbol {
            case .any: return [0...0x10FFFF]
            case .characters(let r): return UTF8Ranges.normalize(r)
            }
        }
        var reads: [Element?] = []
        for symbol in automaton.symbols {
            switch symbol {
            case .any where excluding.isEmpty: reads.append(try freeCharacter())
            default: reads.append(try character(ranges(symbol), .jsonString))
            }
        }
        let start = try rule(State(position: -1, count: 0, trie: excluding.isEmpty ? -1 : 0), &self)
        var next = 0
        while next < queue.count {
            let state = queue[next]
            next += 1
            var alternatives: [[Element]] = []
            let accepting = state.position < 0 ? automaton.nullable : automaton.isLast[state.position]
            let excluded = state.trie >= 0 && trie.ends[state.trie]
            if accepting && state.count >= minLength && !excluded { alternatives.append([]) }
            if maxLength.map({ state.count < $0 }) ?? true {
                let count = maxLength == nil ? Swift.min(state.count + 1, minLength) : state.count + 1
                let successors = state.position < 0 ? automaton.first : automaton.follow[state.position]
                for q in successors {
                    if state.trie < 0 {
                        guard let read = reads[q] else { continue }
                        alternatives.append([read, .rule(try rule(State(position: q, count: count, trie: -1), &self))])
                        continue
                    }
                    // On the trie: each child's character leads to that child, the rest past the trie.
                    let set = ranges(automaton.symbols[q])
                    var taken: [UInt32] = []
                    for (scalar, child) in trie.children[state.trie].sorted(by: { $0.key < $1.key })
                    where set.contains(where: { $0.contains(scalar) }) {
                        guard let read = try character([scalar...scalar], .jsonString) else { continue }
                        taken.append(scalar)
                        alternatives.append([read, .rule(try rule(State(position: q, count: count, trie: child), &self))])
                    }
                    if let rest = try character(UTF8Ranges.subtracting(taken, from: set), .jsonString) {
                        alternatives.append([rest, .rule(try rule(State(position: q, count: count, trie: -1), &self))])
                    }
                }
            }
            try builder.define(rules[state]!, alternatives)
        }
        return .rule(start)
    }
}
