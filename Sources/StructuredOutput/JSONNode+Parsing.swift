// MARK: - Parsing

extension JSONNode {
    /// The deepest array/object nesting `parse` accepts by default.
    public static let defaultMaxDepth = 512

    /// Parses one JSON text (RFC 8259, strict) from bytes.
    ///
    /// Strict means: UTF-8 only (validated), no comments, no trailing commas, no lone surrogate
    /// escapes, no raw control characters in strings, nothing but whitespace after the value, and
    /// **no duplicate keys** in an object (an error, not last-wins: a schema or a tool call with a
    /// duplicated key is ambiguous). The parser is iterative, linear in the input, and bounded in
    /// nesting, so any input either parses or throws.
    ///
    /// - Parameters:
    ///   - bytes: The JSON text.
    ///   - maxDepth: The deepest nesting of arrays and objects allowed.
    /// - Returns: The value.
    /// - Throws: `GrammarError` `.syntax` with the byte offset as `location`; `.tooLarge` past
    ///   `maxDepth`.
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = defaultMaxDepth) throws(GrammarError)
        -> JSONNode
    {
        var parser = JSONParser(bytes: Array(bytes), maxDepth: maxDepth)
        return try parser.parseDocument()
    }

    /// Parses one JSON text from a string (see `parse(_:maxDepth:)`).
    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(GrammarError) -> JSONNode {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }
}

/// The iterative parser behind `JSONNode.parse`: an explicit stack of open containers, so depth
/// costs heap, not call stack.
private struct JSONParser {
    let bytes: [UInt8]
    let maxDepth: Int
    var i = 0

    /// An open container. Mutated in place through `stack[last]` (never copied out), so appending
    /// stays amortized O(1).
    struct Frame {
        var isObject: Bool
        var elements: [JSONNode] = []
        var members: [JSONNode.Member] = []
        var keys: Set<String> = []
        var key = ""
    }

    init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    func fail(_ message: String, at offset: Int? = nil) -> GrammarError {
        GrammarError(.syntax, "invalid JSON: \(message)", location: "byte \(offset ?? i)")
    }

    mutating func skipWhitespace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(GrammarError) {
        skipWhitespace()
        guard i < bytes.count, bytes[i] == byte else { throw fail("expected \(what)") }
        i += 1
    }

