/// The type of a GGUF metadata value (`enum gguf_type`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0
    case int8 = 1
    case uint16 = 2
    case int16 = 3
    case uint32 = 4
    case int32 = 5
    case float32 = 6
    case bool = 7
    case string = 8
    case array = 9
    case uint64 = 10
    case int64 = 11
    case float64 = 12

    /// The name gguf-py uses (`UINT32`, `ARRAY`, …).
    public var name: String {
        switch self {
        case .uint8: "UINT8"
        case .int8: "INT8"
        case .uint16: "UINT16"
        case .int16: "INT16"
        case .uint32: "UINT32"
        case .int32: "INT32"
        case .float32: "FLOAT32"
        case .bool: "BOOL"
        case .string: "STRING"
        case .array: "ARRAY"
        case .uint64: "UINT64"
        case .int64: "INT64"
        case .float64: "FLOAT64"
        }
    }

    public var description: String { name }

    /// The encoded size of one value, or `nil` for strings and arrays (variable length).
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }
}

/// A GGUF metadata value.
///
/// Scalars and strings are decoded when the file is read. Arrays stay in the mapped file and are
/// decoded on demand (`GGUFArray`), because a vocabulary is hundreds of thousands of strings and
/// most callers need only a few keys.
public enum GGUFValue: Sendable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array(GGUFArray)
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// The value's type.
    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    /// The value as an integer, if it is an integer of any width that fits in `Int`.
    public var integerValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// The value as a `Double`, if it is a number (integers convert).
    public var numericValue: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        case .uint64(let v): Double(v)
        case .int64(let v): Double(v)
        default: integerValue.map(Double.init)
        }
    }

    /// The value as a string, if it is one.
    public var stringValue: String? {
        if case .string(let v) = self { v } else { nil }
    }

    /// The value as a bool, if it is one.
    public var boolValue: Bool? {
        if case .bool(let v) = self { v } else { nil }
    }

    /// The value as an array, if it is one.
    public var arrayValue: GGUFArray? {
        if case .array(let v) = self { v } else { nil }
    }
}

/// A GGUF metadata array, read lazily from the mapped file.
///
/// The parser has already checked that every element lies inside the file, so decoding cannot read
/// out of bounds; it still throws rather than traps if the bytes disagree.
public struct GGUFArray: Sendable {
    /// The type of every element.
    public let elementType: GGUFValueType
    /// The number of elements.
    public let count: Int
    /// Where the elements start in the file.
    public let elementsOffset: Int
    /// Where the elements end in the file.
    public let endOffset: Int
    let file: MappedFile
    let nestingDepth: Int

    /// Whether the array has no elements.
    public var isEmpty: Bool { count == 0 }

    /// Calls `body` with each element, in order, decoding as it goes.
    ///
    /// - Parameter body: Receives the index and the element; return `false` to stop early.
    /// - Throws: `GGUFError` if the bytes are malformed, or what `body` throws.
    public func forEach(_ body: (Int, GGUFValue) throws -> Bool) throws {
        try file.withUnsafeBytes { bytes in
            var cursor = ByteCursor(bytes: bytes, position: elementsOffset)
            var decoder = GGUFValueDecoder(file: file, limits: .unlimited)
            for index in 0..<count {
                let value = try decoder.readValue(of: elementType, at: &cursor, depth: nestingDepth + 1)
                guard try body(index, value) else { return }
            }
        }
    }

    /// The first `n` elements (all of them when the array is shorter).
    ///
    /// - Parameter n: How many elements to decode.
    /// - Returns: The decoded elements.
    /// - Throws: `GGUFError` if the bytes are malformed.
    public func prefix(_ n: Int) throws -> [GGUFValue] {
        var values: [GGUFValue] = []
        values.reserveCapacity(Swift.max(0, Swift.min(n, count)))
        guard n > 0 else { return values }
        try forEach { _, value in
            values.append(value)
            return values.count < n
        }
        return values
    }

    /// All elements, decoded.
    ///
    /// - Returns: The elements.
    /// - Throws: `GGUFError` if the bytes are malformed.
    public func values() throws -> [GGUFValue] {
        try prefix(count)
    }

    /// The raw bytes of each element of a string array, without UTF-8 decoding.
    ///
    /// Tokenizers want bytes: a vocabulary entry need not be valid UTF-8 on its own.
    ///
    /// - Parameter body: Receives the index and the string's bytes (valid only during the call).
    /// - Throws: `GGUFError` with `.wrongValueType` if the elements are not strings.
    public func forEachStringBytes(_ body: (Int, UnsafeRawBufferPointer) throws -> Void) throws {
        guard elementType == .string else {
            throw GGUFError(.wrongValueType, "array holds \(elementType), not STRING", offset: elementsOffset)
        }
        try file.withUnsafeBytes { bytes in
            var cursor = ByteCursor(bytes: bytes, position: elementsOffset)
            for index in 0..<count {
                let range = try cursor.readStringRange(limit: Int.max)
                try body(index, UnsafeRawBufferPointer(rebasing: bytes[range]))
            }
        }
    }

    /// All elements of a string array as Swift strings (invalid UTF-8 repaired with U+FFFD).
    ///
    /// - Returns: The strings.
    /// - Throws: `GGUFError` with `.wrongValueType` if the elements are not strings.
    public func strings() throws -> [String] {
        var result: [String] = []
        result.reserveCapacity(count)
        try forEachStringBytes { _, bytes in result.append(String(decoding: bytes, as: UTF8.self)) }
        return result
    }

    /// All elements of an integer array (of any integer width) as `Int`.
    ///
    /// - Returns: The integers.
    /// - Throws: `GGUFError` with `.wrongValueType` if the elements are not integers, or
    ///   `.invalidValue` if one does not fit in `Int`.
    public func integers() throws -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(count)
        try forEach { index, value in
            guard let int = value.integerValue else {
                throw GGUFError(
                    value.type == .uint64 ? .invalidValue : .wrongValueType,
                    "element \(index) (\(value.type)) is not an integer that fits in Int", offset: elementsOffset)
            }
            result.append(int)
            return true
        }
        return result
    }

    /// All elements of a numeric array as `Float` (integers convert, as llama.cpp accepts INT32 scores).
    ///
    /// - Returns: The numbers.
    /// - Throws: `GGUFError` with `.wrongValueType` if the elements are not numbers.
    public func floats() throws -> [Float] {
        var result: [Float] = []
        result.reserveCapacity(count)
        try forEach { index, value in
            guard let number = value.numericValue else {
                throw GGUFError(.wrongValueType, "element \(index) (\(value.type)) is not a number", offset: elementsOffset)
            }
            result.append(Float(number))
            return true
        }
        return result
    }
}
