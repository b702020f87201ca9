/// A check of config text before it reaches the TOML parser (toml++, through TOMLKit), against the
/// part of TOML that brised.toml uses: lines of `key = value` with a bare ASCII key, and values that
/// are strings (basic, literal, multi-line), integers, floats, booleans or arrays of these, with
/// comments and blank lines between. toml++ asserts (aborts the process, in a build with assertions)
/// on some malformed input the config fuzz target found -- a table header holding a non-ASCII
/// character or a comment, a stray brace, a date-like value followed by a character that ends no
/// value (`6999-0>`, `6999-0\u{8}`). Refusing single characters after each finding did not end them;
/// so what is not in that grammar is refused here, naming its line, and toml++ only ever parses text
/// of that grammar: no table headers, inline tables, dotted or quoted keys, dates or times, no raw
/// control character but tab, and no non-ASCII character outside strings and comments.
struct TOMLPrecheck {
    private let bytes: [UInt8]
    private let source: String
    private var i = 0
    private var line = 1

    /// Arrays nest at most this deep (brised's values are flat lists).
    static let maxArrayDepth = 8

    private init(_ text: String, source: String) {
        self.bytes = Array(text.utf8)
        self.source = source
    }

    /// Throws unless `text` is in the grammar above.
    ///
    /// - Parameters:
    ///   - text: The TOML text.
    ///   - source: What the error names as the text's origin.
    /// - Throws: `DaemonError` `.configuration` naming the line and what is wrong.
    static func check(_ text: String, source: String) throws(DaemonError) {
        var checker = TOMLPrecheck(text, source: source)
        try checker.document()
    }

    // MARK: - Grammar

    private mutating func document() throws(DaemonError) {
        while i < bytes.count {
            skipBlanks()
            guard let byte = peek else { return }
            switch byte {
            case UInt8(ascii: "#"):
                try comment()
            case UInt8(ascii: "\n"):
                break
            case UInt8(ascii: "\r"):
                try lineEnd()
                continue
            case UInt8(ascii: "["):
                throw failure("is a table header; brised.toml has top-level keys only")
            default:
                try keyValue()
                skipBlanks()
                if peek == UInt8(ascii: "#") { try comment() }
            }
            try lineEnd()
        }
    }

