/// A GGUF file's metadata: key-value pairs in file order, with typed look-ups.
///
/// Look-ups are lenient about integer width (a `UINT32` key stored as `INT32` or `UINT64` still reads
/// as an integer) and strict about kind: a string where a number is expected is an error naming
/// the key and its offset, never a silent default.
public struct GGUFMetadata: Sendable {
    /// One key-value pair.
    public struct Entry: Sendable {
        /// The key.
        public let key: String
        /// The value.
        public let value: GGUFValue
        /// Where the pair starts in the file.
        public let offset: Int
    }

    /// The pairs in file order.
    public let entries: [Entry]
    private let index: [String: Int]

    init(entries: [Entry], index: [String: Int]) {
        self.entries = entries
        self.index = index
    }

    /// The number of pairs.
    public var count: Int { entries.count }

    /// The value for `key`, or `nil`.
    public subscript(key: String) -> GGUFValue? {
        index[key].map { entries[$0].value }
    }

    /// Whether `key` is present.
    public func contains(_ key: String) -> Bool { index[key] != nil }

    private func entry(_ key: String) -> Entry? { index[key].map { entries[$0] } }

    private func wrongType(_ entry: Entry, expected: String) -> GGUFError {
        GGUFError(
            .wrongValueType, "metadata key \(entry.key) is \(entry.value.type), expected \(expected)",
            offset: entry.offset)
    }

    /// The string at `key`, or `nil` when absent.
    ///
    /// - Parameter key: The key.
    /// - Throws: `GGUFError` `.wrongValueType` when the value is not a string.
    public func string(_ key: String) throws -> String? {
        guard let entry = entry(key) else { return nil }
        guard let value = entry.value.stringValue else { throw wrongType(entry, expected: "STRING") }
        return value
    }

    /// The integer at `key` (any integer width), or `nil` when absent.
    ///
    /// - Parameter key: The key.
    /// - Throws: `GGUFError` `.wrongValueType` when the value is not an integer, `.invalidValue` when it
    ///   does not fit in `Int`.
    public func integer(_ key: String) throws -> Int? {
        guard let entry = entry(key) else { return nil }
        if let value = entry.value.integerValue { return value }
        if entry.value.type == .uint64 {
            throw GGUFError(.invalidValue, "metadata key \(key) is too large", offset: entry.offset)
        }
        throw wrongType(entry, expected: "an integer")
    }

    /// The number at `key` (floats, or integers converted), or `nil` when absent.
    ///
    /// - Parameter key: The key.
    /// - Throws: `GGUFError` `.wrongValueType` when the value is not a number.
    public func number(_ key: String) throws -> Double? {
        guard let entry = entry(key) else { return nil }
        guard let value = entry.value.numericValue else { throw wrongType(entry, expected: "a number") }
        return value
    }

    /// The bool at `key`, or `nil` when absent.
    ///
    /// - Parameter key: The key.
    /// - Throws: `GGUFError` `.wrongValueType` when the value is not a bool.
    public func bool(_ key: String) throws -> Bool? {
        guard let entry = entry(key) else { return nil }
        guard let value = entry.value.boolValue else { throw wrongType(entry, expected: "BOOL") }
        return value
    }

    /// The array at `key`, or `nil` when absent.
    ///
    /// - Parameter key: The key.
    /// - Throws: `GGUFError` `.wrongValueType` when the value is not an array.
    public func array(_ key: String) throws -> GGUFArray? {
        guard let entry = entry(key) else { return nil }
        guard let value = entry.value.arrayValue else { throw wrongType(entry, expected: "ARRAY") }
        return value
    }

    /// Where the pair for `key` starts in the file, for error messages.
    public func offset(of key: String) -> Int? { entry(key)?.offset }
}
