/// Compiles an ECMA-262 regular expression, as JSON Schema's `pattern` uses it, to grammar rules.
///
/// Supported: literals; escapes `\d \w \s \D \W \S \t \n \r \f \v \0 \cX \xHH \uXXXX \u{…}` and
/// escaped punctuation; `.` (any character but a line terminator); classes with ranges, negation
/// and class escapes; groups `( )`, `(?: )`, `(?<name> )`; alternation; quantifiers
/// `* + ? {n} {n,} {n,m}` and their lazy forms (the same language); `^` and `$` at the start and
/// end of top-level alternatives (`^(a|b)$`, `^a$|^b$`). Matching is by Unicode scalar.
///
/// Refused with `.unsupported`: lookahead, lookbehind, backreferences, `\b`/`\B`, `\p{…}`, octal
/// escapes, group modifiers, and anchors anywhere else. Refused with `.tooLarge`: counts above
/// `GrammarLimits.maxRepetition`, nested counts whose product exceeds it, groups nested past
/// `maxNesting`, and patterns whose shortest match exceeds `maxRepetition`. Malformed patterns throw `.badPattern`.
///
/// JSON Schema patterns are not anchored: a pattern matches a string when it matches somewhere in
/// it, so an unanchored side becomes "any characters".
public struct RegexCompiler: Sendable {
    public let limits: GrammarLimits

    /// Makes a compiler bounded by `limits`.
    public init(limits: GrammarLimits = GrammarLimits()) {
        self.limits = limits
    }

    /// A grammar over UTF-8 text that matches exactly the texts the pattern matches somewhere in.
    ///
    /// - Parameter pattern: An ECMA-262 regular expression.
    /// - Returns: The grammar.
    /// - Throws: `GrammarError` (`.badPattern`, `.unsupported`, `.tooLarge`).
    public func grammar(for pattern: String) throws(GrammarError) -> Grammar {
        var kit = GrammarKit(limits: limits)
        let content = try self.content(pattern, kit: &kit, encoding: .utf8).element
        let root = try kit.builder.add("root", [[content]])
        guard case .rule(let r) = root else { throw GrammarError(.badPattern, "internal: no root") }
        return try kit.builder.build(root: r).pruned()
    }

    /// A grammar for JSON string literals (quotes included) whose decoded content the pattern
    /// matches; characters on the pattern's path are spelled canonically (see `GrammarKit.character`).
    ///
    /// - Parameter pattern: An ECMA-262 regular expression.
    /// - Returns: The grammar.
    /// - Throws: `GrammarError` (`.badPattern`, `.unsupported`, `.tooLarge`).
    public func jsonStringGrammar(for pattern: String) throws(GrammarError) -> Grammar {
        var kit = GrammarKit(limits: limits)
        let content = try self.content(pattern, kit: &kit, encoding: .jsonString).element
        let quote = GrammarKit.byte("\"")
        let root = try kit.builder.declare("root")
        try kit.builder.define(root, [[quote, content, quote]])
        return try kit.builder.build(root: root).pruned()
    }

    /// The string content the pattern matches, and its length bounds in characters (max nil:
    /// unbounded).
    func content(_ pattern: String, kit: inout GrammarKit, encoding: CharacterEncoding) throws(GrammarError)
        -> (element: Grammar.Element, minLength: Int, maxLength: Int?)
    {
        var alternatives: [[Grammar.Element]] = []
        var minLength = Int.max
        var maxLength: Int? = 0
        for branch in try branches(pattern) {
            let (body, anchoredStart, anchoredEnd) = (branch.body, branch.anchoredStart, branch.anchoredEnd)
            let bounds = body.lengthBounds
            guard bounds.min <= limits.maxRepetition else {
                throw GrammarError(
                    .tooLarge, "pattern: matches need more than \(limits.maxRepetition) characters", keyword: "pattern")
            }
            minLength = min(minLength, bounds.min)
            maxLength = (anchoredStart && anchoredEnd) ? maxLength.flatMap { m in bounds.max.map { max(m, $0) } } : nil
            for var alternative in try kit.emit(body, encoding) {
                if !anchoredStart { alternative.insert(try kit.anyText(encoding), at: 0) }
                if !anchoredEnd { alternative.append(try kit.anyText(encoding)) }
                alternatives.append(alternative)
            }
        }
        let element: Grammar.Element
        if alternatives.isEmpty {
            element = try kit.never()
        } else {
            element = try kit.builder.group("pattern", alternatives)
        }
        return (element, minLength == Int.max ? 0 : minLength, maxLength)
    }
}

extension RegexCompiler {
    /// The pattern's top-level alternatives, each with its `^` and `$` taken off.
    ///
    /// - Throws: `GrammarError` (`.badPattern`, `.unsupported` for an anchor elsewhere, `.tooLarge`).
    func branches(_ pattern: String) throws(GrammarError) -> [PositionAutomaton.Branch] {
        var parser = RegexParser(pattern, limits: limits)
        let node = try parser.parse()
        let alternatives: [RegexNode]
        if case .alternation(let xs) = node { alternatives = xs } else { alternatives = [node] }
        var out: [PositionAutomaton.Branch] = []
        for alternative in alternatives {
            var items: [RegexNode]
            if case .sequence(let xs) = alternative { items = xs } else { items = [alternative] }
            var anchoredStart = false
            var anchoredEnd = false
            while let first = items.first, case .start = first {
                anchoredStart = true
                items.removeFirst()
            }
            while let last = items.last, case .end = last {
                anchoredEnd = true
                items.removeLast()
            }
            let body = RegexNode.sequence(items)
            if body.containsAnchor { throw parser.unsupported("an anchor inside the pattern") }
            out.append(PositionAutomaton.Branch(body: body, anchoredStart: anchoredStart, anchoredEnd: anchoredEnd))
        }
        return out
    }

