/// A JSON value that keeps what a schema compiler needs and a dictionary loses: object members in
/// document order, and numbers as their exact lexeme (so `1.0` and `1`, or a 40-digit integer,
/// stay distinguishable) next to an exact decimal decoding.
///
/// `==` is structural (member order and number spelling count); `isSemanticallyEqual(to:)` is
/// JSON Schema's equality (member order does not count, `1 == 1.0`).
public enum JSONNode: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONNode])
    /// Members in document order.
    case object([Member])

    /// One object member.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONNode

        public init(key: String, value: JSONNode) {
            self.key = key
            self.value = value
        }
    }

    /// The value of the first member named `key`, when this is an object.
    public subscript(key: String) -> JSONNode? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The members, when this is an object.
    public var members: [Member]? {
        if case .object(let m) = self { return m }
        return nil
    }

    /// The elements, when this is an array.
    public var elements: [JSONNode]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The string, when this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number, when this is a number.
    public var numberValue: JSONNumber? {
        if case .number(let n) = self { return n }
        return nil
    }

    /// A string equal for two values exactly when they are semantically equal (for hashing). ASCII
    /// only: Swift compares strings by canonical equivalence ("é" == "e\u{301}"), JSON Schema by
    /// code points.
    var semanticKey: String {
        switch self {
        case .null: return "n"
        case .bool(let b): return b ? "t" : "f"
        case .number(let n):
            let d = n.decimal
            return "d" + (d.negative ? "-" : "") + d.digits.map(String.init).joined() + "e\(d.exponent)"
        case .string(let s):
            return "s" + s.scalarKey
        case .array(let a): return "[" + a.map(\.semanticKey).joined(separator: ",") + "]"
        case .object(let m):
            let members = m.map { member -> String in member.key.scalarKey + ":" + member.value.semanticKey }
            return "{" + members.sorted().joined(separator: ",") + "}"
        }
    }

    /// JSON Schema equality: numbers by mathematical value, objects regardless of member order,
    /// arrays element-wise.
    public func isSemanticallyEqual(to other: JSONNode) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a.decimal == b.decimal
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isSemanticallyEqual(to: $1) }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for member in a {
                guard let match = b.first(where: { $0.key.unicodeScalars.elementsEqual(member.key.unicodeScalars) }),
                    match.value.isSemanticallyEqual(to: member.value)
                else { return false }
            }
            return true
        default: return false
        }
    }
}

/// A JSON number: its lexeme as written and an exact decimal decoding.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number exactly as written (`-1.50e3`).
    public let lexeme: String
    let decimal: DecimalValue

    /// Makes a number from a JSON number lexeme.
    ///
    /// - Returns: nil when `lexeme` is not a JSON number.
    public init?(_ lexeme: String) {
        guard let decimal = DecimalValue(jsonLexeme: Array(lexeme.utf8)) else { return nil }
        self.lexeme = lexeme
        self.decimal = decimal
    }

    /// The number of an integer.
    public init(_ value: Int) {
        self.lexeme = String(value)
        self.decimal = DecimalValue(jsonLexeme: Array(lexeme.utf8)) ?? DecimalValue()
    }

    init(lexeme: String, decimal: DecimalValue) {
        self.lexeme = lexeme
        self.decimal = decimal
    }

    /// The nearest `Double` (infinite past its range).
    public var double: Double { Double(lexeme) ?? .nan }

    /// Whether the value is a whole number (`1`, `1.0`, `1e3`), which JSON Schema calls an integer.
    public var isInteger: Bool { decimal.isInteger }

    /// The value as an `Int` when it is a whole number within `Int`'s range (`1.0` gives 1).
    public var int: Int? { decimal.int }

    public var description: String { lexeme }
}

/// An exact decimal: `(-1)^negative × digits × 10^exponent`, digits without leading or trailing
/// zeros (none at all for zero). The exponent saturates at ±`DecimalValue.exponentLimit`.
struct DecimalValue: Sendable, Hashable, Comparable {
    var negative = false
    var digits: [UInt8] = []
    var exponent = 0

    static let exponentLimit = 1 << 40

    init() {}

    init(negative: Bool, digits: [UInt8], exponent: Int) {
        var d = digits
        var e = exponent
        while let last = d.last, last == 0 {
            d.removeLast()
            e += 1
        }
        let lead = d.firstIndex { $0 != 0 } ?? d.count
        d.removeFirst(lead)
        self.digits = d
        self.exponent = d.isEmpty ? 0 : e
        self.negative = d.isEmpty ? false : negative
    }

