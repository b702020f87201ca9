/// A set of bytes (256 bits): what one grammar element may match at one position.
public struct ByteSet: Hashable, Sendable {
    @usableFromInline var words: (UInt64, UInt64, UInt64, UInt64)

    /// The empty set.
    public init() { words = (0, 0, 0, 0) }

    /// The set of one byte.
    public init(_ byte: UInt8) {
        self.init()
        insert(byte)
    }

    /// The set of the bytes in `range`.
    public init(_ range: ClosedRange<UInt8>) {
        self.init()
        insert(range)
    }

    /// Every byte.
    public static let all: ByteSet = {
        var s = ByteSet()
        s.words = (~0, ~0, ~0, ~0)
        return s
    }()

    @inlinable
    public func contains(_ byte: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }

    public mutating func insert(_ byte: UInt8) {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    public mutating func insert(_ range: ClosedRange<UInt8>) {
        for b in range { insert(b) }
    }

    public mutating func formUnion(_ other: ByteSet) {
        words.0 |= other.words.0
        words.1 |= other.words.1
        words.2 |= other.words.2
        words.3 |= other.words.3
    }

    /// The bytes not in this set.
    public var inverted: ByteSet {
        var s = ByteSet()
        s.words = (~words.0, ~words.1, ~words.2, ~words.3)
        return s
    }

    public var isEmpty: Bool { words.0 | words.1 | words.2 | words.3 == 0 }

    /// How many bytes the set holds.
    public var count: Int {
        words.0.nonzeroBitCount + words.1.nonzeroBitCount + words.2.nonzeroBitCount + words.3.nonzeroBitCount
    }

    /// The bytes, ascending.
    public var bytes: [UInt8] { (0...255).compactMap { contains(UInt8($0)) ? UInt8($0) : nil } }

    public static func == (a: ByteSet, b: ByteSet) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
