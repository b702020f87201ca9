import Foundation
import Testing
import TestSupport
import Tokenization

/// Identical ids to llama.cpp's tokenizer (recorded through llama-cpp-python by
/// scripts/make-llamacpp-token-fixtures.py) on the real Gemma 3 and Qwen2.5 files.
@Suite(.enabled(if: Fixtures.realModelsPresent, TokenizerFixtures.missingRealModels))
struct LlamaCppParityTests {
    static let models = [TokenizerFixtures.gemma, TokenizerFixtures.qwen]

    @Test(arguments: models)
    func corpus(model: String) throws {
        let corpus = try TokenizerFixtures.corpus()
        let reference = try TokenizerFixtures.decode(TokenizerFixtures.LlamaCppIDs.self, "tokenization/llamacpp-ids.json")
        let expected = try #require(reference.models[model]).plain
        try #require(expected.count == corpus.count)
        let tokenizer = try TokenizerFixtures.tokenizer(model)
        let texts = corpus.map(\.text)
        let actual = texts.map { tokenizer.encode($0) }
        let identical = zip(expected, actual).filter { $0 == $1 }.count
        print("llama.cpp parity (\(model)): \(identical)/\(texts.count) strings identical")
        #expect(identical == texts.count, "\(describeMismatches(texts, expected: expected, actual: actual))")
    }

    @Test(arguments: models)
    func specialTokensAndBOS(model: String) throws {
        let reference = try TokenizerFixtures.decode(TokenizerFixtures.LlamaCppIDs.self, "tokenization/llamacpp-ids.json")
        let rows = try #require(reference.models[model]).special
        let tokenizer = try TokenizerFixtures.tokenizer(model)
        for row in rows {
            #expect(tokenizer.encode(row.text, parseSpecial: true) == row.parse_special, "\(row.text.debugDescription)")
            #expect(tokenizer.encode(row.text, addSpecial: true) == row.add_special, "\(row.text.debugDescription)")
        }
    }
}