    /// Decodes a JSON number lexeme; nil when it is not one.
    init?(jsonLexeme s: [UInt8]) {
        var i = 0
        var negative = false
        if i < s.count, s[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var digits: [UInt8] = []
        let intStart = i
        while i < s.count, s[i] >= 0x30, s[i] <= 0x39 {
            digits.append(s[i] - 0x30)
            i += 1
        }
        let intCount = i - intStart
        guard intCount > 0, !(intCount > 1 && s[intStart] == UInt8(ascii: "0")) else { return nil }
        var fraction = 0
        if i < s.count, s[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < s.count, s[i] >= 0x30, s[i] <= 0x39 {
                digits.append(s[i] - 0x30)
                i += 1
            }
            guard i > start else { return nil }
            fraction = i - start
        }
        var exponent = 0
        if i < s.count, s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < s.count, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
                expNegative = s[i] == UInt8(ascii: "-")
                i += 1
            }
            let start = i
            while i < s.count, s[i] >= 0x30, s[i] <= 0x39 {
                exponent = Swift.min(exponent * 10 + Int(s[i] - 0x30), Self.exponentLimit)
                i += 1
            }
            guard i > start else { return nil }
            if expNegative { exponent = -exponent }
        }
        guard i == s.count else { return nil }
        self.init(negative: negative, digits: digits, exponent: Swift.max(-Self.exponentLimit, exponent - fraction))
    }

    var isZero: Bool { digits.isEmpty }
    var isInteger: Bool { exponent >= 0 }

    /// How many digits stand before the decimal point (can be zero or negative for 0.00x).
    var integerDigitCount: Int { digits.count + exponent }

    var int: Int? {
        guard isInteger, integerDigitCount <= 18 else { return nil }
        var v = 0
        for d in digits { v = v * 10 + Int(d) }
        for _ in 0..<exponent { v *= 10 }
        return negative ? -v : v
    }

    var magnitude: DecimalValue { DecimalValue(negative: false, digits: digits, exponent: exponent) }
    var negated: DecimalValue { DecimalValue(negative: !negative, digits: digits, exponent: exponent) }

    /// The integer part's digits (no leading zeros; empty for 0) and the fraction's digits (no
    /// trailing zeros), of the magnitude; nil when either would exceed `maxDigits`.
    func split(maxDigits: Int) -> (integer: [UInt8], fraction: [UInt8])? {
        if isZero { return ([], []) }
        let intCount = integerDigitCount
        guard intCount <= maxDigits, -exponent <= maxDigits else { return nil }
        if exponent >= 0 { return (digits + [UInt8](repeating: 0, count: exponent), []) }
        if intCount <= 0 { return ([], [UInt8](repeating: 0, count: -intCount) + digits) }
        return (Array(digits[..<intCount]), Array(digits[intCount...]))
    }

    static func compareMagnitude(_ a: DecimalValue, _ b: DecimalValue) -> Int {
        if a.isZero || b.isZero { return a.isZero ? (b.isZero ? 0 : -1) : 1 }
        if a.integerDigitCount != b.integerDigitCount { return a.integerDigitCount < b.integerDigitCount ? -1 : 1 }
        for i in 0..<Swift.max(a.digits.count, b.digits.count) {
            let x = i < a.digits.count ? a.digits[i] : 0
            let y = i < b.digits.count ? b.digits[i] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }

    static func < (a: DecimalValue, b: DecimalValue) -> Bool {
        if a.negative != b.negative { return a.negative }
        let c = compareMagnitude(a, b)
        return a.negative ? c > 0 : c < 0
    }
}

extension String {
    /// The string's Unicode scalars as an ASCII string (`\` doubled, `"` and control characters and
    /// everything past ASCII as `\u{HEX}`, quoted): equal for two strings exactly when their scalars
    /// are. For sets and dictionaries of keys, where `String`'s own equality is canonical
    /// equivalence and JSON Schema's is code point by code point.
    var scalarKey: String {
        var out = "\""
        for u in unicodeScalars {
            switch u.value {
            case 0x5C: out += "\\\\"
            case 0x20..<0x7F where u.value != 0x22: out.unicodeScalars.append(u)
            default: out += "\\u{" + String(u.value, radix: 16) + "}"
            }
        }
        return out + "\""
    }
}
