public import GGUF

/// A tokenizer vocabulary read from GGUF metadata (`tokenizer.ggml.*`), with llama.cpp's defaults.
///
/// Holds the token texts exactly as stored (SentencePiece `▁` spaces, GPT-2 byte-to-unicode strings),
/// their attributes and scores, the special ids and the `add_bos` / `add_space_prefix` flags.
public struct Vocabulary: Sendable {
    /// The tokenization algorithm.
    public let model: TokenizerModel
    /// The pre-tokenizer, for byte-level BPE vocabularies.
    public let preTokenizer: PreTokenizer?
    /// Each token's attributes, indexed by id.
    public let attributes: [TokenAttributes]
    /// Each token's score (SentencePiece merge priority; zeros for Tekken), indexed by id.
    public let scores: [Float]
    /// The beginning-of-sequence token.
    public let bos: TokenID?
    /// The end-of-sequence token.
    public let eos: TokenID?
    /// The unknown token.
    public let unknown: TokenID?
    /// The padding token.
    public let padding: TokenID?
    /// Whether encoding with special tokens prepends BOS.
    public let addBOS: Bool
    /// Whether encoding with special tokens appends EOS.
    public let addEOS: Bool
    /// Whether SentencePiece encoding prepends a space to text that starts the input or follows a
    /// special token (and decoding removes it from the first token).
    public let addSpacePrefix: Bool
    /// The chat template (`tokenizer.chat_template`): Jinja text or a bare llama.cpp template name.
    public let chatTemplate: String?
    /// The BPE merges (`"left right"` strings), for byte-level BPE vocabularies, packed end to end:
    /// merge i is `mergeBytes[mergeStarts[i]..<mergeStarts[i + 1]]` (Tekken has 269 443 of them: one
    /// array each took 11 MiB of heap, packed they take 3).
    private let mergeBytes: [UInt8]
    private let mergeStarts: [Int32]

    /// The number of BPE merges.
    var mergeCount: Int { mergeStarts.count - 1 }

    /// Calls `body` with each merge's bytes, in rank order.
    func forEachMerge(_ body: (_ rank: Int, _ text: ArraySlice<UInt8>) -> Void) {
        for rank in 0..<mergeCount {
            body(rank, mergeBytes[Int(mergeStarts[rank])..<Int(mergeStarts[rank + 1])])
        }
    }

    private let textBytes: [UInt8]
    private let textStarts: [Int32]
    /// Token text → id, over every token (llama.cpp's `token_to_id`).
    let textToID: ByteStringTable

    /// The number of tokens.
    public var count: Int { attributes.count }

    /// The stored text of token `id` (bytes; for SentencePiece with `▁`, for BPE byte-to-unicode).
    ///
    /// - Parameter id: A token id in `0..<count`.
    /// - Returns: The bytes, or `nil` for an id outside the vocabulary.
    public func text(of id: TokenID) -> [UInt8]? {
        guard id >= 0, Int(id) < count else { return nil }
        return Array(textBytes[Int(textStarts[Int(id)])..<Int(textStarts[Int(id) + 1])])
    }

    /// Calls `body` with the stored text of token `id`, which must be valid.
    func withText<R>(of id: TokenID, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = Int(textStarts[Int(id)])
        let end = Int(textStarts[Int(id) + 1])
        return try textBytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }

    /// The id of the token whose stored text is exactly `text`, whatever its kind.
    ///
    /// - Parameter text: The token text as stored (e.g. `"[INST]"`, `"<start_of_turn>"`).
    /// - Returns: The id, or `nil`.
    public func id(forText text: String) -> TokenID? {
        var text = text
        return text.withUTF8 { textToID.lookup(UnsafeRawBufferPointer($0)) }
    }

    /// Whether `id` is a control (or unknown) token: structure that plain text never produces.
    public func isControl(_ id: TokenID) -> Bool {
        guard id >= 0, Int(id) < count else { return false }
        return !attributes[Int(id)].isDisjoint(with: [.control, .unknown])
    }

    // MARK: - Reading GGUF

    /// Reads the vocabulary of a GGUF file.
    ///
    /// - Parameter file: The parsed file.
    /// - Throws: `TokenizerError` when the metadata is absent, malformed or names an unsupported
    ///   tokenizer.
    public init(file: GGUFFile) throws {
        try self.init(metadata: file.metadata)
    }

    /// Reads a vocabulary from GGUF metadata.
    ///
    /// - Parameter metadata: The file's metadata.
    /// - Throws: `TokenizerError` when the metadata is absent, malformed or names an unsupported
    ///   tokenizer.
    public init(metadata: GGUFMetadata) throws {
        do {
            try self.init(reading: metadata)
        } catch let error as GGUFError {
            throw TokenizerError(.invalidVocabulary, "cannot read the tokenizer metadata", underlying: error)
        }
    }

