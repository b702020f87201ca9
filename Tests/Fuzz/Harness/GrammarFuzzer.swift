import StructuredOutput

/// The `schema` and `gbnf` fuzz targets: a JSON Schema (or a GBNF grammar) compiled from untrusted
/// bytes must compile or throw — never trap, never run away — and a compiled one must match and mask
/// without trapping.
///
/// Input layout: the text, then optionally a NUL and bytes to match against the compiled grammar.
/// The token masks run over a small fixed vocabulary (every byte, a few JSON pieces, multi-byte
/// characters split across tokens).
public enum GrammarFuzzer {
    /// Smaller limits than the daemon's, so one input stays well under libFuzzer's timeout while
    /// still reaching every limit check.
    static let limits: GrammarLimits = {
        var l = GrammarLimits()
        l.maxRules = 5_000
        l.maxElements = 100_000
        l.maxRepetition = 1_000
        return l
    }()

    static let trie: TokenTrie = {
        var tokens: [[UInt8]?] = [nil]
        for b in 0...255 { tokens.append([UInt8(b)]) }
        for piece in ["{\"", "\": ", "\",", "\"}", "true", "false", "null", "\\u00", "é", "\u{1F600}", "  ", "\n", "123", "-1.5e3", "[\"", "\"]"] {
            tokens.append(Array(piece.utf8))
        }
        tokens.append([0xC3])
        tokens.append([0xA9, 0x22])
        return TokenTrie(tokens: tokens)
    }()

    /// Runs one schema input.
    public static func runSchema(_ data: [UInt8]) {
        let (text, rest) = split(data)
        guard let grammar = try? JSONSchemaCompiler(limits: limits).compile(text: text) else { return }
        exercise(grammar, rest)
    }

    /// Runs one GBNF input.
    public static func runGBNF(_ data: [UInt8]) {
        let (text, rest) = split(data)
        var parser = GBNFParser(limits: limits)
        parser.maxBytes = 1 << 16
        guard let grammar = try? parser.parse(String(decoding: text, as: UTF8.self)) else { return }
        exercise(grammar, rest)
    }

    static func split(_ data: [UInt8]) -> ([UInt8], [UInt8]) {
        guard let nul = data.firstIndex(of: 0) else { return (data, []) }
        return (Array(data[..<nul]), Array(data[(nul + 1)...]))
    }

    /// Matches `bytes`, and computes the token masks along them (a few steps: each mask may fill the
    /// per-position cache).
    static func exercise(_ grammar: Grammar, _ bytes: [UInt8]) {
        _ = grammar.description
        var matcher = GrammarMatcher(grammar)
        _ = matcher.accept(bytes: bytes.prefix(4096))
        _ = matcher.isComplete
        _ = matcher.canCloseOpenItems()
        let cache = TokenMaskCache(automaton: GrammarAutomaton(grammar), trie: trie)
        var constraint = GrammarConstraint(cache: cache, endTokens: [0])
        for byte in bytes.prefix(8) {
            let mask = constraint.allowedTokens()
            let id = Int32(byte) + 1
            if mask[Int(id) >> 6] & (1 << UInt64(id & 63)) != 0 {
                _ = constraint.accept(token: id)
            }
        }
    }
}
