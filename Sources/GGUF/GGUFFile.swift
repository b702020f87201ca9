/// A parsed GGUF file (version 2 or 3): header, metadata, tensor table and data section.
///
/// Everything is validated before any tensor byte is touched: counts and lengths against
/// `GGUFParsingLimits` and the file size, `general.alignment`, every tensor's shape, type, size and
/// offset (inside the data section, aligned, not overlapping another). A malformed file throws a
/// `GGUFError` naming the byte offset; nothing here traps on hostile input.
///
/// Reading a multi-GB model touches only the header pages: tensor data stays unread in the mapping.
public struct GGUFFile: Sendable {
    /// The mapped file. Tensors and arrays read from it; it stays mapped while anything holds it.
    public let file: MappedFile
    /// The format version (2 or 3).
    public let version: UInt32
    /// The metadata, in file order.
    public let metadata: GGUFMetadata
    /// The tensor infos, in file order.
    public let tensors: [GGUFTensorInfo]
    /// The alignment of the data section and of every tensor in it.
    public let alignment: Int
    /// Where the data section starts in the file.
    public let dataOffset: Int
    private let tensorIndex: [String: Int]

    /// The GGUF magic, `"GGUF"` as a little-endian u32.
    public static let magic: UInt32 = 0x4655_4747
    /// The alignment when `general.alignment` is absent.
    public static let defaultAlignment = 32

    /// Maps and parses the file at `path`.
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - limits: Bounds on counts and lengths.
    /// - Throws: `GGUFError`.
    public init(path: String, limits: GGUFParsingLimits = .default) throws {
        try self.init(file: MappedFile(path: path), limits: limits)
    }

    /// Parses an already mapped file.
    ///
    /// - Parameters:
    ///   - file: The mapping.
    ///   - limits: Bounds on counts and lengths.
    /// - Throws: `GGUFError`.
    public init(file: MappedFile, limits: GGUFParsingLimits = .default) throws {
        self.file = file
        let parsed = try file.withUnsafeBytes { bytes in
            try Parser(file: file, bytes: bytes, limits: limits).parse()
        }
        version = parsed.version
        metadata = parsed.metadata
        tensors = parsed.tensors
        alignment = parsed.alignment
        dataOffset = parsed.dataOffset
        tensorIndex = parsed.tensorIndex
    }

    /// The size of the file in bytes.
    public var fileSize: Int { file.count }

    /// The bytes from the data section's start to the end of the file.
    public var dataSize: Int { Swift.max(0, file.count - dataOffset) }

    /// The total bytes of all tensors (what is mapped for weights).
    public var tensorByteCount: Int { tensors.reduce(0) { $0 + $1.byteCount } }

    /// The tensor named `name`, or `nil`.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// Calls `body` with a tensor's bytes in the mapping.
    ///
    /// - Parameters:
    ///   - tensor: A tensor of this file.
    ///   - body: Reads the bytes; they must not escape it.
    /// - Returns: What `body` returns.
    /// - Warning: The pointer is valid only during the call.
    public func withTensorBytes<Result, Failure: Error>(
        _ tensor: GGUFTensorInfo, _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        // The range was checked against the file when the table was parsed; check again that the
        // tensor belongs to this file, since a caller could pass another file's info.
        precondition(tensor.fileRange.upperBound <= file.count, "tensor \(tensor.name) is not from this file")
        return try file.withUnsafeBytes { (bytes) throws(Failure) -> Result in
            try body(UnsafeRawBufferPointer(rebasing: bytes[tensor.fileRange]))
        }
    }
}

// MARK: - Parsing

extension GGUFFile {
    fileprivate struct Parsed {
        var version: UInt32
        var metadata: GGUFMetadata
        var tensors: [GGUFTensorInfo]
        var alignment: Int
        var dataOffset: Int
        var tensorIndex: [String: Int]
    }

