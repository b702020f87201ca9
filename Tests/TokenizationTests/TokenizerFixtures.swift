import Foundation
import Testing
import TestSupport
import Tokenization

/// Where the tokenizer tests find their vocabularies and reference ids.
///
/// The vocabulary GGUFs are made by scripts/make-tokenizer-fixtures.py outside the repository
/// (megabytes); the reference ids are committed under Fixtures/tokenization.
enum TokenizerFixtures {
    /// The directory scripts/make-tokenizer-fixtures.py writes vocabularies to.
    static var vocabularyDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let directory = environment["BRISE_TOKENIZER_CACHE"], !directory.isEmpty { return directory }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/brise/tokenizers").path
    }

    static let tekken = "mistral-tekken-240718.gguf"
    static let spmV3 = "mistral-spm-v3.gguf"
    static let spmV7 = "mistral-spm-v7.gguf"
    static let spmV1 = "mistral-spm-v1.gguf"
    static let tekkenV13Synthetic = "mistral-tekken-240718-v13-synthetic.gguf"
    static let gemma = "gemma-3-270m-q4_k_m.gguf"
    static let qwen = "qwen2.5-coder-0.5b-instruct-q4.gguf"

    static func vocabularyPath(_ name: String) -> String { vocabularyDirectory + "/" + name }

    static func vocabularyPresent(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: vocabularyPath(name))
    }

    static var mistralVocabulariesPresent: Bool {
        [tekken, spmV3, spmV7, spmV1, tekkenV13Synthetic].allSatisfy(vocabularyPresent)
    }

    static let missingVocabularies = Comment(
        rawValue: "generated vocabularies absent from \(vocabularyDirectory): run "
            + "~/.cache/brise/venv/bin/python scripts/make-tokenizer-fixtures.py --vocabs-only")

    static func realModelPath(_ name: String) -> String { Fixtures.realModelsDirectory + "/" + name }

    static func realModelPresent(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: realModelPath(name))
    }

    static let missingRealModels = Comment(rawValue: Fixtures.missingRealModelsMessage)

    /// Tokenizers are costly to build (hundreds of thousands of tokens); tests share them.
    static let cache = TokenizerCache()

    static func tokenizer(_ name: String) throws -> Tokenizer {
        let path = vocabularyPresent(name) ? vocabularyPath(name) : realModelPath(name)
        return try cache.tokenizer(path)
    }

    // MARK: - Committed fixtures

    struct CorpusEntry: Decodable {
        let category: String
        let text: String
    }

    static func corpus() throws -> [CorpusEntry] {
        try decode([CorpusEntry].self, "tokenization/corpus.json")
    }

    struct MistralCommonIDs: Decodable {
        struct Row: Decodable {
            let tekken_240718: [Int32]
            let spm_v3: [Int32]
        }
        let rows: [Row]
    }

    struct LlamaCppIDs: Decodable {
        struct SpecialRow: Decodable {
            let text: String
            let parse_special: [Int32]
            let add_special: [Int32]
        }
        struct Model: Decodable {
            let plain: [[Int32]]
            let special: [SpecialRow]
        }
        let models: [String: Model]
    }

    static func decode<T: Decodable>(_ type: T.Type, _ relative: String) throws -> T {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(relative)))
        return try JSONDecoder().decode(type, from: data)
    }
}

/// A lock-protected map from path to built tokenizer.
final class TokenizerCache: @unchecked Sendable {
    // @unchecked: every access to `tokenizers` holds `lock`.
    private let lock = NSLock()
    private var tokenizers: [String: Tokenizer] = [:]

    func tokenizer(_ path: String) throws -> Tokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let tokenizer = tokenizers[path] { return tokenizer }
        let tokenizer = try Tokenizer(path: path)
        tokenizers[path] = tokenizer
        return tokenizer
    }
}

/// The first few differences between expected and actual id lists, for failure messages.
func describeMismatches(_ texts: [String], expected: [[Int32]], actual: [[Int32]], limit: Int = 8) -> String {
    var lines: [String] = []
    for index in texts.indices where expected[index] != actual[index] {
        lines.append("#\(index) \(texts[index].debugDescription)\n  expected \(expected[index])\n  actual   \(actual[index])")
        if lines.count == limit { break }
    }
    return lines.joined(separator: "\n")
}