    mutating func parseDocument() throws(GrammarError) -> JSONNode {
        var stack: [Frame] = []
        while true {
            // Parse a value start: a scalar, or open a container.
            skipWhitespace()
            guard i < bytes.count else { throw fail("unexpected end of input") }
            var value: JSONNode
            switch bytes[i] {
            case UInt8(ascii: "["):
                i += 1
                skipWhitespace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                    i += 1
                    value = .array([])
                } else {
                    guard stack.count < maxDepth else {
                        throw GrammarError(.tooLarge, "JSON nested deeper than \(maxDepth)", location: "byte \(i)")
                    }
                    stack.append(Frame(isObject: false))
                    continue
                }
            case UInt8(ascii: "{"):
                i += 1
                skipWhitespace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                    i += 1
                    value = .object([])
                } else {
                    guard stack.count < maxDepth else {
                        throw GrammarError(.tooLarge, "JSON nested deeper than \(maxDepth)", location: "byte \(i)")
                    }
                    let key = try parseKey()
                    stack.append(Frame(isObject: true, keys: [key], key: key))
                    continue
                }
            default:
                value = try parseScalar()
            }
            // Attach the finished value, closing containers as far as they end here.
            while true {
                guard !stack.isEmpty else {
                    skipWhitespace()
                    guard i == bytes.count else { throw fail("trailing characters after the value") }
                    return value
                }
                let top = stack.count - 1
                skipWhitespace()
                guard i < bytes.count else { throw fail("unexpected end of input") }
                let byte = bytes[i]
                i += 1
                if !stack[top].isObject {
                    stack[top].elements.append(value)
                    if byte == UInt8(ascii: "]") {
                        value = .array(stack.removeLast().elements)
                        continue
                    }
                    guard byte == UInt8(ascii: ",") else { throw fail("expected ',' or ']'", at: i - 1) }
                } else {
                    stack[top].members.append(JSONNode.Member(key: stack[top].key, value: value))
                    if byte == UInt8(ascii: "}") {
                        value = .object(stack.removeLast().members)
                        continue
                    }
                    guard byte == UInt8(ascii: ",") else { throw fail("expected ',' or '}'", at: i - 1) }
                    skipWhitespace()
                    let start = i
                    let next = try parseKey()
                    guard stack[top].keys.insert(next).inserted else {
                        throw fail("duplicate key \"\(next)\"", at: start)
                    }
                    stack[top].key = next
                }
                break
            }
        }
    }

    /// A member key and its colon.
    mutating func parseKey() throws(GrammarError) -> String {
        skipWhitespace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
        let key = try parseString()
        try expect(UInt8(ascii: ":"), "':'")
        return key
    }

    mutating func parseScalar() throws(GrammarError) -> JSONNode {
        let b = bytes[i]
        switch b {
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try keyword("true"); return .bool(true)
        case UInt8(ascii: "f"): try keyword("false"); return .bool(false)
        case UInt8(ascii: "n"): try keyword("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw fail("unexpected character")
        }
    }

    mutating func keyword(_ word: String) throws(GrammarError) {
        let w = Array(word.utf8)
        guard bytes.count - i >= w.count else { throw fail("unexpected end of input") }
        guard bytes[i..<(i + w.count)].elementsEqual(w) else { throw fail("unexpected character") }
        i += w.count
    }

    mutating func parseNumber() throws(GrammarError) -> JSONNumber {
        let start = i
        func isNumberByte(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || b == UInt8(ascii: ".")
                || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
        }
        while i < bytes.count, isNumberByte(bytes[i]) { i += 1 }
        let slice = Array(bytes[start..<i])
        guard let decimal = DecimalValue(jsonLexeme: slice) else { throw fail("malformed number", at: start) }
        return JSONNumber(lexeme: String(decoding: slice, as: UTF8.self), decimal: decimal)
    }

    /// A string starting at the opening quote.
    mutating func parseString() throws(GrammarError) -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw fail("unterminated string") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                break
            }
            if b < 0x20 { throw fail("a raw control character in a string") }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                i += 1
                continue
            }
            guard i + 1 < bytes.count else { throw fail("unterminated string") }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800, scalar <= 0xDBFF {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw fail("a lone surrogate escape")
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00, low <= 0xDFFF else { throw fail("a lone surrogate escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00, scalar <= 0xDFFF {
                    throw fail("a lone surrogate escape")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("a bad escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw fail("a bad escape", at: i - 1)
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
        return s
    }

    mutating func hex4() throws(GrammarError) -> UInt32 {
        guard bytes.count - i >= 4 else { throw fail("a short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: throw fail("a bad \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }
}

// MARK: - Serialization

extension JSONNode {
    /// The value as JSON text: compact, or pretty with `indent` spaces per level (members as
    /// `"key": value`, as Python's `json.dumps(indent:)` prints). Strings escape only `"`, `\`
    /// and control characters; numbers print their lexeme.
    public func serialized(indent: Int? = nil) -> String {
        var out = ""
        write(into: &out, indent: indent, level: 0)
        return out
    }

    private func write(into out: inout String, indent: Int?, level: Int) {
        func newline(_ level: Int) {
            guard let indent else { return }
            out += "\n" + String(repeating: " ", count: indent * level)
        }
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n.lexeme
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let a):
            out += "["
            for (k, e) in a.enumerated() {
                if k > 0 { out += "," }
                newline(level + 1)
                e.write(into: &out, indent: indent, level: level + 1)
            }
            if !a.isEmpty { newline(level) }
            out += "]"
        case .object(let m):
            out += "{"
            for (k, e) in m.enumerated() {
                if k > 0 { out += "," }
                newline(level + 1)
                Self.writeString(e.key, into: &out)
                out += indent == nil ? ":" : ": "
                e.value.write(into: &out, indent: indent, level: level + 1)
            }
            if !m.isEmpty { newline(level) }
            out += "}"
        }
    }

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0..<0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}
