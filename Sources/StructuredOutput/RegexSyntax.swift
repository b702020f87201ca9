/// A parsed regular expression (the ECMA-262 subset `RegexCompiler` supports).
indirect enum RegexNode: Sendable {
    /// The empty string.
    case empty
    /// One character from a set of Unicode scalars (normalized ranges; may be empty).
    case characters([ClosedRange<UInt32>])
    case sequence([RegexNode])
    case alternation([RegexNode])
    /// `node{min,max}` (max nil: unbounded).
    case repetition(RegexNode, min: Int, max: Int?)
    /// `^`
    case start
    /// `$`
    case end

    /// Whether the node matches the empty string (anchors are zero-width).
    var isNullable: Bool {
        switch self {
        case .empty, .start, .end: return true
        case .characters: return false
        case .sequence(let xs): return xs.allSatisfy(\.isNullable)
        case .alternation(let xs): return xs.contains(where: \.isNullable)
        case .repetition(let x, let min, _): return min == 0 || x.isNullable
        }
    }

    /// Whether an anchor occurs anywhere inside.
    var containsAnchor: Bool {
        switch self {
        case .start, .end: return true
        case .empty, .characters: return false
        case .sequence(let xs), .alternation(let xs): return xs.contains(where: \.containsAnchor)
        case .repetition(let x, _, _): return x.containsAnchor
        }
    }

    /// The fewest and most characters a match has (nil: unbounded); saturating.
    var lengthBounds: (min: Int, max: Int?) {
        switch self {
        case .empty, .start, .end: return (0, 0)
        case .characters: return (1, 1)
        case .sequence(let xs):
            var lo = 0
            var hi: Int? = 0
            for x in xs {
                let b = x.lengthBounds
                lo = Swift.min(lo &+ b.min, Int.max / 2)
                hi = hi.flatMap { h in b.max.map { Swift.min(h &+ $0, Int.max / 2) } }
            }
            return (lo, hi)
        case .alternation(let xs):
            guard !xs.isEmpty else { return (0, 0) }
            var lo = Int.max
            var hi: Int? = 0
            for x in xs {
                let b = x.lengthBounds
                lo = Swift.min(lo, b.min)
                hi = hi.flatMap { h in b.max.map { Swift.max(h, $0) } }
            }
            return (lo, hi)
        case .repetition(let x, let min, let max):
            let b = x.lengthBounds
            let lo = b.min == 0 ? 0 : Swift.min(b.min.multipliedReportingOverflow(by: min).overflow ? Int.max / 2 : b.min * min, Int.max / 2)
            guard let max, let bmax = b.max else { return (lo, b.max == 0 ? 0 : nil) }
            let (p, o) = bmax.multipliedReportingOverflow(by: max)
            return (lo, o ? Int.max / 2 : Swift.min(p, Int.max / 2))
        }
    }
}

/// A recursive-descent parser for ECMA-262 pattern syntax, bounded in nesting (each group is one
/// level of recursion) and in repetition (the product of nested repetition counts).
struct RegexParser {
    let scalars: [Unicode.Scalar]
    let limits: GrammarLimits
    var i = 0
    var depth = 0

    init(_ pattern: String, limits: GrammarLimits) {
        self.scalars = Array(pattern.unicodeScalars)
        self.limits = limits
    }

    func bad(_ message: String) -> GrammarError {
        GrammarError(.badPattern, "pattern: \(message) at character \(i)", keyword: "pattern")
    }

    func unsupported(_ what: String) -> GrammarError {
        GrammarError(.unsupported, "pattern: \(what) is not supported (at character \(i))", keyword: "pattern")
    }

    var peek: Unicode.Scalar? { i < scalars.count ? scalars[i] : nil }

    mutating func parse() throws(GrammarError) -> RegexNode {
        let node = try parseAlternation()
        if i < scalars.count { throw bad("unmatched ')'") }
        try checkRepetition(node, factor: 1)
        return node
    }

    /// Refuses nested repetition whose counts multiply past `maxRepetition` (`(a{1000}){1000}`):
    /// such a pattern demands or allows texts no generation reaches, and its matcher state grows
    /// with the product.
    func checkRepetition(_ node: RegexNode, factor: Int) throws(GrammarError) {
        switch node {
        case .empty, .characters, .start, .end: return
        case .sequence(let xs), .alternation(let xs):
            for x in xs { try checkRepetition(x, factor: factor) }
        case .repetition(let x, let min, let max):
            let k = Swift.max(max ?? min, 1)
            let (p, o) = factor.multipliedReportingOverflow(by: k)
            guard !o, p <= limits.maxRepetition else {
                throw GrammarError(
                    .tooLarge, "pattern: nested repetition counts multiply past \(limits.maxRepetition)",
                    keyword: "pattern")
            }
            try checkRepetition(x, factor: p)
        }
    }

