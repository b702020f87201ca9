/// How the characters of a string become bytes in a grammar.
enum CharacterEncoding: Sendable {
    /// Raw UTF-8 (a regular expression matched against decoded text).
    case utf8
    /// Inside a JSON string literal: `"`, `\` and control characters escaped, everything else raw
    /// (the canonical encoding; see `GrammarKit.character`).
    case jsonString
}

/// A `GrammarBuilder` plus the shared rules every JSON front end needs (bounded whitespace, JSON
/// string characters, any JSON value, keys outside a set), each made once per grammar.
///
/// One value is threaded (`inout`) through the regex and schema compilers so they share rules.
struct GrammarKit: Sendable {
    typealias Element = Grammar.Element

    var builder: GrammarBuilder
    /// The most indentation characters after a newline between two tokens.
    let maxIndent: Int
    private var shared: [String: Element] = [:]
    private var characterCache: [CharacterKey: Element?] = [:]

    private struct CharacterKey: Hashable {
        var ranges: [UInt32]
        var json: Bool
    }

    init(limits: GrammarLimits, maxIndent: Int = 40) {
        self.builder = GrammarBuilder(limits: limits)
        self.maxIndent = maxIndent
    }

    static func byte(_ c: Unicode.Scalar) -> Element { .bytes(ByteSet(UInt8(c.value))) }

    static func bytes(_ s: String) -> ByteSet {
        var set = ByteSet()
        for b in s.utf8 { set.insert(b) }
        return set
    }

    static let digit = ByteSet(UInt8(ascii: "0")...UInt8(ascii: "9"))
    static let hexDigit = bytes("0123456789abcdefABCDEF")

    private mutating func sharedRule(
        _ name: String, _ make: (inout GrammarKit) throws(GrammarError) -> [[Element]]
    ) throws(GrammarError) -> Element {
        if let e = shared[name] { return e }
        let r = try builder.declare(name)
        shared[name] = .rule(r)
        let body = try make(&self)
        try builder.define(r, body)
        return .rule(r)
    }

    /// A rule with no alternatives: matches nothing. Branches through it are pruned at the end.
    mutating func never() throws(GrammarError) -> Element {
        try sharedRule("never") { _ throws(GrammarError) in [] }
    }

    /// Whitespace between two tokens, bounded so a model cannot loop on it: nothing, one space,
    /// or a newline followed by up to `maxIndent` spaces or tabs.
    mutating func ws() throws(GrammarError) -> Element {
        try sharedRule("ws") { kit throws(GrammarError) in
            var indent = ByteSet(UInt8(ascii: " "))
            indent.insert(UInt8(ascii: "\t"))
            let tail = try kit.builder.repeated([.bytes(indent)], min: 0, max: kit.maxIndent, base: "indent")
            return [[], [Self.byte(" ")], [Self.byte("\n"), tail]]
        }
    }

    // MARK: - String characters

    /// One character of a JSON string in any valid spelling: raw (not `"`, `\` or a control),
    /// a short escape, or a `\u` escape (a surrogate pair counts as one character; lone
    /// surrogates are refused).
    mutating func freeCharacter() throws(GrammarError) -> Element {
        try sharedRule("char") { kit throws(GrammarError) in
            let raw = try kit.builder.characterClass([0...0x1F, 0x22...0x22, 0x5C...0x5C], negated: true)
            let escapes = Self.bytes("\"\\/bfnrt")
            let hex = Element.bytes(Self.hexDigit)
            let d = Self.bytes("dD")
            let u: [Element] = [Self.byte("\\"), Self.byte("u")]
            return [
                [raw],
                [Self.byte("\\"), .bytes(escapes)],
                u + [.bytes(Self.bytes("0123456789abcABCeEfF")), hex, hex, hex],
                u + [.bytes(d), .bytes(Self.bytes("01234567")), hex, hex],
                u + [.bytes(d), .bytes(Self.bytes("89abAB")), hex, hex] + u + [.bytes(d), .bytes(Self.bytes("cdefCDEF")), hex, hex],
            ]
        }
    }

