/// An error building a tokenizer from GGUF metadata, or using one.
///
/// Vocabularies come from model files, which are untrusted: a malformed vocabulary is an error with a
/// code and a message naming the key, never a crash.
public struct TokenizerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable code.
    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// The error this one wraps (for example the `GGUFError` of a metadata read).
    public var underlying: (any Error & Sendable)?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The error code.
    ///   - message: A human-readable explanation.
    ///   - underlying: The wrapped error, if any.
    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        var text = "tokenizer error (\(code)): \(message)"
        if let underlying { text += " (\(underlying))" }
        return text
    }

    /// The kind of a `TokenizerError`: a struct wrapping a private enum, so codes can be added later.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case missingVocabulary
            case unsupportedModel
            case unsupportedPreTokenizer
            case invalidVocabulary
            case invalidTokenID
            case unknownChatFormat
            case invalidChat
            case invalidToolCall
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The file has no `tokenizer.ggml.tokens` (or no merges for a BPE model).
        public static var missingVocabulary: Self { .init(.missingVocabulary) }
        /// `tokenizer.ggml.model` names a tokenizer this build does not implement.
        public static var unsupportedModel: Self { .init(.unsupportedModel) }
        /// `tokenizer.ggml.pre` names a pre-tokenizer this build does not implement.
        public static var unsupportedPreTokenizer: Self { .init(.unsupportedPreTokenizer) }
        /// The vocabulary metadata is inconsistent (wrong types, short arrays, too many tokens).
        public static var invalidVocabulary: Self { .init(.invalidVocabulary) }
        /// A token id is outside the vocabulary.
        public static var invalidTokenID: Self { .init(.invalidTokenID) }
        /// A chat template or format name is not one Brise knows.
        public static var unknownChatFormat: Self { .init(.unknownChatFormat) }
        /// A conversation cannot be encoded in the chosen format (roles out of order, missing tokens).
        public static var invalidChat: Self { .init(.invalidChat) }
        /// Model output that should hold a tool call could not be parsed.
        public static var invalidToolCall: Self { .init(.invalidToolCall) }

        public var description: String { base.rawValue }
    }
}
