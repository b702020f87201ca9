/// The bytes each token decodes to, precomputed (llama.cpp's `token_to_piece` cache).
///
/// Normal tokens: SentencePiece text with `▁` turned back into spaces, or a BPE string mapped back
/// through byte-to-unicode. Byte tokens `<0xXX>`: that byte. User-defined tokens: their text.
/// Control and unknown tokens: nothing, unless special tokens are rendered (then their text).
/// Unused and undefined tokens: nothing.
struct TokenPieces: Sendable {
    private let bytes: [UInt8]
    private let starts: [Int32]
    /// Whether a token is control/unknown: rendered (as its text) only on request.
    private let special: [Bool]
    private let texts: Vocabulary

    init(vocabulary: Vocabulary) {
        var bytes: [UInt8] = []
        var starts: [Int32] = [0]
        var special: [Bool] = []
        starts.reserveCapacity(vocabulary.count + 1)
        special.reserveCapacity(vocabulary.count)
        let isBPE = vocabulary.model == .bytePairEncoding
        for id in 0..<vocabulary.count {
            let attributes = vocabulary.attributes[id]
            let text = vocabulary.text(of: TokenID(id))!
            let isSpecial = !attributes.isDisjoint(with: [.control, .unknown])
            special.append(isSpecial)
            if isSpecial {
                // nothing by default
            } else if attributes.contains(.userDefined) {
                bytes.append(contentsOf: text)
            } else if attributes.contains(.normal) {
                if isBPE {
                    bytes.append(contentsOf: ByteUnicode.decode(text) ?? Self.lenientDecode(text))
                } else {
                    Self.appendUnescaped(text, to: &bytes)
                }
            } else if attributes.contains(.byte) {
                if let byte = Self.byteValue(text, isBPE: isBPE) { bytes.append(byte) }
            }
            starts.append(Int32(truncatingIfNeeded: bytes.count))
        }
        self.bytes = bytes
        self.starts = starts
        self.special = special
        texts = vocabulary
    }

    /// `▁` (E2 96 81) → space.
    private static func appendUnescaped(_ text: [UInt8], to bytes: inout [UInt8]) {
        var i = 0
        while i < text.count {
            if i + 2 < text.count && text[i] == 0xE2 && text[i + 1] == 0x96 && text[i + 2] == 0x81 {
                bytes.append(0x20)
                i += 3
            } else {
                bytes.append(text[i])
                i += 1
            }
        }
    }

    /// A BPE string with code points outside byte-to-unicode: mapped ones become bytes, others stay.
    private static func lenientDecode(_ text: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        for scalar in String(decoding: text, as: UTF8.self).unicodeScalars {
            if scalar.value < 0x144, ByteUnicode.byteOfScalar[Int(scalar.value)] >= 0 {
                result.append(UInt8(ByteUnicode.byteOfScalar[Int(scalar.value)]))
            } else {
                result.append(contentsOf: UTF8.encode(scalar)!)
            }
        }
        return result
    }

    /// The byte of a byte token: `<0xXX>` (SentencePiece) or a one-code-point BPE string.
    private static func byteValue(_ text: [UInt8], isBPE: Bool) -> UInt8? {
        if text.count == 6, text[0] == 0x3C, text[1] == 0x30, text[2] == 0x78, text[5] == 0x3E,
            let value = UInt8(String(decoding: text[3..<5], as: UTF8.self), radix: 16)
        {
            return value
        }
        if isBPE, let decoded = ByteUnicode.decode(text), decoded.count == 1 { return decoded[0] }
        return nil
    }

    /// Appends the piece of `id` to `output`.
    ///
    /// - Parameters:
    ///   - id: A valid token id.
    ///   - renderSpecial: Whether control and unknown tokens render as their text.
    ///   - stripLeadingSpace: Whether to drop one leading space (SentencePiece's dummy prefix).
    /// - Returns: Whether the token has a non-empty piece (before any space was dropped).
    @inline(__always)
    @discardableResult
    func append(_ id: TokenID, renderSpecial: Bool, stripLeadingSpace: Bool, to output: inout [UInt8]) -> Bool {
        let index = Int(id)
        if special[index] {
            guard renderSpecial else { return false }
            return texts.withText(of: id) { text in
                var slice = text[...]
                let nonEmpty = !slice.isEmpty
                if stripLeadingSpace, slice.first == 0x20 { slice = slice.dropFirst() }
                output.append(contentsOf: slice)
                return nonEmpty
            }
        }
        var start = Int(starts[index])
        let end = Int(starts[index + 1])
        guard start < end else { return false }
        if stripLeadingSpace && bytes[start] == 0x20 { start += 1 }
        output.append(contentsOf: bytes[start..<end])
        return true
    }
}