    fileprivate struct Parser {
        let file: MappedFile
        let bytes: UnsafeRawBufferPointer
        let limits: GGUFParsingLimits

        func parse() throws -> Parsed {
            var cursor = ByteCursor(bytes: bytes, position: 0)
            let magic = try cursor.read(UInt32.self, "the magic")
            guard magic == GGUFFile.magic else {
                throw GGUFError(.badMagic, "not a GGUF file (magic 0x\(String(magic, radix: 16)))", offset: 0)
            }
            let version = try cursor.read(UInt32.self, "the version")
            guard version == 2 || version == 3 else {
                // A byte-swapped version means a big-endian file, which ggml also refuses.
                throw GGUFError(
                    .unsupportedVersion, "GGUF version \(version) is not supported (only 2 and 3)", offset: 4)
            }
            let tensorCount = try readCount(&cursor, "tensor count", limit: limits.maxTensorCount)
            let metadataCount = try readCount(&cursor, "metadata count", limit: limits.maxMetadataCount)

            let metadata = try readMetadata(&cursor, count: metadataCount)
            let alignment = try readAlignment(metadata)
            let infos = try readTensorInfos(&cursor, count: tensorCount)

            let (padded, overflow) = cursor.position.addingReportingOverflow(alignment - 1)
            guard !overflow else { throw GGUFError(.truncated, "header too large", offset: cursor.position) }
            let dataOffset = padded / alignment * alignment
            let (tensors, index) = try placeTensors(infos, dataOffset: dataOffset, alignment: alignment)
            return Parsed(
                version: version, metadata: metadata, tensors: tensors, alignment: alignment,
                dataOffset: dataOffset, tensorIndex: index)
        }

        private func readCount(_ cursor: inout ByteCursor, _ what: String, limit: Int) throws -> Int {
            let start = cursor.position
            let raw = try cursor.read(UInt64.self, "the \(what)")
            // Stored as int64 by ggml: a value with the top bit set is negative, and refused.
            guard raw <= UInt64(limit) else {
                let shown = raw > UInt64(Int64.max) ? "\(Int64(bitPattern: raw))" : "\(raw)"
                throw GGUFError(.limitExceeded, "\(what) \(shown) is over the limit of \(limit)", offset: start)
            }
            return Int(raw)
        }

        private func readMetadata(_ cursor: inout ByteCursor, count: Int) throws -> GGUFMetadata {
            // Each pair needs at least 8 (key length) + 4 (type) + 1 byte.
            guard count <= cursor.remaining / 13 else {
                throw GGUFError(
                    .truncated, "\(count) metadata pairs cannot fit in the \(cursor.remaining) bytes left",
                    offset: cursor.position)
            }
            var decoder = GGUFValueDecoder(file: file, limits: limits)
            var entries: [GGUFMetadata.Entry] = []
            var index: [String: Int] = [:]
            entries.reserveCapacity(count)
            for number in 0..<count {
                let start = cursor.position
                let key = try cursor.readUTF8String(limit: limits.maxKeyLength, "metadata key #\(number)")
                guard index[key] == nil else {
                    throw GGUFError(.duplicateKey, "metadata key \(key) appears twice", offset: start)
                }
                let type = try decoder.readValueType(at: &cursor, "metadata key \(key)")
                let value = try decoder.readValue(of: type, at: &cursor, depth: 0)
                index[key] = entries.count
                entries.append(.init(key: key, value: value, offset: start))
            }
            return GGUFMetadata(entries: entries, index: index)
        }

        private func readAlignment(_ metadata: GGUFMetadata) throws -> Int {
            guard let value = metadata["general.alignment"] else { return GGUFFile.defaultAlignment }
            let offset = metadata.offset(of: "general.alignment")
            // ggml requires a UINT32 power of two; so do we, so both read the same tensor offsets.
            guard case .uint32(let alignment) = value else {
                throw GGUFError(
                    .invalidAlignment, "general.alignment is \(value.type), expected UINT32", offset: offset)
            }
            guard alignment > 0, alignment & (alignment - 1) == 0 else {
                throw GGUFError(
                    .invalidAlignment, "general.alignment \(alignment) is not a power of two", offset: offset)
            }
            return Int(alignment)
        }

        private struct RawTensorInfo {
            var name: String
            var dimensions: [Int]
            var type: GGMLType
            var offset: UInt64
            var byteCount: Int
            var infoOffset: Int
        }

        private func readTensorInfos(_ cursor: inout ByteCursor, count: Int) throws -> [RawTensorInfo] {
            // Each info needs at least 8 (name length) + 4 (dims) + 4 (type) + 8 (offset) bytes.
            guard count <= cursor.remaining / 24 else {
                throw GGUFError(
                    .truncated, "\(count) tensor infos cannot fit in the \(cursor.remaining) bytes left",
                    offset: cursor.position)
            }
            var infos: [RawTensorInfo] = []
            infos.reserveCapacity(count)
            for number in 0..<count {
                let start = cursor.position
                let name = try cursor.readUTF8String(limit: limits.maxKeyLength, "the name of tensor #\(number)")
                let dimensionCount = try cursor.read(UInt32.self, "the dimension count of tensor \(name)")
                guard (1...4).contains(dimensionCount) else {
                    throw GGUFError(
                        .invalidTensor, "tensor \(name) has \(dimensionCount) dimensions (1 to 4 allowed)",
                        offset: start)
                }
                var dimensions: [Int] = []
                var elements = 1
                for axis in 0..<Int(dimensionCount) {
                    let raw = try cursor.read(UInt64.self, "dimension \(axis) of tensor \(name)")
                    guard raw <= UInt64(Int64.max) else {
                        throw GGUFError(
                            .invalidTensor, "tensor \(name) dimension \(axis) is negative (\(Int64(bitPattern: raw)))",
                            offset: start)
                    }
                    let size = Int(raw)
                    let (product, overflow) = elements.multipliedReportingOverflow(by: size)
                    guard !overflow else {
                        throw GGUFError(.invalidTensor, "tensor \(name) has too many elements", offset: start)
                    }
                    elements = product
                    dimensions.append(size)
                }
                let typeID = try cursor.read(UInt32.self, "the type of tensor \(name)")
                guard let type = GGMLType(id: typeID) else {
                    throw GGUFError(.unknownTensorType, "tensor \(name) has unknown ggml type \(typeID)", offset: start)
                }
                guard dimensions[0] % type.blockSize == 0 else {
                    throw GGUFError(
                        .invalidTensor,
                        "tensor \(name): row of \(dimensions[0]) elements is not a whole number of \(type) blocks of \(type.blockSize)",
                        offset: start)
                }
                guard let byteCount = type.byteCount(forElements: elements) else {
                    throw GGUFError(.invalidTensor, "tensor \(name) is too large", offset: start)
                }
                let offset = try cursor.read(UInt64.self, "the offset of tensor \(name)")
                infos.append(
                    RawTensorInfo(
                        name: name, dimensions: dimensions, type: type, offset: offset, byteCount: byteCount,
                        infoOffset: start))
            }
            return infos
        }

        private func placeTensors(
            _ infos: [RawTensorInfo], dataOffset: Int, alignment: Int
        ) throws -> ([GGUFTensorInfo], [String: Int]) {
            let dataSize = bytes.count - dataOffset  // may be negative for a file with no tensor data
            var tensors: [GGUFTensorInfo] = []
            var index: [String: Int] = [:]
            tensors.reserveCapacity(infos.count)
            for info in infos {
                guard index[info.name] == nil else {
                    throw GGUFError(.duplicateTensor, "tensor \(info.name) appears twice", offset: info.infoOffset)
                }
                guard info.offset % UInt64(alignment) == 0 else {
                    throw GGUFError(
                        .misalignedTensor,
                        "tensor \(info.name) offset \(info.offset) is not a multiple of the alignment \(alignment)",
                        offset: info.infoOffset)
                }
                // offset + byteCount <= dataSize, without overflow: compare against what is left.
                guard dataSize >= 0, info.offset <= UInt64(dataSize),
                    info.byteCount <= dataSize - Int(info.offset)
                else {
                    throw GGUFError(
                        .tensorOutOfBounds,
                        "tensor \(info.name) (\(info.byteCount) bytes at data offset \(info.offset)) "
                            + "ends past the end of the file (data section is \(Swift.max(0, dataSize)) bytes)",
                        offset: info.infoOffset)
                }
                let offset = Int(info.offset)
                index[info.name] = tensors.count
                tensors.append(
                    GGUFTensorInfo(
                        name: info.name, dimensions: info.dimensions, type: info.type, offset: offset,
                        absoluteOffset: dataOffset + offset, byteCount: info.byteCount, infoOffset: info.infoOffset))
            }
            try checkNoOverlap(tensors)
            return (tensors, index)
        }

        private func checkNoOverlap(_ tensors: [GGUFTensorInfo]) throws {
            let sorted = tensors.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
            for (previous, next) in zip(sorted, sorted.dropFirst())
            where next.offset < previous.offset + previous.byteCount {
                throw GGUFError(
                    .overlappingTensors,
                    "tensor \(next.name) (data offset \(next.offset)) overlaps tensor \(previous.name) "
                        + "(data offset \(previous.offset), \(previous.byteCount) bytes)",
                    offset: next.infoOffset)
            }
        }
    }
}
