/// Turns a stream of token ids into text without ever emitting half a UTF-8 character.
///
/// A token can end inside a character (byte-fallback tokens, byte-level BPE pieces of an emoji). The
/// detokenizer holds back an incomplete trailing sequence until the tokens that complete it arrive,
/// so each chunk is whole characters, and the chunks concatenated equal the one-shot
/// `Tokenizer.decode` of the same ids (including its U+FFFD repairs of truly invalid bytes).
public struct StreamingDetokenizer: Sendable {
    private let tokenizer: Tokenizer
    private let renderSpecial: Bool
    private var pending: [UInt8] = []
    /// Whether any text came out yet (the dummy-prefix space is removed from the first text only).
    private var started = false

    /// Creates a detokenizer.
    ///
    /// - Parameters:
    ///   - tokenizer: The tokenizer whose ids will be fed.
    ///   - renderSpecial: Whether control tokens appear as their text.
    public init(tokenizer: Tokenizer, renderSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.renderSpecial = renderSpecial
    }

    /// Adds one token and returns the text that is now complete (possibly empty).
    ///
    /// - Parameter id: The next token id.
    /// - Returns: Whole characters not returned before.
    /// - Throws: `TokenizerError` `.invalidTokenID` for an id outside the vocabulary.
    public mutating func append(_ id: TokenID) throws -> String {
        try tokenizer.check(id)
        if tokenizer.pieces.append(
            id, renderSpecial: renderSpecial, stripLeadingSpace: !started && tokenizer.vocabulary.addSpacePrefix, to: &pending)
        {
            started = true
        }
        let cut = Self.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Returns whatever is held back (repaired with U+FFFD if it never completed) and resets.
    ///
    /// - Returns: The remaining text.
    public mutating func finish() -> String {
        defer {
            pending.removeAll()
            started = false
        }
        return String(decoding: pending, as: UTF8.self)
    }

    /// How many leading bytes of `bytes` can be decoded now without changing the result of decoding later.
    ///
    /// Cutting just before a byte that is not a continuation byte never changes how UTF-8 decodes,
    /// so only a trailing lead byte (C2–F4) still missing continuation bytes is held back.
    public static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var i = n - 1
        // Find the last non-continuation byte among the final four.
        while i >= 0 && i >= n - 4 && bytes[i] & 0xC0 == 0x80 { i -= 1 }
        guard i >= 0, i >= n - 4 else { return n }
        let lead = bytes[i]
        let needed: Int
        switch lead {
        case 0xC2...0xDF: needed = 2
        case 0xE0...0xEF: needed = 3
        case 0xF0...0xF4: needed = 4
        default: return n
        }
        return n - i < needed ? i : n
    }
}
