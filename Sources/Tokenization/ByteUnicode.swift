/// GPT-2's byte-to-unicode mapping, which byte-level BPE vocabularies use for their token strings.
///
/// Bytes 0x21–0x7E, 0xA1–0xAC and 0xAE–0xFF map to the code point of the same value; the other 68
/// bytes map, in order, to U+0100…U+0143 (so a space is `Ġ`, U+0120, and a newline `Ċ`, U+010A).
enum ByteUnicode {
    /// The code point of each byte.
    static let scalarOfByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// The byte of each code point below U+0144, or -1 when the code point is not in the mapping.
    static let byteOfScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for byte in 0..<256 { table[Int(scalarOfByte[byte])] = Int16(byte) }
        return table
    }()

    /// Decodes a byte-to-unicode token string into raw bytes.
    ///
    /// - Parameter text: The token's UTF-8 text.
    /// - Returns: The bytes, or `nil` when the text holds a code point outside the mapping (or is not
    ///   valid UTF-8): such a token can never be produced by byte-level BPE.
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var iterator = text.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                guard scalar.value < 0x144 else { return nil }
                let byte = byteOfScalar[Int(scalar.value)]
                guard byte >= 0 else { return nil }
                result.append(UInt8(byte))
            case .emptyInput:
                return result
            case .error:
                return nil
            }
        }
    }

    /// Encodes raw bytes as a byte-to-unicode string's UTF-8 bytes.
    static func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var result: [UInt8] = []
        for byte in bytes {
            let scalar = Unicode.Scalar(scalarOfByte[Int(byte)])!
            result.append(contentsOf: UTF8.encode(scalar)!)
        }
        return result
    }
}
