import Foundation
import GGUF
import Testing
import TestSupport
import Tokenization

/// Fill-in-the-middle prompts identical to the references (Fixtures/tokenization/fim.json, from
/// scripts/make-fim-fixtures.py): mistral-common's `encode_fim` for Mistral's tokenizers, llama.cpp's
/// `/infill` order and FIM tokens for Qwen2.5-Coder.
@Suite struct FillInTheMiddleTests {
    struct Case: Decodable {
        let prefix: String
        let suffix: String
        let ids: [Int32]
    }

    static let fixtures = try? TokenizerFixtures.decode([String: [String: [Case]]].self, "tokenization/fim.json")

    static func layout(_ path: String) throws -> (FillInTheMiddle?, Tokenizer) {
        let file = try GGUFFile(path: path)
        let tokenizer = try TokenizerFixtures.cache.tokenizer(path)
        return (FillInTheMiddle(vocabulary: tokenizer.vocabulary, metadata: file.metadata), tokenizer)
    }

    @Test(.enabled(if: TokenizerFixtures.mistralVocabulariesPresent, TokenizerFixtures.missingVocabularies),
        arguments: ["mistral-tekken-240718.gguf", "mistral-spm-v3.gguf", "mistral-spm-v7.gguf"])
    func mistralCommonOrder(vocabulary: String) throws {
        let cases = try #require(Self.fixtures?["mistral-common"]?[vocabulary])
        let (fim, tokenizer) = try Self.layout(TokenizerFixtures.vocabularyPath(vocabulary))
        let layout = try #require(fim, "\(vocabulary) has [PREFIX] and [SUFFIX]")
        guard case .mistral = layout.layout else { Issue.record("\(layout.layout)"); return }
        for c in cases {
            #expect(layout.encode(prefix: c.prefix, suffix: c.suffix, tokenizer: tokenizer) == c.ids, "\(c.prefix.debugDescription) / \(c.suffix.debugDescription)")
        }
    }

    @Test(.enabled(if: TokenizerFixtures.mistralVocabulariesPresent, TokenizerFixtures.missingVocabularies))
    func mistralV1HasNone() throws {
        // mistral-common refuses FIM for v1; its vocabulary has no [PREFIX] control token.
        let (fim, _) = try Self.layout(TokenizerFixtures.vocabularyPath("mistral-spm-v1.gguf"))
        #expect(fim == nil)
    }

    @Test(.enabled(if: TokenizerFixtures.realModelPresent("qwen2.5-coder-0.5b-instruct-q4.gguf"), TokenizerFixtures.missingRealModels))
    func qwenInLlamaCppInfillOrder() throws {
        let name = "qwen2.5-coder-0.5b-instruct-q4.gguf"
        let cases = try #require(Self.fixtures?["llama.cpp"]?[name])
        let (fim, tokenizer) = try Self.layout(TokenizerFixtures.realModelPath(name))
        let layout = try #require(fim)
        #expect(layout.layout == .prefixSuffixMiddle(prefix: 151659, suffix: 151661, middle: 151660))
        for c in cases {
            #expect(layout.encode(prefix: c.prefix, suffix: c.suffix, tokenizer: tokenizer) == c.ids, "\(c.prefix.debugDescription) / \(c.suffix.debugDescription)")
        }
    }

    /// A model without FIM tokens (Gemma 3, the tiny fixture) has no layout.
    @Test func modelsWithoutFIMTokensHaveNone() throws {
        let (fim, _) = try Self.layout(Fixtures.path("models/tiny-llama-Q8_0.gguf"))
        #expect(fim == nil)
        let gemma = "gemma-3-270m-q4_k_m.gguf"
        if TokenizerFixtures.realModelPresent(gemma) {
            let (gemmaFIM, _) = try Self.layout(TokenizerFixtures.realModelPath(gemma))
            #expect(gemmaFIM == nil)
        }
    }

    /// A prompt over the limit keeps what is nearest the gap: the end of the prefix and the start of
    /// the suffix, three quarters of the room to the prefix unless the suffix needs less.
    @Test(.enabled(if: TokenizerFixtures.realModelPresent("qwen2.5-coder-0.5b-instruct-q4.gguf"), TokenizerFixtures.missingRealModels))
    func aLongPromptKeepsWhatIsNearestTheGap() throws {
        let (fim, tokenizer) = try Self.layout(TokenizerFixtures.realModelPath("qwen2.5-coder-0.5b-instruct-q4.gguf"))
        let layout = try #require(fim)
        let prefix = (0..<400).map { "line_\($0) = \($0)\n" }.joined()
        let suffix = (0..<400).map { "after_\($0) = \($0)\n" }.joined()
        let whole = layout.encode(prefix: prefix, suffix: suffix, tokenizer: tokenizer)
        let cut = layout.encode(prefix: prefix, suffix: suffix, tokenizer: tokenizer, limit: 500)
        #expect(whole.count > 2000 && cut.count == 500)
        #expect(cut.first == 151659 && cut.last == 151660)
        let suffixAt = try #require(cut.firstIndex(of: 151661))
        let keptPrefix = Array(cut[1..<suffixAt])
        let keptSuffix = Array(cut[(suffixAt + 1)..<(cut.count - 1)])
        #expect(keptPrefix.count == 373 && keptSuffix.count == 124)  // 497 after the 3 FIM tokens: 3/4 and 1/4
        #expect(Array(tokenizer.encode(prefix).suffix(keptPrefix.count)) == keptPrefix, "the end of the prefix")
        #expect(Array(tokenizer.encode(suffix).prefix(keptSuffix.count)) == keptSuffix, "the start of the suffix")
        // A short suffix leaves the rest to the prefix; a prompt within the limit is whole.
        let shortSuffix = layout.encode(prefix: prefix, suffix: "return x\n", tokenizer: tokenizer, limit: 500)
        let returnTokens = tokenizer.encode("return x\n")
        #expect(shortSuffix.count == 500 && Array(shortSuffix.suffix(returnTokens.count + 2)) == [151661] + returnTokens + [151660])
        #expect(layout.encode(prefix: "a", suffix: "b", tokenizer: tokenizer, limit: 500) == layout.encode(prefix: "a", suffix: "b", tokenizer: tokenizer))
    }
}
