/// Builds a `Grammar` rule by rule, with the helpers every front end needs (literals, Unicode
/// classes as UTF-8, repetition), and checks it at the end: every rule defined, none left-recursive,
/// within `GrammarLimits`.
///
/// Rules are declared (an index to refer to) and defined later, so recursive grammars are written
/// directly. Helper rules get fresh names derived from a base (`item-3`).
public struct GrammarBuilder: Sendable {
    public typealias Element = Grammar.Element

    public let limits: GrammarLimits
    private var names: [String] = []
    private var bodies: [[[Element]]?] = []
    private var index: [String: Int] = [:]
    /// Rules declared with an exact name (a grammar's own), which helpers must not take.
    private var exact: Set<Int> = []
    /// The last suffix given to a helper name per base (so fresh names cost O(1)).
    private var nextSuffix: [String: Int] = [:]
    private var elementCount = 0
    private var literalCache: [String: Int] = [:]
    private var classCache: [ClassKey: Element] = [:]
    private var repeatCache: [RepeatKey: Element] = [:]
    private var checks: [Int: ValueCheck] = [:]

    private struct ClassKey: Hashable {
        var ranges: [ClosedRange<UInt32>]
        var negated: Bool
        func hash(into hasher: inout Hasher) {
            hasher.combine(negated)
            for r in ranges {
                hasher.combine(r.lowerBound)
                hasher.combine(r.upperBound)
            }
        }
    }

    private struct RepeatKey: Hashable {
        var body: [Element]
        var min: Int
        var max: Int?
    }

    public init(limits: GrammarLimits = GrammarLimits()) {
        self.limits = limits
    }

    /// How many rules so far.
    public var ruleCount: Int { names.count }

    /// The index of the rule named `name`, if declared.
    public func rule(named name: String) -> Int? { index[name] }

    /// Whether rule `rule` has been defined.
    public func isDefined(_ rule: Int) -> Bool { bodies[rule] != nil }

    /// The name a rule was declared with.
    public func name(of rule: Int) -> String { names[rule] }

    /// Declares a rule with exactly `name` (or returns the one already declared with it). A helper
    /// rule that happened to get that name is renamed.
    public mutating func declare(exactly name: String) throws(GrammarError) -> Int {
        if let existing = index[name] {
            if exact.contains(existing) { return existing }
            var fresh = name
            var n = 0
            while index[fresh] != nil {
                n += 1
                fresh = "\(name)-h\(n)"
            }
            names[existing] = fresh
            index[fresh] = existing
            index[name] = nil
        }
        let rule = try append(name)
        exact.insert(rule)
        return rule
    }

    /// Declares a new rule with a fresh name made from `base` (`base`, then `base-1`, `base-2`…).
    public mutating func declare(_ base: String) throws(GrammarError) -> Int {
        var name = base
        var n = nextSuffix[base, default: 0]
        while index[name] != nil {
            n += 1
            name = "\(base)-\(n)"
        }
        nextSuffix[base] = n
        return try append(name)
    }

    private mutating func append(_ name: String) throws(GrammarError) -> Int {
        guard names.count < limits.maxRules else {
            throw GrammarError(.tooLarge, "the grammar needs more than \(limits.maxRules) rules")
        }
        index[name] = names.count
        names.append(name)
        bodies.append(nil)
        return names.count - 1
    }

    /// Defines (or redefines) a declared rule.
    public mutating func define(_ rule: Int, _ alternatives: [[Element]]) throws(GrammarError) {
        if let old = bodies[rule] { elementCount -= old.reduce(0) { $0 + $1.count } }
        let added = alternatives.reduce(0) { $0 + $1.count }
        guard elementCount + added <= limits.maxElements else {
            throw GrammarError(.tooLarge, "the grammar needs more than \(limits.maxElements) elements")
        }
        elementCount += added
        bodies[rule] = alternatives
    }

    /// Makes every reference to `rule` checked by `check` while matching (see `ValueCheck`).
    public mutating func check(_ rule: Int, _ check: ValueCheck) {
        checks[rule] = check
    }

    /// Declares a fresh rule from `base` and defines it; returns a reference to it.
    public mutating func add(_ base: String, _ alternatives: [[Element]]) throws(GrammarError) -> Element {
        let r = try declare(base)
        try define(r, alternatives)
        return .rule(r)
    }

    /// A sequence of alternatives as one element: the element itself when there is one alternative
    /// of one element, else a fresh rule.
    public mutating func group(_ base: String, _ alternatives: [[Element]]) throws(GrammarError) -> Element {
        if alternatives.count == 1, alternatives[0].count == 1 { return alternatives[0][0] }
        return try add(base, alternatives)
    }

