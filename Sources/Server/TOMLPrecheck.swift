/// A scan of config text before it reaches the TOML parser (toml++, through TOMLKit). brised's config
/// is top-level `key = value` pairs with ASCII keys and string, number, boolean or array values, and
/// toml++ asserts (aborts the process, in a build with assertions) on some malformed keys the config
/// fuzz target found: a table header holding a non-ASCII character (`[\u{FFFD}le]`) or a comment
/// (`[# …`), a stray brace in a value (`[[}`), a control character after a date-like value. So what
/// brised's config never holds (or TOML forbids) is refused here, with its line: a non-ASCII character
/// outside a string or a comment, a table header, an inline table, a NUL or another control character.
enum TOMLPrecheck {
    /// Throws for a non-ASCII character outside strings and comments, a table header or inline
    /// table, or a control character other than tab, CR and LF anywhere.
    ///
    /// - Parameters:
    ///   - text: The TOML text.
    ///   - source: What the error names as the text's origin.
    /// - Throws: `DaemonError` `.configuration` naming the line.
    static func check(_ text: String, source: String) throws(DaemonError) {
        enum Mode { case code, comment, basic, literal, multiBasic, multiLiteral }
        var mode = Mode.code
        var line = 1
        var lineStart = true  // only white space so far on this line (outside strings)
        var arrayDepth = 0  // brackets open in values
        let bytes = Array(text.utf8)
        var i = 0
        func starts(_ literal: String) -> Bool {
            let pattern = Array(literal.utf8)
            return i + pattern.count <= bytes.count && Array(bytes[i..<(i + pattern.count)]) == pattern
        }
        while i < bytes.count {
            let byte = bytes[i]
            guard byte != 0 else { throw DaemonError(.configuration, "\(source): line \(line) holds a NUL byte") }
            // TOML allows no raw control character but tab (and the newline, CR LF): not in values,
            // strings or comments. toml++ asserted on one after a date-like value (`6999-0\u{8}`).
            if (byte < 0x20 && byte != UInt8(ascii: "\t") && byte != UInt8(ascii: "\n") && byte != UInt8(ascii: "\r")) || byte == 0x7F {
                throw DaemonError(
                    .configuration, "\(source): line \(line) holds the control character 0x\(String(byte, radix: 16, uppercase: true)) (TOML allows only tab)")
            }
            if byte == UInt8(ascii: "\n") {
                line += 1
                lineStart = true
                if mode == .comment || mode == .basic || mode == .literal { mode = .code }
                i += 1
                continue
            }
            switch mode {
            case .code:
                if byte >= 0x80 {
                    throw DaemonError(
                        .configuration, "\(source): line \(line) has a non-ASCII character outside a string or a comment")
                }
                if byte == UInt8(ascii: "["), lineStart, arrayDepth == 0 {
                    throw DaemonError(.configuration, "\(source): line \(line) is a table header; brised.toml has top-level keys only")
                }
                if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}") {
                    throw DaemonError(.configuration, "\(source): line \(line) has an inline table; brised.toml values are strings, numbers, booleans or arrays")
                }
                if byte == UInt8(ascii: "[") { arrayDepth += 1 }
                if byte == UInt8(ascii: "]") { arrayDepth = max(0, arrayDepth - 1) }
                if byte != UInt8(ascii: " "), byte != UInt8(ascii: "\t"), byte != UInt8(ascii: "\r") { lineStart = false }
                if byte == UInt8(ascii: "#") {
                    mode = .comment
                } else if starts("\"\"\"") {
                    mode = .multiBasic
                    i += 3
                    continue
                } else if starts("'''") {
                    mode = .multiLiteral
                    i += 3
                    continue
                } else if byte == UInt8(ascii: "\"") {
                    mode = .basic
                } else if byte == UInt8(ascii: "'") {
                    mode = .literal
                }
            case .comment:
                break
            case .basic, .multiBasic:
                if byte == UInt8(ascii: "\\") {
                    i += 2  // an escape: skip the escaped character (a newline there is counted next time)
                    if i - 1 < bytes.count, bytes[i - 1] == UInt8(ascii: "\n") { line += 1 }
                    continue
                }
                if mode == .multiBasic, starts("\"\"\"") {
                    mode = .code
                    i += 3
                    continue
                }
                if mode == .basic, byte == UInt8(ascii: "\"") { mode = .code }
            case .literal:
                if byte == UInt8(ascii: "'") { mode = .code }
            case .multiLiteral:
                if starts("'''") {
                    mode = .code
                    i += 3
                    continue
                }
            }
            i += 1
        }
    }
}