    private init(reading metadata: GGUFMetadata) throws {
        guard let modelName = try metadata.string("tokenizer.ggml.model") else {
            throw TokenizerError(.missingVocabulary, "the file has no tokenizer.ggml.model")
        }
        guard let model = TokenizerModel(rawValue: modelName) else {
            throw TokenizerError(.unsupportedModel, "tokenizer.ggml.model \"\(modelName)\" is not supported (llama, gpt2)")
        }
        self.model = model
        guard let tokens = try metadata.array("tokenizer.ggml.tokens"), tokens.elementType == .string else {
            throw TokenizerError(.missingVocabulary, "the file has no string array tokenizer.ggml.tokens")
        }
        let count = tokens.count
        guard count > 0, count < Int(Int32.max) else {
            throw TokenizerError(.invalidVocabulary, "tokenizer.ggml.tokens has \(count) entries")
        }

        var bytes: [UInt8] = []
        var starts: [Int32] = [0]
        starts.reserveCapacity(count + 1)
        var table = ByteStringTable(capacity: count)
        try tokens.forEachStringBytes { index, text in
            // llama.cpp renames empty tokens so that every text is a distinct key.
            if text.isEmpty {
                bytes.append(contentsOf: Array("[EMPTY_\(index)]".utf8))
            } else {
                bytes.append(contentsOf: text)
            }
            // Below 1 GiB, so the BPE encoder's table (these texts and up to 3 × 256 MiB of merge
            // pieces) stays within its 32-bit offsets.
            guard bytes.count < 1 << 30 else {
                throw TokenizerError(.invalidVocabulary, "tokenizer.ggml.tokens is too large")
            }
            let start = Int(starts[index])
            let inserted = bytes.withUnsafeBytes {
                table.insert(UnsafeRawBufferPointer(rebasing: $0[start...]), value: Int32(index))
            }
            guard inserted else {
                throw TokenizerError(.invalidVocabulary, "token \(index) repeats the text of an earlier token")
            }
            starts.append(Int32(bytes.count))
        }
        textBytes = bytes
        textStarts = starts
        textToID = table

        scores = try Self.scores(metadata, count: count)
        var attributes = try Self.attributes(metadata, count: count)

        let isBPE = model == .bytePairEncoding
        if isBPE {
            let preName = try metadata.string("tokenizer.ggml.pre") ?? "default"
            guard let pre = PreTokenizer(ggufName: preName) else {
                throw TokenizerError(.unsupportedPreTokenizer, "tokenizer.ggml.pre \"\(preName)\" is not supported (tekken, qwen2)")
            }
            preTokenizer = pre
            guard let mergeArray = try metadata.array("tokenizer.ggml.merges"), mergeArray.elementType == .string else {
                throw TokenizerError(.missingVocabulary, "a gpt2 vocabulary needs the string array tokenizer.ggml.merges")
            }
            var packed: [UInt8] = []
            var starts: [Int32] = [0]
            starts.reserveCapacity(mergeArray.count + 1)
            // The BPE encoder interns each merge's sides and result next to the token texts, with 32-bit
            // offsets: keep the merges to 256 MiB (real vocabularies have a few MiB).
            try mergeArray.forEachStringBytes { _, text in
                guard packed.count + text.count <= 256 << 20 else {
                    throw TokenizerError(.invalidVocabulary, "tokenizer.ggml.merges holds more than 256 MiB of text")
                }
                packed.append(contentsOf: text)
                starts.append(Int32(packed.count))
            }
            mergeBytes = packed
            mergeStarts = starts
        } else {
            preTokenizer = nil
            mergeBytes = []
            mergeStarts = [0]
        }

        // llama.cpp's defaults per model, then the metadata's values when they are in range.
        func special(_ key: String, default value: TokenID?) throws -> TokenID? {
            let fallback = value.flatMap { Int($0) < count ? $0 : nil }
            guard let stored = try metadata.integer(key) else { return fallback }
            return stored >= 0 && stored < count ? TokenID(stored) : fallback
        }
        bos = try special("tokenizer.ggml.bos_token_id", default: isBPE ? 11 : 1)
        eos = try special("tokenizer.ggml.eos_token_id", default: isBPE ? 11 : 2)
        unknown = try special("tokenizer.ggml.unknown_token_id", default: isBPE ? nil : 0)
        padding = try special("tokenizer.ggml.padding_token_id", default: nil)
        addBOS = try metadata.bool("tokenizer.ggml.add_bos_token") ?? (!isBPE || preTokenizer == .tekken)
        addEOS = try metadata.bool("tokenizer.ggml.add_eos_token") ?? false
        addSpacePrefix = try metadata.bool("tokenizer.ggml.add_space_prefix") ?? !isBPE
        chatTemplate = try metadata.string("tokenizer.chat_template")

        Self.applyLlamaCppOverrides(&attributes, table: table, metadata: metadata)
        self.attributes = attributes
    }

    private static func scores(_ metadata: GGUFMetadata, count: Int) throws -> [Float] {
        guard let array = try metadata.array("tokenizer.ggml.scores") else {
            return Array(repeating: 0, count: count)
        }
        guard array.elementType == .float32 || array.elementType == .int32 else {
            throw TokenizerError(.invalidVocabulary, "tokenizer.ggml.scores holds \(array.elementType), not FLOAT32 or INT32")
        }
        guard array.count >= count else {
            throw TokenizerError(.invalidVocabulary, "tokenizer.ggml.scores has \(array.count) entries for \(count) tokens")
        }
        return Array(try array.floats().prefix(count))
    }

    private static func attributes(_ metadata: GGUFMetadata, count: Int) throws -> [TokenAttributes] {
        guard let array = try metadata.array("tokenizer.ggml.token_type") else {
            return Array(repeating: .normal, count: count)
        }
        guard array.elementType == .int32 else {
            throw TokenizerError(.invalidVocabulary, "tokenizer.ggml.token_type holds \(array.elementType), not INT32")
        }
        guard array.count >= count else {
            throw TokenizerError(.invalidVocabulary, "tokenizer.ggml.token_type has \(array.count) entries for \(count) tokens")
        }
        return try array.integers().prefix(count).map { TokenAttributes(ggufTokenType: $0) }
    }
}