    /// The bytes of `text` (UTF-8), one element each.
    public func literal(_ text: String) -> [Element] {
        text.utf8.map { .bytes(ByteSet($0)) }
    }

    /// One element matching the text exactly (shared between uses).
    public mutating func literalRule(_ text: String) throws(GrammarError) -> Element {
        let bytes = literal(text)
        if bytes.count == 1 { return bytes[0] }
        if let r = literalCache[text] { return .rule(r) }
        let r = try declare("lit")
        try define(r, [bytes])
        literalCache[text] = r
        return .rule(r)
    }

    /// One element matching one Unicode scalar (as UTF-8) in `ranges`, or, `negated`, one not in
    /// them (surrogates never match).
    ///
    /// - Throws: `.unsatisfiable` when the class is empty.
    public mutating func characterClass(_ ranges: [ClosedRange<UInt32>], negated: Bool = false) throws(GrammarError) -> Element {
        let normalized = UTF8Ranges.normalize(ranges)
        let key = ClassKey(ranges: normalized, negated: negated)
        if let cached = classCache[key] { return cached }
        let scalars = negated ? UTF8Ranges.complement(normalized) : UTF8Ranges.removingSurrogates(normalized)
        guard !scalars.isEmpty else { throw GrammarError(.unsatisfiable, "an empty character class") }
        let sequences = UTF8Ranges.byteSequences(scalars)
        let element: Element
        if sequences.allSatisfy({ $0.count == 1 }) {
            var set = ByteSet()
            for s in sequences { set.formUnion(s[0]) }
            element = .bytes(set)
        } else {
            element = try add("char", sequences.map { $0.map { Element.bytes($0) } })
        }
        classCache[key] = element
        return element
    }

    /// Any one Unicode scalar as UTF-8.
    public mutating func anyCharacter() throws(GrammarError) -> Element {
        try characterClass([], negated: true)
    }

    /// `body*`.
    public mutating func star(_ body: [Element], base: String = "star") throws(GrammarError) -> Element {
        try repeated(body, min: 0, max: nil, base: base)
    }

    /// `body+`.
    public mutating func plus(_ body: [Element], base: String = "plus") throws(GrammarError) -> Element {
        try repeated(body, min: 1, max: nil, base: base)
    }

    /// `body?`.
    public mutating func optional(_ body: [Element], base: String = "opt") throws(GrammarError) -> Element {
        try repeated(body, min: 0, max: 1, base: base)
    }

    /// `body{min,max}` (`max` nil: unbounded), as right-recursive rules the matcher runs in
    /// constant stack depth.
    ///
    /// - Throws: `.tooLarge` past `GrammarLimits.maxRepetition`; `.invalidSchema` when max < min.
    public mutating func repeated(_ body: [Element], min: Int, max: Int?, base: String = "rep") throws(GrammarError) -> Element {
        guard min >= 0, max.map({ $0 >= min }) ?? true else {
            throw GrammarError(.unsatisfiable, "a repetition whose maximum \(max ?? 0) is below its minimum \(min)")
        }
        guard min <= limits.maxRepetition, (max ?? 0) <= limits.maxRepetition else {
            throw GrammarError(.tooLarge, "a repetition count above \(limits.maxRepetition)")
        }
        let key = RepeatKey(body: body, min: min, max: max)
        if let cached = repeatCache[key] { return cached }
        // The optional tail: unbounded is `tail ::= body tail | ""`; bounded to k more is a chain
        // `t_k ::= body t_{k-1} | ""`.
        var tail: Element?
        if let max {
            var previous: Element?
            if max > min {
                for _ in 0..<(max - min) {
                    let r = try declare(base)
                    try define(r, [body + (previous.map { [$0] } ?? []), []])
                    previous = .rule(r)
                }
            }
            tail = previous
        } else {
            let r = try declare(base)
            try define(r, [body + [.rule(r)], []])
            tail = .rule(r)
        }
        var sequence: [Element] = []
        if min > 0 {
            // The required part: `body` min times, through a chain of rules when long.
            if body.count * min <= 64 {
                for _ in 0..<min { sequence += body }
            } else {
                var previous: Element? = tail
                for _ in 0..<min {
                    let r = try declare(base)
                    try define(r, [body + (previous.map { [$0] } ?? [])])
                    previous = .rule(r)
                }
                let element = previous!
                repeatCache[key] = element
                return element
            }
        }
        if let tail { sequence.append(tail) }
        let element: Element
        if sequence.count == 1 {
            element = sequence[0]
        } else {
            element = try add(base, [sequence])
        }
        repeatCache[key] = element
        return element
    }