    private mutating func keyValue() throws(DaemonError) {
        let start = i
        while let byte = peek, Self.isBareKey(byte) { i += 1 }
        if i == start {
            guard let byte = peek else { return }
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                throw failure("has a quoted key; brised.toml keys are plain words (model, threads, ...)")
            }
            if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}") {
                throw failure("has an inline table; brised.toml values are strings, numbers, booleans or arrays")
            }
            try refuseByte(byte, expected: "a key")
        }
        skipBlanks()
        guard let byte = peek else { throw failure("ends after a key without \"= value\"") }
        if byte == UInt8(ascii: ".") { throw failure("has a dotted key; brised.toml has top-level keys only") }
        guard byte == UInt8(ascii: "=") else { try refuseByte(byte, expected: "\"=\" after the key") }
        i += 1
        skipBlanks()
        try value(depth: 0)
    }

    private mutating func value(depth: Int) throws(DaemonError) {
        guard let byte = peek else { throw failure("ends where a value should be") }
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            try string()
        case UInt8(ascii: "["):
            try array(depth: depth + 1)
        case UInt8(ascii: "{"), UInt8(ascii: "}"):
            throw failure("has an inline table; brised.toml values are strings, numbers, booleans or arrays")
        default:
            let start = i
            while let byte = peek, Self.isScalar(byte) { i += 1 }
            guard i > start else { try refuseByte(byte, expected: "a value") }
            let token = bytes[start..<i]
            guard Self.isBoolean(token) || Self.isInteger(token) || Self.isFloat(token) else {
                let shown = String(decoding: token.prefix(40), as: UTF8.self)
                throw failure("has the value \(shown), which is not a string, number, boolean or array (brised.toml holds no dates or times)")
            }
        }
    }

    private mutating func array(depth: Int) throws(DaemonError) {
        guard depth <= Self.maxArrayDepth else { throw failure("nests arrays deeper than \(Self.maxArrayDepth)") }
        i += 1  // [
        try skipArraySpace()
        guard peek != nil else { throw failure("ends inside an array (a \"]\" is missing)") }
        if peek == UInt8(ascii: "]") {
            i += 1
            return
        }
        while true {
            try value(depth: depth)
            try skipArraySpace()
            guard let byte = peek else { throw failure("ends inside an array (a \"]\" is missing)") }
            if byte == UInt8(ascii: "]") {
                i += 1
                return
            }
            guard byte == UInt8(ascii: ",") else { try refuseByte(byte, expected: "\",\" or \"]\" in an array") }
            i += 1
            try skipArraySpace()
            guard peek != nil else { throw failure("ends inside an array (a \"]\" is missing)") }
            if peek == UInt8(ascii: "]") {  // a trailing comma
                i += 1
                return
            }
        }
    }

    /// White space, newlines and comments, as arrays may hold them between values.
    private mutating func skipArraySpace() throws(DaemonError) {
        while true {
            skipBlanks()
            switch peek {
            case UInt8(ascii: "#"):
                try comment()
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                try lineEnd()
            default:
                return
            }
        }
    }

    private mutating func string() throws(DaemonError) {
        let quote = bytes[i]
        let multiLine = starts(with: quote, count: 3)
        i += multiLine ? 3 : 1
        let isBasic = quote == UInt8(ascii: "\"")
        while true {
            guard let byte = peek else { throw failure("ends inside a string (a closing \(Character(Unicode.Scalar(quote))) is missing)") }
            if multiLine, starts(with: quote, count: 3) {
                i += 3
                // Up to two more quotes belong to the string (TOML allows """a"""" as a"").
                var extra = 0
                while extra < 2, peek == quote {
                    i += 1
                    extra += 1
                }
                return
            }
            if !multiLine, byte == quote {
                i += 1
                return
            }
            switch byte {
            case UInt8(ascii: "\n"):
                guard multiLine else { throw failure("has a string that is not closed on its line") }
                line += 1
                i += 1
            case UInt8(ascii: "\\") where isBasic:
                i += 1
                guard let escaped = peek else { throw failure("ends inside a string escape") }
                try checkControl(escaped)
                if escaped == UInt8(ascii: "\n") { line += 1 }
                i += 1
            default:
                try checkControl(byte)
                i += 1
            }
        }
    }

    private mutating func comment() throws(DaemonError) {
        while let byte = peek, byte != UInt8(ascii: "\n") {
            if byte == UInt8(ascii: "\r"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\n") { return }
            try checkControl(byte)
            i += 1
        }
    }

    /// The end of a line: LF or CR LF (or the end of the text).
    private mutating func lineEnd() throws(DaemonError) {
        guard let byte = peek else { return }
        if byte == UInt8(ascii: "\r") {
            guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\n") else {
                throw failure("holds a carriage return that does not end the line")
            }
            i += 1
        }
        guard peek == UInt8(ascii: "\n") else { try refuseByte(bytes[i], expected: "the end of the line") }
        i += 1
        line += 1
    }

    // MARK: - Characters

    private var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    private mutating func skipBlanks() {
        while let byte = peek, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { i += 1 }
    }

    private func starts(with byte: UInt8, count: Int) -> Bool {
        i + count <= bytes.count && bytes[i..<(i + count)].allSatisfy { $0 == byte }
    }

    /// TOML allows no raw control character but tab in strings and comments (newlines end them).
    private func checkControl(_ byte: UInt8) throws(DaemonError) {
        if byte == 0 { throw failure("holds a NUL byte") }
        if (byte < 0x20 && byte != UInt8(ascii: "\t") && byte != UInt8(ascii: "\n") && byte != UInt8(ascii: "\r")) || byte == 0x7F {
            throw failure("holds the control character 0x\(String(byte, radix: 16, uppercase: true)) (TOML allows only tab)")
        }
    }

    /// The error for a byte where `expected` should be: its kind named for the bytes a user cannot see.
    private func refuseByte(_ byte: UInt8, expected: String) throws(DaemonError) -> Never {
        try checkControl(byte)
        if byte >= 0x80 { throw failure("has a non-ASCII character outside a string or a comment") }
        throw failure("has \"\(Character(Unicode.Scalar(byte)))\" where \(expected) should be")
    }

    private func failure(_ what: String) -> DaemonError {
        DaemonError(.configuration, "\(source): line \(line) \(what)")
    }

    private static func isBareKey(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    private static func isScalar(_ byte: UInt8) -> Bool {
        isBareKey(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || isDigit(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    // MARK: - Scalars (TOML 1.0's integer, float and boolean syntax)

    private static func isBoolean(_ token: ArraySlice<UInt8>) -> Bool {
        token.elementsEqual("true".utf8) || token.elementsEqual("false".utf8)
    }

    private static func isInteger(_ token: ArraySlice<UInt8>) -> Bool {
        if token.count > 2, token.first == UInt8(ascii: "0") {
            let digits = token.dropFirst(2)
            switch token[token.startIndex + 1] {
            case UInt8(ascii: "x"): return isDigits(digits) { isDigit($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0 | 0x20) }
            case UInt8(ascii: "o"): return isDigits(digits) { (UInt8(ascii: "0")...UInt8(ascii: "7")).contains($0) }
            case UInt8(ascii: "b"): return isDigits(digits) { $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: "1") }
            default: break
            }
        }
        return isDecimal(dropSign(token))
    }

    private static func isFloat(_ token: ArraySlice<UInt8>) -> Bool {
        let unsigned = dropSign(token)
        if unsigned.elementsEqual("inf".utf8) || unsigned.elementsEqual("nan".utf8) { return true }
        let exponentAt = unsigned.firstIndex { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        let mantissa = unsigned[..<(exponentAt ?? unsigned.endIndex)]
        let dot = mantissa.firstIndex(of: UInt8(ascii: "."))
        guard isDecimal(mantissa[..<(dot ?? mantissa.endIndex)]) else { return false }
        if let dot, !isDigits(mantissa[(dot + 1)...], isDigit) { return false }
        if let exponentAt {
            guard isDigits(dropSign(unsigned[(exponentAt + 1)...]), isDigit) else { return false }
        }
        return dot != nil || exponentAt != nil
    }

    private static func dropSign(_ token: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        token.first == UInt8(ascii: "+") || token.first == UInt8(ascii: "-") ? token.dropFirst() : token
    }

    /// A decimal integer without leading zeros: 0 or [1-9](_?[0-9])*.
    private static func isDecimal(_ digits: ArraySlice<UInt8>) -> Bool {
        if digits.elementsEqual("0".utf8) { return true }
        return digits.first != UInt8(ascii: "0") && isDigits(digits, isDigit)
    }

    /// One or more digits with single underscores between them.
    private static func isDigits(_ digits: ArraySlice<UInt8>, _ isDigit: (UInt8) -> Bool) -> Bool {
        guard let first = digits.first, let last = digits.last, isDigit(first), isDigit(last) else { return false }
        var previousUnderscore = false
        for byte in digits {
            if byte == UInt8(ascii: "_") {
                if previousUnderscore { return false }
                previousUnderscore = true
            } else {
                guard isDigit(byte) else { return false }
                previousUnderscore = false
            }
        }
        return true
    }
}
