import Foundation
import GGUF
import TestSupport
public import Tokenization

/// The vocabularies the fuzz targets run on: the committed tiny model's (always), and, where present,
/// the Mistral tokenizer fixtures (`~/.cache/brise/tokenizers`: Tekken, SentencePiece v1/v3/v7, v13)
/// and the real Qwen2.5 and Gemma 3 files (the models directory, `scripts/models-dir`).
public struct FuzzVocabularies: Sendable {
    /// One loaded vocabulary with what is built on it.
    public struct Entry: Sendable {
        public let name: String
        public let tokenizer: Tokenizer
        public let chatEncoder: ChatEncoder?
        /// The model's context length (the tiny model's, or 4096 for a vocabulary-only file).
        public let contextLength: Int
        /// The fill-in-the-middle layout, where the vocabulary has one.
        public let fillInTheMiddle: FillInTheMiddle?
    }

    public let entries: [Entry]

    /// The committed tiny model with a vocabulary (llama, Q8_0).
    public static let tinyModel = Fixtures.path("models/tiny-llama-Q8_0.gguf")

    /// The tokenizer fixtures' directory (`scripts/make-tokenizer-fixtures.py` writes it).
    public static var vocabularyDirectory: String {
        if let directory = ProcessInfo.processInfo.environment["BRISE_TOKENIZER_CACHE"], !directory.isEmpty { return directory }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/brise/tokenizers").path
    }

    /// Every file that is present, the tiny model first.
    public static var paths: [String] {
        let directory = vocabularyDirectory
        let fixtures = [
            "mistral-tekken-240718.gguf", "mistral-tekken-240718-v13-synthetic.gguf", "mistral-spm-v1.gguf", "mistral-spm-v3.gguf",
            "mistral-spm-v7.gguf",
        ].map { directory + "/" + $0 }
        return ([tinyModel] + fixtures + Fixtures.presentRealModels).filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Loads every present vocabulary (a file that fails to load is left out).
    public init(paths: [String] = FuzzVocabularies.paths) {
        entries = paths.compactMap { path in
            guard let file = try? GGUFFile(path: path), let tokenizer = try? Tokenizer(file: file) else { return nil }
            let context = (try? ModelConfiguration(metadata: file.metadata)).map { min($0.contextLength, 4096) } ?? 4096
            return Entry(
                name: URL(fileURLWithPath: path).lastPathComponent, tokenizer: tokenizer,
                chatEncoder: try? ChatEncoder(tokenizer: tokenizer), contextLength: max(context, 16),
                fillInTheMiddle: FillInTheMiddle(vocabulary: tokenizer.vocabulary, metadata: file.metadata))
        }
    }

    /// The entry a selector byte picks.
    public func pick(_ byte: UInt8) -> Entry { entries[Int(byte) % entries.count] }
}