    /// JSON string content the pattern matches with between `minLength` and `maxLength`
    /// characters (see `GrammarKit.lengthBounded`).
    ///
    /// - Throws: `GrammarError` (`.badPattern`, `.unsupported`, `.tooLarge` when the automaton
    ///   times the lengths grows past the limits).
    func lengthBoundedContent(_ pattern: String, minLength: Int, maxLength: Int?, kit: inout GrammarKit) throws(GrammarError)
        -> Grammar.Element
    {
        let automaton = try PositionAutomaton(
            branches: try branches(pattern), maxPositions: limits.maxRules / 8, maxFollows: limits.maxElements)
        return try kit.lengthBounded(automaton, minLength: minLength, maxLength: maxLength, maxStates: limits.maxRules / 2)
    }
}

/// Turning a `RegexNode` into grammar alternatives. An empty list of alternatives is the empty
/// language (a class that matches nothing).
extension GrammarKit {
    /// Any text (the unanchored sides): every character, in any spelling.
    mutating func anyText(_ encoding: CharacterEncoding) throws(GrammarError) -> Element {
        switch encoding {
        case .utf8: return try builder.star([try builder.anyCharacter()], base: "any")
        case .jsonString: return try builder.star([try freeCharacter()], base: "any")
        }
    }

    /// The alternatives as one element; nil for the empty language.
    mutating func regexElement(_ alternatives: [[Element]]) throws(GrammarError) -> Element? {
        if alternatives.isEmpty { return nil }
        if alternatives.count == 1, alternatives[0].isEmpty { return try builder.group("eps", [[]]) }
        return try builder.group("re", alternatives)
    }

    mutating func emit(_ node: RegexNode, _ encoding: CharacterEncoding) throws(GrammarError) -> [[Element]] {
        switch node {
        case .empty, .start, .end: return [[]]
        case .characters(let ranges):
            guard let c = try character(ranges, encoding) else { return [] }
            return [[c]]
        case .alternation(let xs):
            var out: [[Element]] = []
            for x in xs { out += try emit(x, encoding) }
            return out
        case .sequence(let xs):
            var out: [Element] = []
            for x in xs {
                let alternatives = try emit(x, encoding)
                if alternatives.isEmpty { return [] }
                if alternatives.count == 1 {
                    out += alternatives[0]
                } else if let e = try regexElement(alternatives) {
                    out.append(e)
                }
            }
            return [out]
        case .repetition(let x, let min, let max):
            // A nullable body repeated would be left-recursive; repeat its non-empty part instead
            // (the empty matches add nothing, so the minimum drops to zero).
            let nullable = x.isNullable
            let body = nullable ? try emitNonEmpty(x, encoding) : try emit(x, encoding)
            guard let b = try regexElement(body) else { return (min == 0 || nullable) ? [[]] : [] }
            return [[try builder.repeated([b], min: nullable ? 0 : min, max: max, base: "rep")]]
        }
    }

    /// The non-empty matches of `node`.
    mutating func emitNonEmpty(_ node: RegexNode, _ encoding: CharacterEncoding) throws(GrammarError) -> [[Element]] {
        switch node {
        case .empty, .start, .end: return []
        case .characters: return try emit(node, encoding)
        case .alternation(let xs):
            var out: [[Element]] = []
            for x in xs { out += try emitNonEmpty(x, encoding) }
            return out
        case .sequence(let xs):
            guard !xs.isEmpty else { return [] }
            // A non-empty match starts its first non-empty part at item k, after items 0..<k
            // matched empty (so they are all nullable). The suffixes after k share rules.
            let last = xs.firstIndex { !$0.isNullable } ?? (xs.count - 1)
            var suffix: [Element] = []
            for x in xs[(last + 1)...] {
                guard let e = try regexElement(try emit(x, encoding)) else { return [] }
                suffix.append(e)
            }
            var out: [[Element]] = []
            for k in stride(from: last, through: 0, by: -1) {
                if let head = try regexElement(try emitNonEmpty(xs[k], encoding)) {
                    out.append([head] + suffix)
                }
                if k > 0 {
                    // The suffix for k-1 is item k followed by the suffix for k.
                    guard let e = try regexElement(try emit(xs[k], encoding)) else { break }
                    if suffix.count > 1 {
                        suffix = [e, try builder.group("re", [suffix])]
                    } else {
                        suffix = [e] + suffix
                    }
                }
            }
            return out
        case .repetition(let x, let min, let max):
            if max == 0 { return [] }
            if x.isNullable {
                guard let y = try regexElement(try emitNonEmpty(x, encoding)) else { return [] }
                let rest = try builder.repeated([y], min: 0, max: max.map { $0 - 1 }, base: "rep")
                return [[y, rest]]
            }
            guard let b = try regexElement(try emit(x, encoding)) else { return [] }
            return [[try builder.repeated([b], min: Swift.max(min, 1), max: max, base: "rep")]]
        }
    }
}
