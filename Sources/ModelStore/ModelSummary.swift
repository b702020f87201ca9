public import GGUF

/// What a model file is, read from its GGUF header: the columns of `brise models`.
///
/// Built from the metadata and the tensor table only; no tensor byte is read, so summarising a
/// multi-GB file costs a few page reads.
public struct ModelSummary: Sendable, Hashable {
    /// Where `quantization` came from.
    public enum QuantizationSource: String, Sendable, Hashable {
        /// `general.file_type`, llama.cpp's name for the file's quantization mix (`Q4_K_M`).
        case fileType = "general.file_type"
        /// No usable `general.file_type`: the tensor type holding the most bytes.
        case dominantTensorType = "tensors"
    }

    /// `general.name`, when the file has one.
    public var name: String?
    /// `general.architecture` (`mistral3`, `llama`, `qwen2`, `gemma3`, …), when the file has one.
    public var architecture: String?
    /// The quantization's short name (`Q4_K_M`, `Q8_0`, `F16`), when there are tensors or a file type.
    public var quantization: String?
    /// Where `quantization` came from.
    public var quantizationSource: QuantizationSource?
    /// The number of parameters: the elements of every tensor in the file.
    public var parameterCount: Int
    /// The bytes of tensor data (what a load maps as weights).
    public var tensorBytes: Int

    /// Summarises a parsed file.
    ///
    /// Metadata of the wrong type is left out (the summary is best-effort, as `brise inspect`'s is);
    /// the parse itself already refused malformed files.
    ///
    /// - Parameter file: The parsed file.
    public init(file: GGUFFile) {
        let metadata = file.metadata
        name = try? metadata.string("general.name")
        architecture = try? metadata.string("general.architecture")
        parameterCount = file.tensors.reduce(0) { $0 &+ $1.elementCount }
        tensorBytes = file.tensorByteCount
        if let fileType = try? metadata.integer("general.file_type"),
            let short = Self.quantizationName(fileType: fileType)
        {
            quantization = short
            quantizationSource = .fileType
        } else if let dominant = Self.dominantType(file.tensors) {
            quantization = dominant.name
            quantizationSource = .dominantTensorType
        }
    }

    /// The short quantization name for a `general.file_type` value: llama.cpp's `llama_ftype` name
    /// without its `MOSTLY_`/`ALL_` prefix (15 → `Q4_K_M`, 0 → `F32`).
    ///
    /// - Parameter fileType: The stored value. llama.cpp's `GUESSED` flag (1024) is ignored.
    /// - Returns: The name, or `nil` for a value llama.cpp does not define.
    public static func quantizationName(fileType: Int) -> String? {
        let value = fileType >= 1024 && fileType < 2048 ? fileType - 1024 : fileType
        guard let name = GGUFFileType.name(of: value), name != "GUESSED" else { return nil }
        for prefix in ["MOSTLY_", "ALL_"] where name.hasPrefix(prefix) {
            return String(name.dropFirst(prefix.count))
        }
        return name
    }

    /// The tensor type that holds the most bytes (ties go to the type that comes first by name).
    ///
    /// - Parameter tensors: A file's tensors.
    /// - Returns: The type, or `nil` without tensors.
    public static func dominantType(_ tensors: [GGUFTensorInfo]) -> GGMLType? {
        var bytes: [GGMLType: Int] = [:]
        for tensor in tensors { bytes[tensor.type, default: 0] &+= tensor.byteCount }
        return bytes.max { ($0.value, $1.key.name) < ($1.value, $0.key.name) }?.key
    }
}