    /// The grammar with root `root`.
    ///
    /// - Throws: `.undefinedRule` naming a rule declared but never defined; `.leftRecursion` naming
    ///   a rule that reaches itself without consuming a byte.
    public func build(root: Int) throws(GrammarError) -> Grammar {
        var rules: [Grammar.Rule] = []
        rules.reserveCapacity(names.count)
        for (i, name) in names.enumerated() {
            guard let body = bodies[i] else {
                throw GrammarError(.undefinedRule, "the rule '\(name)' is used but not defined", keyword: name)
            }
            rules.append(Grammar.Rule(name: name, alternatives: body))
        }
        let grammar = try GrammarCheck.pruned(Grammar(rules: rules, root: root, checks: checks))
        try GrammarCheck.rejectLeftRecursion(grammar)
        return grammar
    }
}

/// Whole-grammar checks run when a grammar is built.
enum GrammarCheck {
    /// The grammar without alternatives that can match no text at all (an empty byte set, or a
    /// rule with no productive alternative), so every stack the matcher keeps can still finish.
    ///
    /// - Throws: `.unsatisfiable` when the root itself matches nothing.
    static func pruned(_ grammar: Grammar) throws(GrammarError) -> Grammar {
        var productive = [Bool](repeating: false, count: grammar.rules.count)
        func alive(_ alternative: [Grammar.Element]) -> Bool {
            alternative.allSatisfy { element in
                switch element {
                case .bytes(let set): return !set.isEmpty
                case .rule(let r): return productive[r]
                }
            }
        }
        var changed = true
        while changed {
            changed = false
            for (i, rule) in grammar.rules.enumerated() where !productive[i] && rule.alternatives.contains(where: alive) {
                productive[i] = true
                changed = true
            }
        }
        guard productive[grammar.root] else {
            throw GrammarError(.unsatisfiable, "the grammar matches no text at all")
        }
        if productive.allSatisfy({ $0 }) && grammar.rules.allSatisfy({ $0.alternatives.allSatisfy(alive) }) { return grammar }
        let rules = grammar.rules.map { rule in
            Grammar.Rule(name: rule.name, alternatives: rule.alternatives.filter(alive))
        }
        return Grammar(rules: rules, root: grammar.root, checks: grammar.checks)
    }

    /// Which rules can match the empty string (a fixed point).
    static func nullable(_ grammar: Grammar) -> [Bool] {
        var nullable = [Bool](repeating: false, count: grammar.rules.count)
        var changed = true
        while changed {
            changed = false
            for (i, rule) in grammar.rules.enumerated() where !nullable[i] {
                for alternative in rule.alternatives {
                    let empty = alternative.allSatisfy { element in
                        if case .rule(let r) = element { return nullable[r] }
                        return false
                    }
                    if empty {
                        nullable[i] = true
                        changed = true
                        break
                    }
                }
            }
        }
        return nullable
    }

    /// Throws for a rule that can reach itself in a leftmost position (through nullable prefixes),
    /// which the matcher's expansion would never finish.
    static func rejectLeftRecursion(_ grammar: Grammar) throws(GrammarError) {
        let nullable = nullable(grammar)
        // left[i]: the rules rule i can expand to before consuming a byte.
        var left: [[Int]] = Array(repeating: [], count: grammar.rules.count)
        for (i, rule) in grammar.rules.enumerated() {
            var seen = Set<Int>()
            for alternative in rule.alternatives {
                for element in alternative {
                    guard case .rule(let r) = element else { break }
                    if seen.insert(r).inserted { left[i].append(r) }
                    if !nullable[r] { break }
                }
            }
        }
        // Iterative DFS for a cycle (white 0, grey 1, black 2).
        var color = [UInt8](repeating: 0, count: grammar.rules.count)
        for start in grammar.rules.indices where color[start] == 0 {
            var stack: [(rule: Int, next: Int)] = [(start, 0)]
            color[start] = 1
            while let top = stack.last {
                if top.next < left[top.rule].count {
                    stack[stack.count - 1].next += 1
                    let r = left[top.rule][top.next]
                    if color[r] == 1 {
                        let name = grammar.rules[r].name
                        throw GrammarError(
                            .leftRecursion, "the rule '\(name)' is left-recursive (it can reach itself before matching a byte)",
                            keyword: name)
                    }
                    if color[r] == 0 {
                        color[r] = 1
                        stack.append((r, 0))
                    }
                } else {
                    color[top.rule] = 2
                    stack.removeLast()
                }
            }
        }
    }
}
