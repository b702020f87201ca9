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
    /// The BPE merges (`"left right"` strings), for byte-level BPE vocabularies: the file's array,
    /// read in place (Tekken has 269 443 merges; a packed copy of them took 3-5 MiB of heap).
    private let merges: GGUFArray?

    /// The number of BPE merges.
    var mergeCount: Int { merges?.count ?? 0 }

    /// Calls `body` with each merge's bytes, in rank order.
    func forEachMerge(_ body: (_ rank: Int, _ text: UnsafeRawBufferPointer) -> Void) {
        // Every merge was read once, and checked, when the vocabulary was; the mapped bytes do not
        // change, so this read cannot fail (were it to, the merges after the failure are left out).
        try? merges?.forEachStringBytes(body)
    }

    /// Token text → id, over every token (llama.cpp's `token_to_id`). Its keys, in insertion order,
    /// are the token texts by id: the vocabulary keeps no other copy of them.
    let textToID: ByteStringTable

    /// The number of tokens.
    public var count: Int { attributes.count }

    /// The stored text of token `id` (bytes; for SentencePiece with `▁`, for BPE byte-to-unicode).
    ///
    /// - Parameter id: A token id in `0..<count`.
    /// - Returns: The bytes, or `nil` for an id outside the vocabulary.
    public func text(of id: TokenID) -> [UInt8]? {
        guard id >= 0, Int(id) < count else { return nil }
        return textToID.withKey(at: Int(id)) { Array($0) }
    }

    /// Calls `body` with the stored text of token `id`, which must be valid.
    func withText<R>(of id: TokenID, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try textToID.withKey(at: Int(id), body)
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

        // Sized exactly first (appending would leave up to half of each array as growth slack).
        var textByteCount = 0
        try tokens.forEachStringBytes { _, text in textByteCount += text.isEmpty ? 32 : text.count }
        // Below 1 GiB, so the BPE encoder's table (these texts and up to 3 × 256 MiB of merge pieces)
        // stays within its 32-bit offsets.
        guard textByteCount < 1 << 30 else {
            throw TokenizerError(.invalidVocabulary, "tokenizer.ggml.tokens is too large")
        }
        var table = ByteStringTable(capacity: count, keyBytes: textByteCount)
        try tokens.forEachStringBytes { index, text in
            // llama.cpp renames empty tokens so that every text is a distinct key.
            let inserted =
                text.isEmpty ? table.insert(Array("[EMPTY_\(index)]".utf8), value: Int32(index)) : table.insert(text, value: Int32(index))
            // Every text is a new key, so key i is token i's text (`withText(of:)`).
            guard inserted else {
                throw TokenizerError(.invalidVocabulary, "token \(index) repeats the text of an earlier token")
            }
        }
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
            // The BPE encoder interns each merge's sides and result next to the token texts, with 32-bit
            // offsets: keep the merges to 256 MiB (real vocabularies have a few MiB).
            var mergeByteCount = 0
            try mergeArray.forEachStringBytes { _, text in
                mergeByteCount += text.count
                guard mergeByteCount <= 256 << 20 else {
                    throw TokenizerError(.invalidVocabulary, "tokenizer.ggml.merges holds more than 256 MiB of text")
                }
            }
            merges = mergeArray
        } else {
            preTokenizer = nil
            merges = nil
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