    mutating func parseAlternation() throws(GrammarError) -> RegexNode {
        var branches = [try parseSequence()]
        while peek == "|" {
            i += 1
            branches.append(try parseSequence())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    mutating func parseSequence() throws(GrammarError) -> RegexNode {
        var items: [RegexNode] = []
        while let c = peek, c != "|", c != ")" {
            let atom = try parseAtom()
            items.append(try parseQuantifier(atom))
        }
        return items.count == 1 ? items[0] : (items.isEmpty ? .empty : .sequence(items))
    }

    /// `{n}`, `{n,}`, `{n,m}` at `i` (without consuming); nil when the text is not a quantifier.
    func braceQuantifier() -> (min: Int, max: Int?, end: Int)? {
        var j = i + 1
        func number() -> Int? {
            var v = 0
            let start = j
            while j < scalars.count, scalars[j].isASCII, ("0"..."9").contains(scalars[j]) {
                let d = Int(scalars[j].value) - 0x30
                v = Swift.min(v * 10 + d, Int.max / 20)
                j += 1
            }
            return j > start ? v : nil
        }
        guard let lo = number() else { return nil }
        var hi: Int? = lo
        if j < scalars.count, scalars[j] == "," {
            j += 1
            hi = number()
        }
        guard j < scalars.count, scalars[j] == "}" else { return nil }
        return (lo, hi, j + 1)
    }

    mutating func parseQuantifier(_ atom: RegexNode) throws(GrammarError) -> RegexNode {
        guard let c = peek else { return atom }
        var min = 0
        var max: Int?
        switch c {
        case "*": i += 1
        case "+":
            min = 1
            i += 1
        case "?":
            max = 1
            i += 1
        case "{":
            guard let q = braceQuantifier() else { return atom }
            min = q.min
            max = q.max
            i = q.end
            if let max, max < min { throw bad("a repetition {\(min),\(max)} out of order") }
        default: return atom
        }
        if case .start = atom { throw bad("nothing to repeat") }
        if case .end = atom { throw bad("nothing to repeat") }
        guard min <= limits.maxRepetition, (max ?? 0) <= limits.maxRepetition else {
            throw GrammarError(.tooLarge, "pattern: a repetition count above \(limits.maxRepetition)", keyword: "pattern")
        }
        if peek == "?" { i += 1 }  // lazy: the same language
        if let c = peek, c == "*" || c == "+" || c == "?" || (c == "{" && braceQuantifier() != nil) {
            throw bad("nothing to repeat")
        }
        return .repetition(atom, min: min, max: max)
    }

    mutating func parseAtom() throws(GrammarError) -> RegexNode {
        let c = scalars[i]
        i += 1
        switch c {
        case "(":
            depth += 1
            guard depth <= limits.maxNesting else {
                throw GrammarError(.tooLarge, "pattern: groups nested deeper than \(limits.maxNesting)", keyword: "pattern")
            }
            if peek == "?" {
                i += 1
                switch peek {
                case ":": i += 1
                case "=", "!": throw unsupported("lookahead")
                case "<":
                    i += 1
                    if peek == "=" || peek == "!" { throw unsupported("lookbehind") }
                    guard let close = scalars[i...].firstIndex(of: ">"), close > i else { throw bad("a bad group name") }
                    i = close + 1
                default: throw unsupported("the group modifier '(?\(peek.map { String($0) } ?? "")'")
                }
            }
            let inner = try parseAlternation()
            guard peek == ")" else { throw bad("unterminated group") }
            i += 1
            depth -= 1
            return inner
        case ")": throw bad("unmatched ')'")
        case "[": return .characters(try parseClass())
        case ".": return .characters(UTF8Ranges.complement([0x0A...0x0A, 0x0D...0x0D, 0x2028...0x2029]))
        case "^": return .start
        case "$": return .end
        case "*", "+", "?": throw bad("nothing to repeat")
        case "{":
            i -= 1
            if braceQuantifier() != nil { throw bad("nothing to repeat") }
            i += 1
            return .characters([0x7B...0x7B])
        case "\\":
            switch try parseEscape(inClass: false) {
            case .set(let ranges): return .characters(ranges)
            case .scalar(let v): return .characters([v...v])
            }
        default: return .characters([c.value...c.value])
        }
    }

    enum Escape {
        case scalar(UInt32)
        case set([ClosedRange<UInt32>])
    }

    static let digits: [ClosedRange<UInt32>] = [0x30...0x39]
    static let word: [ClosedRange<UInt32>] = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]
    static let space: [ClosedRange<UInt32>] = [
        0x09...0x0D, 0x20...0x20, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029, 0x202F...0x202F,
        0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF,
    ]

    /// An escape after the backslash.
    mutating func parseEscape(inClass: Bool) throws(GrammarError) -> Escape {
        guard let c = peek else { throw bad("a trailing backslash") }
        i += 1
        switch c {
        case "d": return .set(Self.digits)
        case "D": return .set(UTF8Ranges.complement(Self.digits))
        case "w": return .set(Self.word)
        case "W": return .set(UTF8Ranges.complement(Self.word))
        case "s": return .set(Self.space)
        case "S": return .set(UTF8Ranges.complement(UTF8Ranges.normalize(Self.space)))
        case "b":
            if inClass { return .scalar(0x08) }
            throw unsupported("the word boundary \\b")
        case "B": throw unsupported("the word boundary \\B")
        case "t": return .scalar(0x09)
        case "n": return .scalar(0x0A)
        case "v": return .scalar(0x0B)
        case "f": return .scalar(0x0C)
        case "r": return .scalar(0x0D)
        case "0":
            if let d = peek, d.isASCII, ("0"..."9").contains(d) { throw unsupported("an octal escape") }
            return .scalar(0)
        case "1"..."9": throw unsupported("a backreference")
        case "k": throw unsupported("a named backreference")
        case "p", "P": throw unsupported("a Unicode property escape")
        case "c":
            guard let l = peek, l.isASCII, ("a"..."z").contains(l) || ("A"..."Z").contains(l) else {
                throw bad("a bad \\c escape")
            }
            i += 1
            return .scalar(l.value % 32)
        case "x":
            return .scalar(try hex(count: 2))
        case "u":
            if peek == "{" {
                i += 1
                var v: UInt32 = 0
                var n = 0
                while let h = peek, h != "}" {
                    guard let d = h.properties.isASCIIHexDigit ? UInt32(String(h), radix: 16) : nil, n < 8 else {
                        throw bad("a bad \\u{} escape")
                    }
                    v = v * 16 + d
                    n += 1
                    i += 1
                }
                guard peek == "}", n > 0, v <= 0x10FFFF else { throw bad("a bad \\u{} escape") }
                i += 1
                return .scalar(v)
            }
            let v = try hex(count: 4)
            // A surrogate pair spelled as two escapes is one character.
            if (0xD800...0xDBFF).contains(v), i + 1 < scalars.count, scalars[i] == "\\", scalars[i + 1] == "u" {
                let save = i
                i += 2
                if let low = try? hex(count: 4), (0xDC00...0xDFFF).contains(low) {
                    return .scalar(0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00))
                }
                i = save
            }
            if (0xD800...0xDFFF).contains(v) { throw unsupported("a lone surrogate escape") }
            return .scalar(v)
        default:
            if c.isASCII, c.properties.isAlphabetic || ("0"..."9").contains(c) {
                throw bad("an unknown escape \\\(c)")
            }
            return .scalar(c.value)
        }
    }

