// MARK: - Decoding

extension Tokenizer {
    /// The bytes token ids decode to, as llama.cpp's `llama_detokenize` produces them.
    ///
    /// With `add_space_prefix` (Mistral's SentencePiece vocabularies) the first piece that produces
    /// text loses one leading space, the dummy prefix encoding added, as sentencepiece (mistral-common)
    /// decodes; so `decode(encode(text)) == text` (except that SentencePiece cannot tell a literal
    /// `▁` from a space). llama.cpp differs only in letting a leading BOS use up that removal.
    ///
    /// - Parameters:
    ///   - ids: The token ids.
    ///   - renderSpecial: Whether control tokens (`<s>`, `[INST]`, …) appear as their text.
    /// - Returns: The bytes (a token may end in the middle of a UTF-8 character).
    /// - Throws: `TokenizerError` `.invalidTokenID` for an id outside the vocabulary.
    public func decodeBytes(_ ids: some Sequence<TokenID>, renderSpecial: Bool = false) throws -> [UInt8] {
        var output: [UInt8] = []
        var stripPending = vocabulary.addSpacePrefix
        for id in ids {
            try check(id)
            if pieces.append(id, renderSpecial: renderSpecial, stripLeadingSpace: stripPending, to: &output) {
                stripPending = false
            }
        }
        return output
    }

    /// The text token ids decode to (invalid UTF-8 repaired with U+FFFD).
    ///
    /// - Parameters:
    ///   - ids: The token ids.
    ///   - renderSpecial: Whether control tokens (`<s>`, `[INST]`, …) appear as their text.
    /// - Returns: The text.
    /// - Throws: `TokenizerError` `.invalidTokenID` for an id outside the vocabulary.
    public func decode(_ ids: some Sequence<TokenID>, renderSpecial: Bool = false) throws -> String {
        String(decoding: try decodeBytes(ids, renderSpecial: renderSpecial), as: UTF8.self)
    }

    /// The bytes of one token on its own (no leading-space removal).
    ///
    /// - Parameters:
    ///   - id: The token id.
    ///   - renderSpecial: Whether a control token appears as its text.
    /// - Returns: The bytes.
    /// - Throws: `TokenizerError` `.invalidTokenID` for an id outside the vocabulary.
    public func pieceBytes(_ id: TokenID, renderSpecial: Bool = true) throws -> [UInt8] {
        try check(id)
        var output: [UInt8] = []
        pieces.append(id, renderSpecial: renderSpecial, stripLeadingSpace: false, to: &output)
        return output
    }

    func check(_ id: TokenID) throws {
        guard id >= 0, Int(id) < vocabulary.count else {
            throw TokenizerError(.invalidTokenID, "token id \(id) is outside the vocabulary (0..<\(vocabulary.count))")
        }
    }
}
