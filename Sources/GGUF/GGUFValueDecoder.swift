/// Reads metadata values from a cursor, checking every length against the limits and the file.
///
/// Arrays are validated (every element walked, nested arrays included) but returned lazily as
/// `GGUFArray`, pointing into the file.
struct GGUFValueDecoder {
    let file: MappedFile
    let limits: GGUFParsingLimits

    func readValueType(at cursor: inout ByteCursor, _ what: @autoclosure () -> String) throws -> GGUFValueType {
        let start = cursor.position
        let raw = try cursor.read(UInt32.self, "the value type of \(what())")
        guard let type = GGUFValueType(rawValue: raw) else {
            throw GGUFError(.invalidValueType, "\(what()) has unknown value type \(raw)", offset: start)
        }
        return type
    }

    mutating func readValue(of type: GGUFValueType, at cursor: inout ByteCursor, depth: Int) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try cursor.read(UInt8.self, "a UINT8 value"))
        case .int8: return .int8(try cursor.read(Int8.self, "an INT8 value"))
        case .uint16: return .uint16(try cursor.read(UInt16.self, "a UINT16 value"))
        case .int16: return .int16(try cursor.read(Int16.self, "an INT16 value"))
        case .uint32: return .uint32(try cursor.read(UInt32.self, "a UINT32 value"))
        case .int32: return .int32(try cursor.read(Int32.self, "an INT32 value"))
        case .float32: return .float32(try cursor.readFloat("a FLOAT32 value"))
        // Any non-zero byte is true, as llama.cpp's and gguf-py's readers take it.
        case .bool: return .bool(try cursor.read(UInt8.self, "a BOOL value") != 0)
        case .uint64: return .uint64(try cursor.read(UInt64.self, "a UINT64 value"))
        case .int64: return .int64(try cursor.read(Int64.self, "an INT64 value"))
        case .float64: return .float64(try cursor.readDouble("a FLOAT64 value"))
        case .string:
            let range = try cursor.readStringRange(limit: limits.maxStringLength, "a string value")
            return .string(String(decoding: UnsafeRawBufferPointer(rebasing: cursor.bytes[range]), as: UTF8.self))
        case .array:
            return .array(try readArray(at: &cursor, depth: depth))
        }
    }

    /// Reads an array header and walks its elements, returning a lazy view of them.
    mutating func readArray(at cursor: inout ByteCursor, depth: Int) throws -> GGUFArray {
        let start = cursor.position
        guard depth < limits.maxArrayNesting else {
            throw GGUFError(
                .limitExceeded, "arrays nest deeper than \(limits.maxArrayNesting) levels", offset: start)
        }
        let elementType = try readValueType(at: &cursor, "an array element")
        let rawCount = try cursor.read(UInt64.self, "an array length")
        guard rawCount <= UInt64(limits.maxArrayCount) else {
            throw GGUFError(
                .limitExceeded, "array of \(rawCount) elements; the limit is \(limits.maxArrayCount)", offset: start)
        }
        let count = Int(rawCount)
        let elementsOffset = cursor.position
        if let size = elementType.fixedSize {
            // Checked division, so a huge count cannot overflow the multiplication.
            guard count <= cursor.remaining / size else {
                throw GGUFError(
                    .truncated,
                    "array of \(count) \(elementType) elements runs past the end of the file (\(cursor.remaining) bytes left)",
                    offset: start)
            }
            try cursor.skip(count * size, "array data")
        } else if elementType == .string {
            // Each string needs at least its 8-byte length: reject impossible counts before walking.
            guard count <= cursor.remaining / 8 else {
                throw GGUFError(
                    .truncated, "array of \(count) strings cannot fit in the \(cursor.remaining) bytes left",
                    offset: start)
            }
            for _ in 0..<count {
                _ = try cursor.readStringRange(limit: limits.maxStringLength, "a string array element")
            }
        } else {
            // Nested arrays: each needs at least a 12-byte header.
            guard count <= cursor.remaining / 12 else {
                throw GGUFError(
                    .truncated, "array of \(count) arrays cannot fit in the \(cursor.remaining) bytes left",
                    offset: start)
            }
            for _ in 0..<count {
                _ = try readArray(at: &cursor, depth: depth + 1)
            }
        }
        return GGUFArray(
            elementType: elementType, count: count, elementsOffset: elementsOffset, endOffset: cursor.position,
            file: file, nestingDepth: depth)
    }
}