    /// Any JSON string (with its quotes).
    mutating func anyString() throws(GrammarError) -> Element {
        try sharedRule("string") { kit throws(GrammarError) in
            [[Self.byte("\""), try kit.builder.star([try kit.freeCharacter()], base: "chars"), Self.byte("\"")]]
        }
    }

    /// One character from `ranges` (Unicode scalars) in `encoding`; nil when the set is empty.
    ///
    /// In a JSON string only the canonical spelling is generated and accepted: a character is raw
    /// unless it must be escaped; `"` is `\"`, `\` is `\\`, a control character is its short
    /// escape (`\n`) or `\u00XX` (either case). A gratuitous escape such as `\u0041` for `A` is
    /// not accepted where this is used (pattern-constrained strings, constants, named keys).
    mutating func character(_ ranges: [ClosedRange<UInt32>], _ encoding: CharacterEncoding) throws(GrammarError)
        -> Element?
    {
        let set = UTF8Ranges.removingSurrogates(UTF8Ranges.normalize(ranges))
        let key = CharacterKey(ranges: set.flatMap { [$0.lowerBound, $0.upperBound] }, json: encoding == .jsonString)
        if let cached = characterCache[key] { return cached }
        let element = try makeCharacter(set, encoding)
        characterCache[key] = element
        return element
    }

    private mutating func makeCharacter(_ set: [ClosedRange<UInt32>], _ encoding: CharacterEncoding) throws(GrammarError)
        -> Element?
    {
        guard !set.isEmpty else { return nil }
        guard encoding == .jsonString else { return try builder.characterClass(set) }
        var specials: [UInt32] = []
        var raw: [ClosedRange<UInt32>] = []
        for r in set {
            var lo = r.lowerBound
            for s: UInt32 in 0...0x5C where (s < 0x20 || s == 0x22 || s == 0x5C) && r.contains(s) {
                specials.append(s)
                if s > lo { raw.append(lo...(s - 1)) }
                lo = s + 1
            }
            if lo <= r.upperBound { raw.append(lo...r.upperBound) }
        }
        var alternatives: [[Element]] = []
        if !raw.isEmpty {
            alternatives.append([try builder.characterClass(raw)])
        }
        for s in specials { alternatives += Self.escapes(of: s) }
        return try builder.group("jchar", alternatives)
    }

    /// The accepted escapes of a character that must be escaped in JSON.
    static func escapes(of s: UInt32) -> [[Element]] {
        let backslash = byte("\\")
        switch s {
        case 0x22: return [[backslash, byte("\"")]]
        case 0x5C: return [[backslash, backslash]]
        default:
            var out: [[Element]] = []
            let short: [UInt32: Unicode.Scalar] = [0x08: "b", 0x09: "t", 0x0A: "n", 0x0C: "f", 0x0D: "r"]
            if let letter = short[s] { out.append([backslash, byte(letter)]) }
            func nibble(_ v: UInt32) -> ByteSet {
                v < 10 ? ByteSet(UInt8(0x30 + v)) : bytes(String(UnicodeScalar(UInt8(0x61 + v - 10))) + String(UnicodeScalar(UInt8(0x41 + v - 10))))
            }
            out.append([backslash, byte("u"), byte("0"), byte("0"), .bytes(nibble(s >> 4)), .bytes(nibble(s & 15))])
            return out
        }
    }

    /// The characters of `text`, each canonically encoded; nil never (a literal always matches).
    mutating func literal(_ text: String, _ encoding: CharacterEncoding) throws(GrammarError) -> [Element] {
        var out: [Element] = []
        for u in text.unicodeScalars {
            let v = u.value
            if encoding == .jsonString, v < 0x20 || v == 0x22 || v == 0x5C {
                out.append(try builder.group("esc", Self.escapes(of: v)))
            } else {
                for b in u.utf8 { out.append(.bytes(ByteSet(b))) }
            }
        }
        return out
    }

    /// A JSON string literal (with quotes) of exactly `text`.
    mutating func stringLiteral(_ text: String) throws(GrammarError) -> [Element] {
        [Self.byte("\"")] + (try literal(text, .jsonString)) + [Self.byte("\"")]
    }

    // MARK: - Any JSON value

