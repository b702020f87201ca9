/// A number of tokens that came from outside the process (a client's `max_tokens`, a command-line
/// flag): in 0…`TokenCount.limit` (2²⁴) by construction, so adding it to any length that fits in
/// memory (a prompt, a context) cannot overflow `Int`.
public struct TokenCount: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The largest count: 2²⁴, the largest context Brise accepts.
    public static let limit = 1 << 24

    /// The count, in 0…`limit`.
    public let value: Int

    /// A count, or nil when `value` is outside 0…`limit`.
    public init?(_ value: some BinaryInteger) {
        guard value >= 0, value <= Self.limit else { return nil }
        self.value = Int(value)
    }

    /// `value` clamped into 0…`limit`.
    public init(clamping value: some BinaryInteger) {
        self.value = value < 0 ? 0 : (value > Self.limit ? Self.limit : Int(value))
    }

    public static func < (lhs: TokenCount, rhs: TokenCount) -> Bool { lhs.value < rhs.value }

    public var description: String { "\(value)" }
}

extension TokenCount: ExpressibleByIntegerLiteral {
    /// A count written in the source (a constant, never a value from outside).
    public init(integerLiteral value: Int) {
        precondition(value >= 0 && value <= Self.limit, "a TokenCount literal must be in 0…2²⁴")
        self.value = value
    }
}
