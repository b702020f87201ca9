/// Parses a GBNF grammar as llama.cpp writes them (`root ::= …`), so grammars written for
/// llama.cpp carry over: rules, `"literals"`, `[classes]`, `[^negated]`, `.`, groups, `|`, `*`
/// `+` `?` `{m}` `{m,}` `{m,n}`, `#` comments, the escapes `\n \r \t \\ \" \[ \] \- \xHH \uHHHH
/// \UHHHHHHHH`. A rule ends at a newline that is not inside a group or after `|`.
///
/// Token references (`<[id]>`, `<think>`) are refused: they name a vocabulary's tokens, not bytes.
public struct GBNFParser {
    public let limits: GrammarLimits
    /// The largest grammar text accepted.
    public var maxBytes = 1 << 20

    public init(limits: GrammarLimits = GrammarLimits()) {
        self.limits = limits
    }

    /// Parses `text`; the start rule is `root`.
    ///
    /// - Throws: `GrammarError` `.syntax` (with `line:column`), `.undefinedRule`,
    ///   `.leftRecursion`, `.tooLarge`.
    public func parse(_ text: String) throws(GrammarError) -> Grammar {
        let bytes = Array(text.utf8)
        guard bytes.count <= maxBytes else {
            throw GrammarError(.tooLarge, "the grammar is larger than \(maxBytes) bytes")
        }
        var state = State(bytes: bytes, builder: GrammarBuilder(limits: limits))
        try state.parseRules()
        guard let root = state.builder.rule(named: "root"), state.defined.contains("root") else {
            throw GrammarError(.undefinedRule, "the grammar has no 'root' rule", keyword: "root")
        }
        for name in state.used where !state.defined.contains(name) {
            throw GrammarError(.undefinedRule, "the rule '\(name)' is used but not defined", location: state.firstUse[name], keyword: name)
        }
        return try state.builder.build(root: root)
    }

    private struct State {
        let bytes: [UInt8]
        var builder: GrammarBuilder
        var i = 0
        var depth = 0
        var defined: Set<String> = []
        var used: [String] = []
        var firstUse: [String: String] = [:]

        var atEnd: Bool { i >= bytes.count }
        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

        func location(_ at: Int) -> String {
            var line = 1
            var column = 1
            for b in bytes[..<min(at, bytes.count)] {
                if b == UInt8(ascii: "\n") {
                    line += 1
                    column = 1
                } else if b & 0xC0 != 0x80 {
                    column += 1
                }
            }
            return "\(line):\(column)"
        }

        func error(_ message: String, at: Int? = nil) -> GrammarError {
            GrammarError(.syntax, message, location: location(at ?? i))
        }

        /// Skips spaces, tabs, comments and (when `newlines`) line breaks.
        mutating func skipSpace(newlines: Bool) {
            while let b = peek {
                if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") {
                    i += 1
                } else if b == UInt8(ascii: "#") {
                    while let c = peek, c != UInt8(ascii: "\n"), c != UInt8(ascii: "\r") { i += 1 }
                } else if newlines && (b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r")) {
                    i += 1
                } else {
                    return
                }
            }
        }

