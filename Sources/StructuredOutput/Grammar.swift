/// A context-free grammar over bytes, as the matcher runs it: rules of alternatives, each a
/// sequence of elements that match one byte from a set or expand another rule.
///
/// Text (GBNF, JSON Schema, regular expressions) is compiled to this through `GrammarBuilder`;
/// Unicode classes become UTF-8 byte sequences there, so the matcher sees only bytes, as a
/// tokenizer's pieces are bytes. A built grammar has no undefined rule and no left recursion.
public struct Grammar: Sendable {
    /// One element of an alternative.
    public enum Element: Hashable, Sendable {
        /// One byte from the set.
        case bytes(ByteSet)
        /// The rule with this index.
        case rule(Int)
    }

    /// A rule: a name (for printing and errors) and its alternatives. An empty alternative matches
    /// the empty string.
    public struct Rule: Sendable {
        public var name: String
        public var alternatives: [[Element]]
    }

    /// The rules; `Element.rule` holds an index into this.
    public let rules: [Rule]
    /// The rule a whole text must match.
    public let root: Int
    /// Rules whose references are checked beyond what the rules say (`ValueCheck`), by rule index.
    public let checks: [Int: ValueCheck]

    init(rules: [Rule], root: Int, checks: [Int: ValueCheck] = [:]) {
        self.rules = rules
        self.root = root
        self.checks = checks
    }

    /// How many elements the grammar holds in all.
    public var elementCount: Int { rules.reduce(0) { $0 + $1.alternatives.reduce(0) { $0 + $1.count } } }
}

extension Grammar: CustomStringConvertible {
    /// The grammar as GBNF (llama.cpp's syntax), root first; byte sets print as byte classes.
    public var description: String {
        var out = ""
        var order = [root]
        order += rules.indices.filter { $0 != root }
        for index in order {
            let rule = rules[index]
            let alternatives = rule.alternatives.map { alternative -> String in
                if alternative.isEmpty { return "\"\"" }
                return alternative.map { element -> String in
                    switch element {
                    case .rule(let r): return rules[r].name
                    case .bytes(let set): return Self.gbnf(set)
                    }
                }.joined(separator: " ")
            }
            out += "\(rule.name) ::= \(alternatives.joined(separator: " | "))\n"
        }
        // GBNF has no words for these: comments, so the text still parses (without them).
        for (rule, check) in checks.sorted(by: { $0.key < $1.key }) {
            out += "# \(rules[rule].name): \(check.summary)\n"
        }
        return out
    }

    static func gbnf(_ set: ByteSet) -> String {
        let bytes = set.bytes
        if bytes.count == 1 { return "\"\(escape(bytes[0], inClass: false))\"" }
        if bytes.count > 128 {
            return "[^" + ranges(set.inverted.bytes).map { escapeRange($0) }.joined() + "]"
        }
        return "[" + ranges(bytes).map { escapeRange($0) }.joined() + "]"
    }

    private static func ranges(_ bytes: [UInt8]) -> [ClosedRange<UInt8>] {
        var out: [ClosedRange<UInt8>] = []
        for b in bytes {
            if let last = out.last, last.upperBound &+ 1 == b, last.upperBound != 255 {
                out[out.count - 1] = last.lowerBound...b
            } else {
                out.append(b...b)
            }
        }
        return out
    }

    private static func escapeRange(_ r: ClosedRange<UInt8>) -> String {
        r.lowerBound == r.upperBound
            ? escape(r.lowerBound, inClass: true) : escape(r.lowerBound, inClass: true) + "-" + escape(r.upperBound, inClass: true)
    }

    private static func escape(_ b: UInt8, inClass: Bool) -> String {
        switch b {
        case UInt8(ascii: "\\"): return "\\\\"
        case UInt8(ascii: "\"") where !inClass: return "\\\""
        case UInt8(ascii: "]") where inClass, UInt8(ascii: "-") where inClass, UInt8(ascii: "^") where inClass:
            return "\\" + String(UnicodeScalar(b))
        case 0x20...0x7E: return String(UnicodeScalar(b))
        default: return "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
        }
    }
}
