import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes GGUF files (version 3 by default): metadata, a tensor table, and aligned tensor data.
///
/// Used by tests to build valid, truncated and hostile files, and by quantization later. Tensors
/// added without bytes are zero-filled; `write(to:)` leaves them as holes, so a multi-GB model-shaped
/// file costs no disk and no time.
public struct GGUFWriter: Sendable {
    /// A metadata value to write.
    public indirect enum Value: Sendable {
        case uint8(UInt8)
        case int8(Int8)
        case uint16(UInt16)
        case int16(Int16)
        case uint32(UInt32)
        case int32(Int32)
        case float32(Float)
        case bool(Bool)
        case string(String)
        case uint64(UInt64)
        case int64(Int64)
        case float64(Double)
        /// An array whose elements all have `elementType` (checked when written).
        case array(elementType: GGUFValueType, [Value])

        /// An array of strings.
        public static func strings(_ values: [String]) -> Value { .array(elementType: .string, values.map { .string($0) }) }
        /// An array of INT32.
        public static func int32s(_ values: [Int32]) -> Value { .array(elementType: .int32, values.map { .int32($0) }) }
        /// An array of FLOAT32.
        public static func float32s(_ values: [Float]) -> Value {
            .array(elementType: .float32, values.map { .float32($0) })
        }

        var type: GGUFValueType {
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
            case .uint64: .uint64
            case .int64: .int64
            case .float64: .float64
            case .array: .array
            }
        }
    }

    private struct Tensor: Sendable {
        var name: String
        var dimensions: [Int]
        var type: GGMLType
        var data: [UInt8]?  // nil: zero-filled
        var byteCount: Int
    }

    /// The version written in the header (2 and 3 share one layout on little-endian machines).
    public var version: UInt32
    /// The data alignment. When not 32, `general.alignment` is written as UINT32 unless already added.
    public var alignment: Int
    private var metadata: [(key: String, value: Value)] = []
    private var tensors: [Tensor] = []

    /// Creates an empty writer.
    ///
    /// - Parameters:
    ///   - version: The header version.
    ///   - alignment: The data alignment, a power of two.
    public init(version: UInt32 = 3, alignment: Int = GGUFFile.defaultAlignment) {
        self.version = version
        self.alignment = alignment
    }

    /// Adds a metadata pair (in order; a repeated key replaces the earlier value in place).
    ///
    /// - Parameters:
    ///   - key: The key.
    ///   - value: The value.
    public mutating func add(_ key: String, _ value: Value) {
        if let index = metadata.firstIndex(where: { $0.key == key }) {
            metadata[index].value = value
        } else {
            metadata.append((key, value))
        }
    }

    /// Adds a tensor.
    ///
    /// - Parameters:
    ///   - name: The tensor's name.
    ///   - dimensions: The dimensions in ggml order (1 to 4; the first a whole number of blocks).
    ///   - type: The element type.
    ///   - data: The tensor's bytes, exactly its size; `nil` for zeros.
    /// - Throws: `GGUFError` `.invalidTensor` when the shape, type and byte count disagree, or
    ///   `.duplicateTensor` for a repeated name.
    public mutating func addTensor(name: String, dimensions: [Int], type: GGMLType, data: [UInt8]? = nil) throws {
        guard (1...4).contains(dimensions.count), dimensions.allSatisfy({ $0 >= 0 }) else {
            throw GGUFError(.invalidTensor, "tensor \(name): bad dimensions \(dimensions)")
        }
        var elements = 1
        for size in dimensions {
            let (product, overflow) = elements.multipliedReportingOverflow(by: size)
            guard !overflow else { throw GGUFError(.invalidTensor, "tensor \(name) is too large") }
            elements = product
        }
        guard dimensions[0] % type.blockSize == 0, let byteCount = type.byteCount(forElements: elements) else {
            throw GGUFError(
                .invalidTensor, "tensor \(name): \(dimensions[0]) is not a whole number of \(type) blocks")
        }
        if let data, data.count != byteCount {
            throw GGUFError(.invalidTensor, "tensor \(name) needs \(byteCount) bytes, got \(data.count)")
        }
        guard !tensors.contains(where: { $0.name == name }) else {
            throw GGUFError(.duplicateTensor, "tensor \(name) added twice")
        }
        tensors.append(Tensor(name: name, dimensions: dimensions, type: type, data: data, byteCount: byteCount))
    }

    // MARK: - Output

    /// The header, metadata and tensor table, padded to the alignment (everything before the data).
    ///
    /// - Returns: The bytes.
    /// - Throws: `GGUFError` `.invalidAlignment` or `.wrongValueType` for values that cannot be written.
    public func headerBytes() throws -> [UInt8] {
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw GGUFError(.invalidAlignment, "alignment \(alignment) is not a power of two")
        }
        var entries = metadata
        if alignment != GGUFFile.defaultAlignment, !entries.contains(where: { $0.key == "general.alignment" }) {
            entries.append(("general.alignment", .uint32(UInt32(alignment))))
        }
        var out: [UInt8] = []
        out.append(contentsOf: GGUFFile.magic.littleEndianBytes)
        out.append(contentsOf: version.littleEndianBytes)
        out.append(contentsOf: UInt64(tensors.count).littleEndianBytes)
        out.append(contentsOf: UInt64(entries.count).littleEndianBytes)
        for (key, value) in entries {
            Self.appendString(key, to: &out)
            out.append(contentsOf: value.type.rawValue.littleEndianBytes)
            try Self.append(value, to: &out)
        }
        for (tensor, offset) in zip(tensors, dataOffsets()) {
            Self.appendString(tensor.name, to: &out)
            out.append(contentsOf: UInt32(tensor.dimensions.count).littleEndianBytes)
            for size in tensor.dimensions { out.append(contentsOf: UInt64(size).littleEndianBytes) }
            out.append(contentsOf: tensor.type.id.littleEndianBytes)
            out.append(contentsOf: UInt64(offset).littleEndianBytes)
        }
        out.append(contentsOf: repeatElement(0, count: padding(out.count)))
        return out
    }

    /// The whole file in memory.
    ///
    /// - Returns: The bytes.
    /// - Throws: `GGUFError` as `headerBytes()`.
    public func serialized() throws -> [UInt8] {
        var out = try headerBytes()
        for tensor in tensors {
            if let data = tensor.data {
                out.append(contentsOf: data)
            } else {
                out.append(contentsOf: repeatElement(0, count: tensor.byteCount))
            }
            out.append(contentsOf: repeatElement(0, count: padding(tensor.byteCount)))
        }
        return out
    }

    /// Writes the file to `path` (through a temporary file renamed into place).
    ///
    /// Zero-filled tensors become holes in a sparse file.
    ///
    /// - Parameter path: The destination.
    /// - Throws: `GGUFError` `.io` when writing fails.
    public func write(to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let header = try headerBytes()
        do {
            let fd = try FileDescriptor.open(
                FilePath(temporary), .writeOnly, options: [.create, .truncate, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
            try fd.closeAfter {
                try fd.writeAll(header)
                var position = Int64(header.count)
                for (tensor, offset) in zip(tensors, dataOffsets()) {
                    position = Int64(header.count + offset)
                    if let data = tensor.data {
                        _ = try fd.seek(offset: position, from: .start)
                        try fd.writeAll(data)
                    }
                    position += Int64(tensor.byteCount + padding(tensor.byteCount))
                }
                // Extends the file over trailing zero tensors without writing them.
                if ftruncate(fd.rawValue, off_t(position)) != 0 { throw Errno(rawValue: errno) }
            }
            if rename(temporary, path) != 0 { throw Errno(rawValue: errno) }
        } catch {
            unlink(temporary)
            throw GGUFError(.io, "cannot write \(path)", underlying: error)
        }
    }

    private func padding(_ count: Int) -> Int {
        (alignment - count % alignment) % alignment
    }

    private func dataOffsets() -> [Int] {
        var offsets: [Int] = []
        var offset = 0
        for tensor in tensors {
            offsets.append(offset)
            offset += tensor.byteCount + padding(tensor.byteCount)
        }
        return offsets
    }

    private static func appendString(_ string: String, to out: inout [UInt8]) {
        let utf8 = Array(string.utf8)
        out.append(contentsOf: UInt64(utf8.count).littleEndianBytes)
        out.append(contentsOf: utf8)
    }

    private static func append(_ value: Value, to out: inout [UInt8]) throws {
        switch value {
        case .uint8(let v): out.append(v)
        case .int8(let v): out.append(UInt8(bitPattern: v))
        case .uint16(let v): out.append(contentsOf: v.littleEndianBytes)
        case .int16(let v): out.append(contentsOf: v.littleEndianBytes)
        case .uint32(let v): out.append(contentsOf: v.littleEndianBytes)
        case .int32(let v): out.append(contentsOf: v.littleEndianBytes)
        case .float32(let v): out.append(contentsOf: v.bitPattern.littleEndianBytes)
        case .bool(let v): out.append(v ? 1 : 0)
        case .string(let v): appendString(v, to: &out)
        case .uint64(let v): out.append(contentsOf: v.littleEndianBytes)
        case .int64(let v): out.append(contentsOf: v.littleEndianBytes)
        case .float64(let v): out.append(contentsOf: v.bitPattern.littleEndianBytes)
        case .array(let elementType, let elements):
            out.append(contentsOf: elementType.rawValue.littleEndianBytes)
            out.append(contentsOf: UInt64(elements.count).littleEndianBytes)
            for element in elements {
                guard element.type == elementType else {
                    throw GGUFError(.wrongValueType, "array of \(elementType) holds a \(element.type)")
                }
                // A nested array writes its own element type and count.
                try append(element, to: &out)
            }
        }
    }
}

extension FixedWidthInteger {
    /// The value's bytes, least significant first.
    var littleEndianBytes: [UInt8] {
        withUnsafeBytes(of: littleEndian) { Array($0) }
    }
}
