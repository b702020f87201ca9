public import GGUF

/// A tokenizer built from a GGUF file's vocabulary: text to token ids and back.
///
/// Two algorithms, chosen by `tokenizer.ggml.model`: SentencePiece-style (`llama`: Mistral 7B's SPM
/// vocabularies, Gemma 3) and byte-level BPE (`gpt2`) with the Tekken (Mistral Nemo, Ministral) or
/// Qwen2 pre-tokenizer. Both reproduce llama.cpp's tokenizer; Tekken also reproduces mistral-common.
///
/// **Special tokens.** `encode(_:)` treats its input as plain text: `"[INST]"` typed by a user is
/// tokenized as the characters `[`, `INST`, `]`, never as the control token, so user text cannot
/// forge turns, system prompts or tool calls. Chat formats insert control tokens by id
/// (`Vocabulary.id(forText:)`); `encode(_:parseSpecial:)` parses control-token texts for trusted
/// template text only. User-defined tokens (Gemma's whitespace runs, Qwen's `<tool_call>`) are
/// matched in all text, as llama.cpp does.
public struct Tokenizer: Sendable {
    /// The vocabulary.
    public let vocabulary: Vocabulary

    private enum Engine: Sendable {
        case sentencePiece(SentencePieceEncoder)
        case bytePair(BytePairEncoder, PreTokenizer)
    }

    private let engine: Engine
    private let plainSplitter: SpecialTokenSplitter
    private let specialSplitter: SpecialTokenSplitter
    let pieces: TokenPieces

    /// Builds a tokenizer from a vocabulary.
    ///
    /// - Parameter vocabulary: The vocabulary.
    public init(vocabulary: Vocabulary) {
        self.vocabulary = vocabulary
        switch vocabulary.model {
        case .sentencePiece:
            engine = .sentencePiece(SentencePieceEncoder(vocabulary: vocabulary))
        case .bytePairEncoding:
            let pre = vocabulary.preTokenizer ?? .qwen2
            engine = .bytePair(BytePairEncoder(vocabulary: vocabulary, ignoreMerges: pre == .tekken), pre)
        }
        plainSplitter = SpecialTokenSplitter(vocabulary: vocabulary, parseSpecial: false)
        specialSplitter = SpecialTokenSplitter(vocabulary: vocabulary, parseSpecial: true)
        pieces = TokenPieces(vocabulary: vocabulary)
    }

    /// Builds a tokenizer from a GGUF file's metadata.
    ///
    /// - Parameter file: The parsed file.
    /// - Throws: `TokenizerError` when the vocabulary is absent, malformed or unsupported.
    public init(file: GGUFFile) throws {
        self.init(vocabulary: try Vocabulary(file: file))
    }

    /// Builds a tokenizer from the GGUF file at `path` (only its metadata is read).
    ///
    /// - Parameter path: The file's path.
    /// - Throws: `GGUFError` when the file cannot be read, `TokenizerError` for its vocabulary.
    public init(path: String) throws {
        try self.init(file: try GGUFFile(path: path))
    }

    /// The number of tokens.
    public var count: Int { vocabulary.count }

    // MARK: - Encoding

    /// Tokenizes `text` as plain text.
    ///
    /// - Parameters:
    ///   - text: The text.
    ///   - addSpecial: Whether to add BOS (and EOS) as the vocabulary asks (`add_bos_token`).
    ///   - parseSpecial: Whether control-token texts in `text` become control tokens. Only for trusted
    ///     template text, never for user input.
    ///   - continuing: Whether `text` continues earlier text, as a model's answer continues its
    ///     prompt: a SentencePiece vocabulary then adds no space before it.
    /// - Returns: The token ids.
    public func encode(_ text: String, addSpecial: Bool = false, parseSpecial: Bool = false, continuing: Bool = false) -> [TokenID] {
        var text = text
        return text.withUTF8 {
            encode(utf8: UnsafeRawBufferPointer($0), addSpecial: addSpecial, parseSpecial: parseSpecial, continuing: continuing)
        }
    }

    private func encode(utf8 bytes: UnsafeRawBufferPointer, addSpecial: Bool, parseSpecial: Bool, continuing: Bool) -> [TokenID] {
        var output: [TokenID] = []
        output.reserveCapacity(bytes.count / 3 + 2)
        if addSpecial && vocabulary.addBOS, let bos = vocabulary.bos { output.append(bos) }
        let fragments = (parseSpecial ? specialSplitter : plainSplitter).split(bytes)
        switch engine {
        case .sentencePiece(let encoder):
            // llama.cpp: a space goes before raw text that starts the input or follows a special token.
            var previousWasSpecial = !continuing
            var escaped: [UInt8] = []
            for fragment in fragments {
                switch fragment {
                case .token(let id):
                    output.append(id)
                    previousWasSpecial = true
                case .text(let range):
                    escaped.removeAll(keepingCapacity: true)
                    if vocabulary.addSpacePrefix && previousWasSpecial { escaped.append(contentsOf: [0xE2, 0x96, 0x81]) }
                    for byte in bytes[range] {
                        if byte == 0x20 {
                            escaped.append(contentsOf: [0xE2, 0x96, 0x81])  // " " → "▁"
                        } else {
                            escaped.append(byte)
                        }
                    }
                    escaped.withUnsafeBytes { encoder.encode($0, into: &output) }
                    previousWasSpecial = false
                }
            }
        case .bytePair(let encoder, let pre):
            var ends: [Int] = []
            for fragment in fragments {
                switch fragment {
                case .token(let id):
                    output.append(id)
                case .text(let range):
                    let decoded = DecodedText(bytes, range: range)
                    ends.removeAll(keepingCapacity: true)
                    switch pre {
                    case .tekken: TekkenSplitter.split(decoded, into: &ends)
                    case .qwen2: Qwen2Splitter.split(decoded, into: &ends)
                    }
                    var start = 0
                    for end in ends {
                        let from = Int(decoded.offsets[start])
                        let to = Int(decoded.offsets[end])
                        encoder.encode(UnsafeRawBufferPointer(rebasing: bytes[from..<to]), into: &output)
                        start = end
                    }
                }
            }
        }
        if addSpecial && vocabulary.addEOS, let eos = vocabulary.eos { output.append(eos) }
        return output
    }

    /// The pre-tokens of `text` (plain text, byte-level BPE only), for inspection and tests.
    ///
    /// - Parameter text: The text.
    /// - Returns: The pieces the pre-tokenizer cuts, or `nil` for SentencePiece vocabularies.
    public func preTokenize(_ text: String) -> [String]? {
        guard case .bytePair(_, let pre) = engine else { return nil }
        var text = text
        return text.withUTF8 { buffer -> [String] in
            let bytes = UnsafeRawBufferPointer(buffer)
            var result: [String] = []
            for fragment in plainSplitter.split(bytes) {
                guard case .text(let range) = fragment else { continue }
                let decoded = DecodedText(bytes, range: range)
                var ends: [Int] = []
                switch pre {
                case .tekken: TekkenSplitter.split(decoded, into: &ends)
                case .qwen2: Qwen2Splitter.split(decoded, into: &ends)
                }
                var start = 0
                for end in ends {
                    let slice = bytes[Int(decoded.offsets[start])..<Int(decoded.offsets[end])]
                    result.append(String(decoding: slice, as: UTF8.self))
                    start = end
                }
            }
            return result
        }
    }
}
