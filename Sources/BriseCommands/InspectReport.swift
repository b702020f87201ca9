import GGUF

/// What `brise inspect` reports about a GGUF file; encodes to the `--json` output.
struct InspectReport: Encodable {
    struct FileType: Encodable {
        var id: Int
        var name: String?
    }

    struct Tokenizer: Encodable {
        var model: String?
        var pre: String?
        var vocabularySize: Int?
        var mergeCount: Int?
        var bosTokenID: Int?
        var eosTokenID: Int?
        var addBOS: Bool?
        var chatTemplateFirstLine: String?
        var chatTemplateBytes: Int?
    }

    struct TypeBytes: Encodable {
        var type: String
        var tensors: Int
        var bytes: Int
    }

    struct KVCache: Encodable {
        var cacheType: String
        var bytesPerToken: Int
        var contextLength: Int
        var bytes: Int
    }

    struct Memory: Encodable {
        /// Bytes of tensor data mapped from the file (the weights).
        var weightBytes: Int
        var kvCache: [KVCache]
    }

    struct Tensor: Encodable {
        var name: String
        var type: String
        var typeId: UInt32
        var shape: [Int]
        var offset: Int
        var absoluteOffset: Int
        var bytes: Int
    }

    var path: String
    var fileSize: Int
    var version: UInt32
    var alignment: Int
    var dataOffset: Int
    var architecture: String?
    var name: String?
    var fileType: FileType?
    var configuration: ModelConfiguration?
    var configurationError: String?
    var tokenizer: Tokenizer
    var tensorCount: Int
    var bytesByType: [TypeBytes]
    var memory: Memory
    var metadata: [MetadataItem]
    var tensors: [Tensor]

    /// How many elements of each array the report shows.
    static let arrayHeadCount = 16

    init(file: GGUFFile, path: String, contextLength: Int?) throws {
        let meta = file.metadata
        self.path = path
        fileSize = file.fileSize
        version = file.version
        alignment = file.alignment
        dataOffset = file.dataOffset
        // Summary fields are best-effort: a key of the wrong type is shown in the metadata list and
        // left out here, rather than hiding the rest of the report.
        architecture = try? meta.string("general.architecture")
        name = try? meta.string("general.name")
        fileType = (try? meta.integer("general.file_type")).map {
            FileType(id: $0, name: GGUFFileType.name(of: $0))
        }
        do {
            configuration = try ModelConfiguration(metadata: meta)
        } catch let error as GGUFError {
            configuration = nil
            configurationError = error.description
        }
        let template = try? meta.string("tokenizer.chat_template")
        tokenizer = Tokenizer(
            model: try? meta.string("tokenizer.ggml.model"),
            pre: try? meta.string("tokenizer.ggml.pre"),
            vocabularySize: (try? meta.array("tokenizer.ggml.tokens"))?.count,
            mergeCount: (try? meta.array("tokenizer.ggml.merges"))?.count,
            bosTokenID: try? meta.integer("tokenizer.ggml.bos_token_id"),
            eosTokenID: try? meta.integer("tokenizer.ggml.eos_token_id"),
            addBOS: try? meta.bool("tokenizer.ggml.add_bos_token"),
            chatTemplateFirstLine: template?.split(separator: "\n", maxSplits: 1).first.map(String.init),
            chatTemplateBytes: template?.utf8.count)
        tensorCount = file.tensors.count

        var byType: [GGMLType: (tensors: Int, bytes: Int)] = [:]
        for tensor in file.tensors {
            byType[tensor.type, default: (0, 0)].tensors += 1
            byType[tensor.type, default: (0, 0)].bytes += tensor.byteCount
        }
        bytesByType = byType.map { TypeBytes(type: $0.key.name, tensors: $0.value.tensors, bytes: $0.value.bytes) }
            .sorted { ($0.bytes, $1.type) > ($1.bytes, $0.type) }

        var kvCache: [KVCache] = []
        if let configuration {
            var contexts = [contextLength ?? 4096]
            if contextLength == nil, configuration.contextLength != 4096 { contexts.append(configuration.contextLength) }
            for type in [GGMLType.f16, .q8_0] {
                guard let perToken = configuration.kvCacheBytesPerToken(cacheType: type) else { continue }
                for context in contexts {
                    guard let bytes = configuration.kvCacheBytes(contextLength: context, cacheType: type) else {
                        continue
                    }
                    kvCache.append(
                        KVCache(cacheType: type.name, bytesPerToken: perToken, contextLength: context, bytes: bytes))
                }
            }
        }
        memory = Memory(weightBytes: file.tensorByteCount, kvCache: kvCache)

        metadata = try meta.entries.map { entry in
            MetadataItem(key: entry.key, value: try MetadataValue(entry.value, headCount: Self.arrayHeadCount))
        }
        tensors = file.tensors.map {
            Tensor(
                name: $0.name, type: $0.type.name, typeId: $0.type.id, shape: $0.dimensions, offset: $0.offset,
                absoluteOffset: $0.absoluteOffset, bytes: $0.byteCount)
        }
    }
}

