/// A token id, as stored in GGUF (`int32`) and fed to the model.
public typealias TokenID = Int32

/// What kind of token an id is, as llama.cpp derives it from `tokenizer.ggml.token_type`.
///
/// A bit set, because llama.cpp adds bits to a token's type (a `CONTROL` token whose text contains
/// "unused" is also `UNUSED`; an end-of-generation token stored as `NORMAL` becomes `CONTROL`).
public struct TokenAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `UNDEFINED` (type 0 or an unknown type number).
    public static let undefined = TokenAttributes(rawValue: 1 << 0)
    /// `UNKNOWN` (type 2): the `<unk>` token.
    public static let unknown = TokenAttributes(rawValue: 1 << 1)
    /// `UNUSED` (type 5).
    public static let unused = TokenAttributes(rawValue: 1 << 2)
    /// `NORMAL` (type 1): ordinary text.
    public static let normal = TokenAttributes(rawValue: 1 << 3)
    /// `CONTROL` (type 3): structure such as `<s>`, `[INST]`; never produced from user text.
    public static let control = TokenAttributes(rawValue: 1 << 4)
    /// `USER_DEFINED` (type 4): text matched before tokenization (Gemma's whitespace runs, `<tool_call>`).
    public static let userDefined = TokenAttributes(rawValue: 1 << 5)
    /// `BYTE` (type 6): a byte-fallback token `<0xXX>`.
    public static let byte = TokenAttributes(rawValue: 1 << 6)

    /// The attributes of GGUF token type `type` (llama.cpp `llama_token_type` numbering).
    ///
    /// - Parameter type: The number stored in `tokenizer.ggml.token_type`.
    public init(ggufTokenType type: Int) {
        switch type {
        case 1: self = .normal
        case 2: self = .unknown
        case 3: self = .control
        case 4: self = .userDefined
        case 5: self = .unused
        case 6: self = .byte
        default: self = .undefined
        }
    }
}

/// Which tokenization algorithm a vocabulary uses (`tokenizer.ggml.model`).
public enum TokenizerModel: String, Sendable, CustomStringConvertible {
    /// `llama`: SentencePiece-style, score-ordered merges over characters with `<0xXX>` byte fallback.
    case sentencePiece = "llama"
    /// `gpt2`: byte-level BPE with merge ranks and a pre-tokenizer.
    case bytePairEncoding = "gpt2"

    public var description: String { rawValue }
}

/// The pre-tokenizer of a byte-level BPE vocabulary (`tokenizer.ggml.pre`).
public enum PreTokenizer: String, Sendable, CustomStringConvertible {
    /// Mistral's Tekken pattern, matched exactly as tiktoken (mistral-common) matches it.
    case tekken
    /// Qwen2's pattern, matched as llama.cpp's hand-written `qwen2` splitter matches it.
    case qwen2

    /// The pre-tokenizer named `name` in GGUF metadata, or `nil` when Brise does not implement it.
    ///
    /// - Parameter name: The value of `tokenizer.ggml.pre`.
    public init?(ggufName name: String) {
        switch name {
        case "tekken": self = .tekken
        // The names llama.cpp maps to its QWEN2 pre-tokenizer.
        case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2": self = .qwen2
        default: return nil
        }
    }

    public var description: String { rawValue }
}
