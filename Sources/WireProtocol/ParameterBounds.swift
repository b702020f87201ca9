/// The ranges of the numbers a client may send, checked while a call is decoded, before any
/// arithmetic uses them. The interface file (io.brise.Inference.varlink) states the same ranges in
/// its comments; the daemon narrows the model-dependent ones further (`max_tokens` ≤ the context
/// length, `top_k` ≤ the vocabulary, `penalty_last_n` ≤ the context length) when it builds a request.
///
/// Every integer bound fits in 32 bits, so sums and products of a few decoded values cannot
/// overflow `Int`.
public enum ParameterBounds {
    /// The most tokens any count may name: 2²⁴, the largest context `brised` accepts.
    public static let tokenLimit = 1 << 24

    /// `max_tokens`: 1…2²⁴ (and at most the model's context length).
    public static let maxTokens = IntegerBounds(1, tokenLimit)
    /// `top_k`: 0 (off)…2²⁴ (and at most the vocabulary size).
    public static let topK = IntegerBounds(0, tokenLimit)
    /// `penalty_last_n`: -1 (the whole history), 0 (off)…2²⁴ (and at most the context length).
    public static let penaltyLastN = IntegerBounds(-1, tokenLimit)
    /// A token id: 0…2³¹−1 (and below the vocabulary size).
    public static let tokenID = IntegerBounds(0, Int(Int32.max))
    /// `seed`: any value in 0…2⁶⁴−1, or -1 for a random seed (llama.cpp's convention).
    public static let seed = "0…18446744073709551615, or -1 for a random seed"

    /// `temperature`: 0 (greedy)…100.
    public static let temperature = FloatBounds(0, 100)
    /// `top_p`: above 0, at most 1 (1 = off).
    public static let topP = FloatBounds(0, 1, lowerOpen: true)
    /// `min_p`: 0 (off), below 1.
    public static let minP = FloatBounds(0, 1, upperOpen: true)
    /// `repetition_penalty`: above 0, at most 10 (1 = off).
    public static let repetitionPenalty = FloatBounds(0, 10, lowerOpen: true)
    /// `presence_penalty` and `frequency_penalty`: -10…10 (0 = off).
    public static let penalty = FloatBounds(-10, 10)

    /// `stop`: at most 16 strings.
    public static let stopStrings = 16
    /// `stop`: each string 1…256 bytes of UTF-8.
    public static let stopStringBytes = 256
    /// `grammar`: at most 1 MiB of GBNF text.
    public static let grammarBytes = 1 << 20
    /// `reasoning_budget`: 0 (close the thinking at once)…2²⁴ thinking tokens.
    public static let reasoningBudget = IntegerBounds(0, tokenLimit)
    /// A message's `chunks`: at most 256.
    public static let contentChunks = 256
}

/// A closed range of integers a field accepts.
public struct IntegerBounds: Sendable, Hashable, CustomStringConvertible {
    public let lower: Int
    public let upper: Int

    public init(_ lower: Int, _ upper: Int) {
        self.lower = lower
        self.upper = upper
    }

    public func contains(_ value: Int) -> Bool { value >= lower && value <= upper }

    /// The same bounds with the upper one lowered to `upper` (never below `lower`).
    public func capped(at upper: Int) -> IntegerBounds { IntegerBounds(lower, Swift.max(lower, Swift.min(self.upper, upper))) }

    public var description: String { "\(lower)…\(upper)" }
}

/// A range of finite numbers a field accepts; either end may be open.
public struct FloatBounds: Sendable, Hashable, CustomStringConvertible {
    public let lower: Double
    public let upper: Double
    public let lowerOpen: Bool
    public let upperOpen: Bool

    public init(_ lower: Double, _ upper: Double, lowerOpen: Bool = false, upperOpen: Bool = false) {
        self.lower = lower
        self.upper = upper
        self.lowerOpen = lowerOpen
        self.upperOpen = upperOpen
    }

    /// Whether `value` is finite and in range (NaN and ±∞ never are).
    public func contains(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        let aboveLower = lowerOpen ? value > lower : value >= lower
        let belowUpper = upperOpen ? value < upper : value <= upper
        return aboveLower && belowUpper
    }

    public var description: String {
        func number(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)" }
        return (lowerOpen ? "(" : "[") + number(lower) + ", " + number(upper) + (upperOpen ? ")" : "]")
    }
}

extension KeyedDecodingContainer {
    /// An optional integer field, refused unless it is an integer within `bounds`.
    ///
    /// - Throws: `DecodingError.dataCorrupted` at the field's path, naming the range (the caller's
    ///   `VarlinkCall.parameters` turns it into `InvalidParameter`).
    public func decodeIfPresent(_ key: Key, within bounds: IntegerBounds) throws -> Int? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        let value: Int64
        do {
            value = try decode(Int64.self, forKey: key)
        } catch {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "\(Self.sent(self, key)) is not an integer in \(bounds)")
        }
        guard value >= Int64(bounds.lower), value <= Int64(bounds.upper) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "\(value) is not in \(bounds)")
        }
        return Int(value)
    }

    /// An optional number field, refused unless it is a finite number within `bounds`.
    ///
    /// - Throws: `DecodingError.dataCorrupted` at the field's path, naming the range.
    public func decodeIfPresent(_ key: Key, within bounds: FloatBounds) throws -> Double? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        let value: Double
        do {
            value = try decode(Double.self, forKey: key)
        } catch {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "\(Self.sent(self, key)) is not a number in \(bounds)")
        }
        guard bounds.contains(value) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "\(value) is not in \(bounds)")
        }
        return value
    }

    /// What a client sent that did not decode as a number in range, for the error message.
    static func sent(_ container: Self, _ key: Key) -> String {
        if let value = try? container.decode(Double.self, forKey: key) { return "\(value)" }
        if (try? container.decode(String.self, forKey: key)) != nil { return "a string" }
        if (try? container.decode(Bool.self, forKey: key)) != nil { return "a boolean" }
        return "the value"
    }
}