/// One metadata pair in the JSON report: `{"key", "type", "value"}`, or for an array
/// `{"key", "type": "ARRAY", "elementType", "count", "head": [first elements]}`.
struct MetadataItem: Encodable {
    var key: String
    var value: MetadataValue

    enum CodingKeys: String, CodingKey { case key }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try value.encode(to: encoder)
    }
}

/// A metadata value as the report shows it. Floats are exact (a FLOAT32 widened to a double);
/// NaN and infinities are the strings `"nan"`, `"inf"`, `"-inf"`.
indirect enum MetadataValue: Encodable {
    case scalar(type: GGUFValueType, Scalar)
    case array(elementType: GGUFValueType, count: Int, head: [MetadataValue])

    enum Scalar {
        case int(Int64)
        case uint(UInt64)
        case float(Double)
        case bool(Bool)
        case string(String)
    }

    enum CodingKeys: String, CodingKey { case type, value, elementType, count, head }

    init(_ value: GGUFValue, headCount: Int) throws {
        switch value {
        case .uint8(let v): self = .scalar(type: .uint8, .uint(UInt64(v)))
        case .int8(let v): self = .scalar(type: .int8, .int(Int64(v)))
        case .uint16(let v): self = .scalar(type: .uint16, .uint(UInt64(v)))
        case .int16(let v): self = .scalar(type: .int16, .int(Int64(v)))
        case .uint32(let v): self = .scalar(type: .uint32, .uint(UInt64(v)))
        case .int32(let v): self = .scalar(type: .int32, .int(Int64(v)))
        case .uint64(let v): self = .scalar(type: .uint64, .uint(v))
        case .int64(let v): self = .scalar(type: .int64, .int(v))
        case .float32(let v): self = .scalar(type: .float32, .float(Double(v)))
        case .float64(let v): self = .scalar(type: .float64, .float(v))
        case .bool(let v): self = .scalar(type: .bool, .bool(v))
        case .string(let v): self = .scalar(type: .string, .string(v))
        case .array(let array):
            self = .array(
                elementType: array.elementType, count: array.count,
                head: try array.prefix(headCount).map { try MetadataValue($0, headCount: headCount) })
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .scalar(let type, let scalar):
            try container.encode(type.name, forKey: .type)
            try scalar.encode(into: &container, forKey: .value)
        case .array(let elementType, let count, let head):
            try container.encode("ARRAY", forKey: .type)
            try container.encode(elementType.name, forKey: .elementType)
            try container.encode(count, forKey: .count)
            var list = container.nestedUnkeyedContainer(forKey: .head)
            for element in head {
                switch element {
                case .scalar(_, let scalar): try scalar.encode(into: &list)
                case .array: try list.encode(element)
                }
            }
        }
    }
}

extension MetadataValue.Scalar {
    /// The value as JSON text for a number that JSON cannot hold (`"nan"`, `"inf"`, `"-inf"`).
    private static func nonFinite(_ value: Double) -> String {
        value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf")
    }

    fileprivate func encode<Key: CodingKey>(into container: inout KeyedEncodingContainer<Key>, forKey key: Key) throws {
        switch self {
        case .int(let v): try container.encode(v, forKey: key)
        case .uint(let v): try container.encode(v, forKey: key)
        case .float(let v) where v.isFinite: try container.encode(v, forKey: key)
        case .float(let v): try container.encode(Self.nonFinite(v), forKey: key)
        case .bool(let v): try container.encode(v, forKey: key)
        case .string(let v): try container.encode(v, forKey: key)
        }
    }

    fileprivate func encode(into container: inout any UnkeyedEncodingContainer) throws {
        switch self {
        case .int(let v): try container.encode(v)
        case .uint(let v): try container.encode(v)
        case .float(let v) where v.isFinite: try container.encode(v)
        case .float(let v): try container.encode(Self.nonFinite(v))
        case .bool(let v): try container.encode(v)
        case .string(let v): try container.encode(v)
        }
    }
}