    mutating func hex(count: Int) throws(GrammarError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<count {
            guard let h = peek, h.properties.isASCIIHexDigit, let d = UInt32(String(h), radix: 16) else {
                throw bad("a bad hexadecimal escape")
            }
            v = v * 16 + d
            i += 1
        }
        return v
    }

    /// A class after `[`: its scalar set (negation applied).
    mutating func parseClass() throws(GrammarError) -> [ClosedRange<UInt32>] {
        var negated = false
        if peek == "^" {
            negated = true
            i += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        while true {
            guard let c = peek else { throw bad("an unterminated character class") }
            if c == "]" {
                i += 1
                break
            }
            let first = try classAtom()
            // A range needs scalars on both sides; otherwise '-' is literal (Annex B).
            if peek == "-", i + 1 < scalars.count, scalars[i + 1] != "]" {
                let save = i
                i += 1
                let second = try classAtom()
                if case .scalar(let a) = first, case .scalar(let b) = second {
                    guard a <= b else { throw bad("a character range out of order") }
                    ranges.append(a...b)
                    continue
                }
                i = save
            }
            switch first {
            case .scalar(let v): ranges.append(v...v)
            case .set(let s): ranges += s
            }
        }
        let normalized = UTF8Ranges.normalize(ranges)
        return negated ? UTF8Ranges.complement(normalized) : UTF8Ranges.removingSurrogates(normalized)
    }

    mutating func classAtom() throws(GrammarError) -> Escape {
        let c = scalars[i]
        i += 1
        if c == "\\" {
            if peek == "-" {
                i += 1
                return .scalar(0x2D)
            }
            return try parseEscape(inClass: true)
        }
        return .scalar(c.value)
    }
}