        static func isNameByte(_ b: UInt8) -> Bool {
            (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-")
                || b == UInt8(ascii: "_")
        }

        mutating func name() throws(GrammarError) -> String {
            let start = i
            while let b = peek, Self.isNameByte(b) { i += 1 }
            guard i > start else { throw error("expected a rule name") }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }

        mutating func parseRules() throws(GrammarError) {
            skipSpace(newlines: true)
            while !atEnd {
                let at = i
                let ruleName = try name()
                skipSpace(newlines: false)
                guard i + 2 < bytes.count || i + 2 == bytes.count, bytes[i..<min(i + 3, bytes.count)].elementsEqual("::=".utf8) else {
                    throw error("expected '::=' after the rule name '\(ruleName)'")
                }
                i += 3
                skipSpace(newlines: true)
                guard !defined.contains(ruleName) else {
                    throw GrammarError(.syntax, "the rule '\(ruleName)' is defined twice", location: location(at), keyword: ruleName)
                }
                let rule = try builder.declare(exactly: ruleName)
                let alternatives = try parseAlternatives(nested: false)
                try builder.define(rule, alternatives)
                defined.insert(ruleName)
                // The rule ends at a line break (or the end of the text).
                if let b = peek, b != UInt8(ascii: "\n"), b != UInt8(ascii: "\r") {
                    throw error("unexpected '\(String(decoding: [b], as: UTF8.self))'")
                }
                skipSpace(newlines: true)
            }
        }

        mutating func parseAlternatives(nested: Bool) throws(GrammarError) -> [[Grammar.Element]] {
            var alternatives = [try parseSequence(nested: nested)]
            while peek == UInt8(ascii: "|") {
                i += 1
                skipSpace(newlines: true)
                alternatives.append(try parseSequence(nested: nested))
            }
            return alternatives
        }

        mutating func parseSequence(nested: Bool) throws(GrammarError) -> [Grammar.Element] {
            var sequence: [Grammar.Element] = []
            // Where the last item starts in `sequence`, for a repetition that follows it.
            var lastStart: Int?
            while let b = peek {
                let itemStart = sequence.count
                if b == UInt8(ascii: "\"") {
                    i += 1
                    var literal: [UInt8] = []
                    while true {
                        guard let c = peek else { throw error("an unterminated string") }
                        if c == UInt8(ascii: "\"") {
                            i += 1
                            break
                        }
                        if c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") { throw error("a line break inside a string") }
                        let scalar = try character()
                        literal += Array(String(Character(scalar)).utf8)
                    }
                    sequence += literal.map { .bytes(ByteSet($0)) }
                    lastStart = literal.isEmpty ? nil : itemStart
                    if literal.count > 1 {
                        // A repetition applies to the whole literal: make it one element.
                        let element = try builder.group("lit", [Array(sequence[itemStart...])])
                        sequence.removeSubrange(itemStart...)
                        sequence.append(element)
                    }
                } else if b == UInt8(ascii: "[") {
                    i += 1
                    sequence.append(try characterClass())
                    lastStart = itemStart
                } else if b == UInt8(ascii: ".") {
                    i += 1
                    sequence.append(try builder.anyCharacter())
                    lastStart = itemStart
                } else if b == UInt8(ascii: "(") {
                    let open = i
                    i += 1
                    depth += 1
                    guard depth <= builder.limits.maxNesting else {
                        throw GrammarError(.tooLarge, "groups nested deeper than \(builder.limits.maxNesting)", location: location(open))
                    }
                    skipSpace(newlines: true)
                    let alternatives = try parseAlternatives(nested: true)
                    guard peek == UInt8(ascii: ")") else { throw error("expected ')' to close the group opened at \(location(open))") }
                    i += 1
                    depth -= 1
                    if alternatives.count == 1 && (alternatives[0].count <= 1) {
                        sequence += alternatives[0]
                        lastStart = alternatives[0].isEmpty ? nil : itemStart
                    } else {
                        sequence.append(try builder.add("group", alternatives))
                        lastStart = itemStart
                    }
                } else if b == UInt8(ascii: "<") {
                    throw error("token references (<…>) are not supported: a grammar here matches bytes")
                } else if Self.isNameByte(b) {
                    // A rule reference, unless it starts the next rule (`name ::=`).
                    let save = i
                    let refName = try name()
                    var j = i
                    while j < bytes.count, bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\t") { j += 1 }
                    if bytes[j..<min(j + 3, bytes.count)].elementsEqual("::=".utf8) {
                        i = save
                        throw error("expected a line break before the rule '\(refName)'")
                    }
                    let rule = try builder.declare(exactly: refName)
                    if firstUse[refName] == nil {
                        firstUse[refName] = location(save)
                        used.append(refName)
                    }
                    sequence.append(.rule(rule))
                    lastStart = itemStart
                } else if b == UInt8(ascii: "*") || b == UInt8(ascii: "+") || b == UInt8(ascii: "?") || b == UInt8(ascii: "{") {
                    guard let start = lastStart else { throw error("a repetition with nothing before it") }
                    let body = Array(sequence[start...])
                    sequence.removeSubrange(start...)
                    let (lo, hi) = try repetition()
                    sequence.append(try builder.repeated(body, min: lo, max: hi, base: "rep"))
                    lastStart = nil
                } else {
                    break
                }
                skipSpace(newlines: nested)
            }
            return sequence
        }

        /// `*`, `+`, `?`, `{m}`, `{m,}`, `{m,n}`.
        mutating func repetition() throws(GrammarError) -> (Int, Int?) {
            let b = bytes[i]
            i += 1
            switch b {
            case UInt8(ascii: "*"): return (0, nil)
            case UInt8(ascii: "+"): return (1, nil)
            case UInt8(ascii: "?"): return (0, 1)
            default:
                skipSpace(newlines: false)
                let lo = try number()
                skipSpace(newlines: false)
                var hi: Int? = lo
                if peek == UInt8(ascii: ",") {
                    i += 1
                    skipSpace(newlines: false)
                    hi = peek == UInt8(ascii: "}") ? nil : try number()
                    skipSpace(newlines: false)
                }
                guard peek == UInt8(ascii: "}") else { throw error("expected '}' to close a repetition") }
                i += 1
                if let hi, hi < lo { throw error("a repetition {\(lo),\(hi)} whose maximum is below its minimum") }
                return (lo, hi)
            }
        }

        mutating func number() throws(GrammarError) -> Int {
            let start = i
            var value = 0
            while let b = peek, b >= 0x30, b <= 0x39 {
                value = value * 10 + Int(b - 0x30)
                i += 1
                guard value <= builder.limits.maxRepetition else {
                    throw GrammarError(.tooLarge, "a repetition count above \(builder.limits.maxRepetition)", location: location(start))
                }
            }
            guard i > start else { throw error("expected a number") }
            return value
        }

        /// `[…]` after the `[`.
        mutating func characterClass() throws(GrammarError) -> Grammar.Element {
            let open = i - 1
            var negated = false
            if peek == UInt8(ascii: "^") {
                negated = true
                i += 1
            }
            var ranges: [ClosedRange<UInt32>] = []
            while true {
                guard let c = peek else { throw error("an unterminated character class opened at \(location(open))") }
                if c == UInt8(ascii: "]") {
                    i += 1
                    break
                }
                let lo = try character().value
                var hi = lo
                if peek == UInt8(ascii: "-"), i + 1 < bytes.count, bytes[i + 1] != UInt8(ascii: "]") {
                    i += 1
                    hi = try character().value
                    guard hi >= lo else { throw error("a character range whose end is below its start") }
                }
                ranges.append(lo...hi)
            }
            do {
                return try builder.characterClass(ranges, negated: negated)
            } catch {
                throw GrammarError(error.code, error.message, location: location(open))
            }
        }

        /// One character of a string or class, with its escapes.
        mutating func character() throws(GrammarError) -> Unicode.Scalar {
            let start = i
            let b = bytes[i]
            if b == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count else { throw error("an escape at the end of the text") }
                let e = bytes[i + 1]
                i += 2
                switch e {
                case UInt8(ascii: "n"): return "\n"
                case UInt8(ascii: "r"): return "\r"
                case UInt8(ascii: "t"): return "\t"
                case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "-"), UInt8(ascii: "^"):
                    return Unicode.Scalar(e)
                case UInt8(ascii: "x"): return try hexScalar(digits: 2, from: start)
                case UInt8(ascii: "u"): return try hexScalar(digits: 4, from: start)
                case UInt8(ascii: "U"): return try hexScalar(digits: 8, from: start)
                default: throw error("an unknown escape '\\\(String(decoding: [e], as: UTF8.self))'", at: start)
                }
            }
            // One UTF-8 scalar.
            let length = b < 0x80 ? 1 : (b >> 5 == 0x6 ? 2 : (b >> 4 == 0xE ? 3 : (b >> 3 == 0x1E ? 4 : 0)))
            guard length > 0, i + length <= bytes.count else { throw error("invalid UTF-8") }
            let slice = bytes[i..<(i + length)]
            i += length
            var decoder = UTF8()
            var iterator = slice.makeIterator()
            guard case .scalarValue(let scalar) = decoder.decode(&iterator) else { throw error("invalid UTF-8", at: start) }
            return scalar
        }

        mutating func hexScalar(digits: Int, from start: Int) throws(GrammarError) -> Unicode.Scalar {
            guard i + digits <= bytes.count else { throw error("a short hexadecimal escape", at: start) }
            var value: UInt32 = 0
            for _ in 0..<digits {
                let h = bytes[i]
                let v: UInt32
                switch h {
                case 0x30...0x39: v = UInt32(h - 0x30)
                case 0x61...0x66: v = UInt32(h - 0x61 + 10)
                case 0x41...0x46: v = UInt32(h - 0x41 + 10)
                default: throw error("a bad hexadecimal digit in an escape", at: start)
                }
                value = value << 4 | v
                i += 1
            }
            guard let scalar = Unicode.Scalar(value) else { throw error("an escape that is not a Unicode scalar", at: start) }
            return scalar
        }
    }
}
