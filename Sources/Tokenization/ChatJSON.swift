/// A JSON value with ordered object keys, serialized as Python's `json.dumps(ensure_ascii=False)`.
///
/// Mistral's formats embed JSON (tool definitions, call arguments, results) in the prompt, and the
/// model was trained on mistral-common's rendering: `", "` and `": "` separators, keys in the order
/// given, non-ASCII kept, control characters escaped. Foundation's encoders reorder or reformat, so
/// prompts use this type.
public indirect enum ChatJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([ChatJSON])
    case object([(key: String, value: ChatJSON)])

    public static func == (lhs: ChatJSON, rhs: ChatJSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.double(let a), .double(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// The value for `key` in an object.
    public subscript(key: String) -> ChatJSON? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    /// The text as `json.dumps(value, ensure_ascii=False)` writes it.
    public var serialized: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .double(let value):
            if value.isNaN {
                out += "NaN"
            } else if value.isInfinite {
                out += value < 0 ? "-Infinity" : "Infinity"
            } else if value == value.rounded(), abs(value) < 1e16 {
                out += String(Int(value)) + ".0"
            } else {
                out += "\(value)"
            }
        case .string(let value): Self.writeString(value, to: &out)
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += ", " }
                value.write(to: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (index, pair) in pairs.enumerated() {
                if index > 0 { out += ", " }
                Self.writeString(pair.key, to: &out)
                out += ": "
                pair.value.write(to: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

// MARK: - Parsing

extension ChatJSON {
    /// Parses JSON text, keeping object keys in order.
    ///
    /// - Parameter text: The JSON text (surrounding white space allowed).
    /// - Throws: `TokenizerError` `.invalidToolCall` for malformed JSON.
    public init(parsing text: String) throws {
        var parser = Parser(scalars: Array(text.unicodeScalars))
        parser.skipSpace()
        self = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == parser.scalars.count else { throw parser.error("trailing characters") }
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0

        func error(_ what: String) -> TokenizerError {
            TokenizerError(.invalidToolCall, "malformed JSON: \(what) at character \(index)")
        }

        mutating func skipSpace() {
            while index < scalars.count, [" ", "\n", "\r", "\t"].contains(scalars[index]) { index += 1 }
        }

        mutating func expect(_ literal: String) throws {
            for scalar in literal.unicodeScalars {
                guard index < scalars.count, scalars[index] == scalar else { throw error("expected \(literal)") }
                index += 1
            }
        }

        mutating func value(depth: Int) throws -> ChatJSON {
            guard depth < 128 else { throw error("nesting too deep") }
            guard index < scalars.count else { throw error("unexpected end") }
            switch scalars[index] {
            case "{":
                index += 1
                var pairs: [(key: String, value: ChatJSON)] = []
                skipSpace()
                if index < scalars.count, scalars[index] == "}" {
                    index += 1
                    return .object(pairs)
                }
                while true {
                    skipSpace()
                    let key = try string()
                    skipSpace()
                    try expect(":")
                    skipSpace()
                    pairs.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    guard index < scalars.count else { throw error("unterminated object") }
                    if scalars[index] == "," { index += 1; continue }
                    try expect("}")
                    return .object(pairs)
                }
            case "[":
                index += 1
                var values: [ChatJSON] = []
                skipSpace()
                if index < scalars.count, scalars[index] == "]" {
                    index += 1
                    return .array(values)
                }
                while true {
                    skipSpace()
                    values.append(try value(depth: depth + 1))
                    skipSpace()
                    guard index < scalars.count else { throw error("unterminated array") }
                    if scalars[index] == "," { index += 1; continue }
                    try expect("]")
                    return .array(values)
                }
            case "\"": return .string(try string())
            case "t": try expect("true"); return .bool(true)
            case "f": try expect("false"); return .bool(false)
            case "n": try expect("null"); return .null
            default: return try number()
            }
        }

        mutating func string() throws -> String {
            try expect("\"")
            var result = String.UnicodeScalarView()
            while true {
                guard index < scalars.count else { throw error("unterminated string") }
                let scalar = scalars[index]
                index += 1
                if scalar == "\"" { return String(result) }
                guard scalar == "\\" else { result.append(scalar); continue }
                guard index < scalars.count else { throw error("unterminated escape") }
                let escape = scalars[index]
                index += 1
                switch escape {
                case "\"", "\\", "/": result.append(escape)
                case "n": result.append("\n")
                case "r": result.append("\r")
                case "t": result.append("\t")
                case "b": result.append("\u{08}")
                case "f": result.append("\u{0C}")
                case "u":
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), index + 1 < scalars.count, scalars[index] == "\\", scalars[index + 1] == "u" {
                        // A high surrogate pairs only with a low one; otherwise it stands alone (U+FFFD)
                        // and the next escape is read on its own.
                        let mark = index
                        index += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            index = mark
                        }
                    }
                    result.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                default: throw error("bad escape")
                }
            }
        }

        mutating func hex4() throws -> UInt32 {
            guard index + 4 <= scalars.count,
                let value = UInt32(String(String.UnicodeScalarView(scalars[index..<(index + 4)])), radix: 16)
            else { throw error("bad \\u escape") }
            index += 4
            return value
        }

        mutating func number() throws -> ChatJSON {
            let start = index
            while index < scalars.count, "+-0123456789.eE".unicodeScalars.contains(scalars[index]) { index += 1 }
            let text = String(String.UnicodeScalarView(scalars[start..<index]))
            if let int = Int(text) { return .int(int) }
            if let double = Double(text) { return .double(double) }
            throw error("bad value")
        }
    }
}
