import Foundation
import Testing
import TestSupport
import Tokenization

/// Identical ids to mistral-common (Mistral's own tokenizer library) on GGUF vocabularies built from
/// the files in its wheel, for the shared reference vectors and the 2,208-string corpus.
@Suite(.enabled(if: TokenizerFixtures.mistralVocabulariesPresent, TokenizerFixtures.missingVocabularies))
struct MistralCommonParityTests {
    struct Vector: Decodable {
        let text: String
        let tekken_240718: [Int32]
        let spm_v3: [Int32]
    }

    @Test func referenceVectors() throws {
        let vectors = try TokenizerFixtures.decode([Vector].self, "tokenization/reference/tokenizer-vectors.json")
        let tekken = try TokenizerFixtures.tokenizer(TokenizerFixtures.tekken)
        let spm = try TokenizerFixtures.tokenizer(TokenizerFixtures.spmV3)
        for vector in vectors {
            #expect(tekken.encode(vector.text) == vector.tekken_240718, "\(vector.text.debugDescription)")
            #expect(spm.encode(vector.text) == vector.spm_v3, "\(vector.text.debugDescription)")
        }
    }

    @Test(arguments: ["tekken", "spm"])
    func corpus(vocabulary: String) throws {
        let corpus = try TokenizerFixtures.corpus()
        let ids = try TokenizerFixtures.decode(TokenizerFixtures.MistralCommonIDs.self, "tokenization/mistral-common-ids.json")
        try #require(corpus.count == ids.rows.count)
        #expect(corpus.count >= 2000)
        let tokenizer = try TokenizerFixtures.tokenizer(vocabulary == "tekken" ? TokenizerFixtures.tekken : TokenizerFixtures.spmV3)
        let texts = corpus.map(\.text)
        let expected = ids.rows.map { vocabulary == "tekken" ? $0.tekken_240718 : $0.spm_v3 }
        let actual = texts.map { tokenizer.encode($0) }
        let identical = zip(expected, actual).filter { $0 == $1 }.count
        print("mistral-common parity (\(vocabulary)): \(identical)/\(texts.count) strings identical")
        #expect(identical == texts.count, "\(describeMismatches(texts, expected: expected, actual: actual))")
    }
}