    /// Any JSON number (RFC 8259 syntax).
    mutating func anyNumber() throws(GrammarError) -> Element {
        try sharedRule("number") { kit throws(GrammarError) in
            let digits = try kit.builder.star([.bytes(Self.digit)], base: "digits")
            let integer = try kit.builder.add(
                "int", [[Self.byte("0")], [.bytes(ByteSet(UInt8(ascii: "1")...UInt8(ascii: "9"))), digits]])
            let fraction = try kit.builder.optional([Self.byte("."), .bytes(Self.digit), digits], base: "frac")
            let exponent = try kit.builder.optional(
                [.bytes(Self.bytes("eE")), try kit.builder.optional([.bytes(Self.bytes("+-"))]), .bytes(Self.digit), digits],
                base: "exp")
            return [[integer, fraction, exponent], [Self.byte("-"), integer, fraction, exponent]]
        }
    }

    /// Any JSON value; objects and arrays nest without a bound (the grammar is recursive).
    mutating func anyValue() throws(GrammarError) -> Element {
        if let e = shared["value"] { return e }
        let value = try builder.declare("value")
        shared["value"] = .rule(value)
        let object = try anyObject()
        let array = try anyArray()
        try builder.define(
            value,
            [
                [object], [array], [try anyString()], [try anyNumber()],
                builder.literal("true"), builder.literal("false"), builder.literal("null"),
            ])
        return .rule(value)
    }

    /// Any JSON object.
    mutating func anyObject() throws(GrammarError) -> Element {
        if let e = shared["object"] { return e }
        let object = try builder.declare("object")
        shared["object"] = .rule(object)
        let ws = try ws()
        let member = try builder.add("member", [[try anyString(), ws, Self.byte(":"), ws, try anyValue()]])
        let more = try builder.star([ws, Self.byte(","), ws, member], base: "members")
        try builder.define(
            object, [[Self.byte("{"), ws, Self.byte("}")], [Self.byte("{"), ws, member, more, ws, Self.byte("}")]])
        return .rule(object)
    }

    /// Any JSON array.
    mutating func anyArray() throws(GrammarError) -> Element {
        if let e = shared["array"] { return e }
        let array = try builder.declare("array")
        shared["array"] = .rule(array)
        let ws = try ws()
        let value = try anyValue()
        let more = try builder.star([ws, Self.byte(","), ws, value], base: "elements")
        try builder.define(
            array, [[Self.byte("["), ws, Self.byte("]")], [Self.byte("["), ws, value, more, ws, Self.byte("]")]])
        return .rule(array)
    }

    // MARK: - Keys outside a set

    /// A JSON string literal whose (decoded) content is none of `excluded`: a trie of the excluded
    /// strings where every node may leave the trie on a character it has no child for, and may
    /// close the string unless it spells an excluded string.
    ///
    /// Characters on the trie's path are accepted in their canonical spelling only (so `"\u0061"`
    /// is not accepted as a key even when it is not excluded); after leaving the trie any spelling is.
    mutating func string(excluding excluded: [String]) throws(GrammarError) -> Element {
        if excluded.isEmpty { return try anyString() }
        let trie = StringTrie(excluded)
        let quote = Self.byte("\"")
        let rest = try builder.add("keyrest", [[try builder.star([try freeCharacter()], base: "chars"), quote]])
        let rules = try (0..<trie.count).map { _ throws(GrammarError) in try builder.declare("key") }
        for node in 0..<trie.count {
            var alternatives: [[Element]] = []
            if !trie.ends[node] { alternatives.append([quote]) }
            let edges = trie.children[node].sorted { $0.key < $1.key }
            for (scalar, child) in edges {
                if let c = try character([scalar...scalar], .jsonString) { alternatives.append([c, .rule(rules[child])]) }
            }
            let others = UTF8Ranges.complement(UTF8Ranges.normalize(edges.map { $0.key...$0.key }))
            if let c = try character(others, .jsonString) { alternatives.append([c, rest]) }
            try builder.define(rules[node], alternatives)
        }
        return try builder.add("keyout", [[quote, .rule(rules[0])]])
    }
}
