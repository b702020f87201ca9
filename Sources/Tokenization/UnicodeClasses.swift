/// The Unicode classes the pre-tokenizers need, as bits of one byte per code point.
///
/// Both splitters ask the same questions millions of times (is it a letter, upper-ish or lower-ish,
/// a mark, a number, white space?). `Unicode.Scalar.Properties` answers them from the standard
/// library's Unicode tables; this caches the answer for the Basic Multilingual Plane in a 64 KiB
/// table and asks the standard library directly for the rare code points above it.
enum UnicodeClasses {
    /// `Lu`, `Lt`.
    static let upperish: UInt8 = 1 << 0
    /// `Ll`.
    static let lowercase: UInt8 = 1 << 1
    /// `Lm`, `Lo`.
    static let otherLetter: UInt8 = 1 << 2
    /// `Mn`, `Mc`, `Me` (`\p{M}`).
    static let mark: UInt8 = 1 << 3
    /// `Nd`, `Nl`, `No` (`\p{N}`).
    static let number: UInt8 = 1 << 4
    /// The `White_Space` property (`\s` in Rust's and llama.cpp's regex engines).
    static let whitespace: UInt8 = 1 << 5

    /// `\p{L}`.
    static let letter: UInt8 = upperish | lowercase | otherLetter
    /// Tekken's first class `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`.
    static let tekkenUpper: UInt8 = upperish | otherLetter | mark
    /// Tekken's second class `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`.
    static let tekkenLower: UInt8 = lowercase | otherLetter | mark

    /// The classes of a code point, computed from the standard library's tables.
    static func compute(_ value: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(value) else { return 0 }
        let properties = scalar.properties
        var bits: UInt8 = properties.isWhitespace ? whitespace : 0
        switch properties.generalCategory {
        case .uppercaseLetter, .titlecaseLetter: bits |= upperish
        case .lowercaseLetter: bits |= lowercase
        case .modifierLetter, .otherLetter: bits |= otherLetter
        case .nonspacingMark, .spacingMark, .enclosingMark: bits |= mark
        case .decimalNumber, .letterNumber, .otherNumber: bits |= number
        default: break
        }
        return bits
    }

    /// The Basic Multilingual Plane's classes, computed once on first use (an immutable table).
    static let basicPlane: [UInt8] = (0..<UInt32(0x10000)).map(compute)

    /// The classes of `value`.
    @inline(__always)
    static func of(_ value: UInt32) -> UInt8 {
        value < 0x10000 ? basicPlane[Int(value)] : compute(value)
    }
}

/// A run of UTF-8 decoded into code points, with each one's byte offset and classes.
struct DecodedText {
    var scalars: [UInt32] = []
    var classes: [UInt8] = []
    /// `offsets[i]` is where code point `i` starts; `offsets[count]` is the end of the text.
    var offsets: [Int32] = []

    /// Decodes valid UTF-8 (text that came from a Swift `String`).
    init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) {
        scalars.reserveCapacity(range.count)
        classes.reserveCapacity(range.count)
        offsets.reserveCapacity(range.count + 1)
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let lead = UInt32(bytes[i])
            var value: UInt32
            var length: Int
            if lead < 0x80 {
                value = lead
                length = 1
            } else if lead < 0xE0 {
                value = lead & 0x1F
                length = 2
            } else if lead < 0xF0 {
                value = lead & 0x0F
                length = 3
            } else {
                value = lead & 0x07
                length = 4
            }
            if i + length > end { length = end - i }
            var k = 1
            while k < length {
                value = value << 6 | (UInt32(bytes[i + k]) & 0x3F)
                k += 1
            }
            scalars.append(value)
            classes.append(UnicodeClasses.of(value))
            offsets.append(Int32(i))
            i += length
        }
        offsets.append(Int32(end))
    }

    var count: Int { scalars.count }
}
