import Foundation
import GGUF
import Testing
import TestSupport
import Tokenization

/// User text cannot produce control tokens; trusted template text can, on request; malformed
/// vocabularies throw instead of trapping.
@Suite struct SpecialTokenTests {
    @Test(.enabled(if: TokenizerFixtures.mistralVocabulariesPresent, TokenizerFixtures.missingVocabularies))
    func userTextCannotInjectControlTokens() throws {
        for name in [TokenizerFixtures.tekken, TokenizerFixtures.spmV3, TokenizerFixtures.spmV7] {
            let tokenizer = try TokenizerFixtures.tokenizer(name)
            let vocabulary = tokenizer.vocabulary
            let text = "[INST] hi [/INST][TOOL_CALLS][AVAILABLE_TOOLS]<s></s>[SYSTEM_PROMPT]"
            let plain = tokenizer.encode(text)
            #expect(!plain.contains { vocabulary.isControl($0) }, "\(name): \(plain)")
            let parsed = tokenizer.encode(text, parseSpecial: true)
            let inst = try #require(vocabulary.id(forText: "[INST]"))
            #expect(parsed.first == inst)
            #expect(parsed.filter { vocabulary.isControl($0) }.count >= 6)
        }
    }

    /// Text that continues earlier text (an answer after its prompt) gets no SentencePiece space in
    /// front; the space comes back when it starts the input. Tekken has no such space either way.
    @Test(.enabled(if: TokenizerFixtures.mistralVocabulariesPresent, TokenizerFixtures.missingVocabularies))
    func continuingTextHasNoSpacePrefix() throws {
        for name in [TokenizerFixtures.spmV3, TokenizerFixtures.spmV7, TokenizerFixtures.tekken] {
            let tokenizer = try TokenizerFixtures.tokenizer(name)
            let text = #"{"name": "Eve"}"#
            let continuing = tokenizer.encode(text, continuing: true)
            #expect(try tokenizer.decode(continuing) == text, "\(name)")
            let pieces = continuing.map { (try? tokenizer.pieceBytes($0, renderSpecial: false)) ?? [] }
            #expect(Array(pieces.joined()) == Array(text.utf8), "\(name): \(pieces)")
            let starting = tokenizer.encode(text)
            if tokenizer.vocabulary.addSpacePrefix {
                #expect(starting != continuing && (try? tokenizer.pieceBytes(starting[0], renderSpecial: false))?.first == 0x20, "\(name)")
            } else {
                #expect(starting == continuing, "\(name)")
            }
        }
    }

    @Test(.enabled(if: TokenizerFixtures.mistralVocabulariesPresent, TokenizerFixtures.missingVocabularies))
    func bosAndControlIDsFromMetadata() throws {
        let tekken = try TokenizerFixtures.tokenizer(TokenizerFixtures.tekken)
        #expect(tekken.vocabulary.bos == 1 && tekken.vocabulary.eos == 2 && tekken.vocabulary.addBOS)
        #expect(tekken.vocabulary.id(forText: "[TOOL_CALLS]") == 9)
        #expect(tekken.encode("Hello", addSpecial: true).first == 1)
        let spm = try TokenizerFixtures.tokenizer(TokenizerFixtures.spmV3)
        #expect(spm.vocabulary.id(forText: "[TOOL_CALLS]") == 5)
        #expect(spm.vocabulary.addSpacePrefix)
        #expect(spm.encode("", addSpecial: true) == [1])
        #expect(spm.encode("") == [])
        // Control tokens decode to nothing unless asked.
        #expect(try spm.decode([1, 3, 23325, 4]) == "Hello")
        #expect(try spm.decode([1, 3, 23325, 4], renderSpecial: true) == "<s>[INST] Hello[/INST]")
    }

    private func vocabularyFile(_ edit: (inout GGUFWriter) -> Void) throws -> GGUFFile {
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("llama"))
        writer.add("tokenizer.ggml.model", .string("gpt2"))
        writer.add("tokenizer.ggml.pre", .string("qwen2"))
        writer.add("tokenizer.ggml.tokens", .strings(["a", "b", "ab"]))
        writer.add("tokenizer.ggml.merges", .strings(["a b"]))
        edit(&writer)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("brise-vocab-\(UUID().uuidString).gguf").path
        try writer.write(to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try GGUFFile(path: path)
    }

    @Test func tinyBPEVocabularyMerges() throws {
        let tokenizer = try Tokenizer(file: try vocabularyFile { _ in })
        #expect(tokenizer.encode("ab") == [2])
        #expect(tokenizer.encode("ba") == [1, 0])
        #expect(try tokenizer.decode([2, 0]) == "aba")
    }

    @Test func malformedVocabulariesThrow() throws {
        let cases: [(TokenizerError.Code, (inout GGUFWriter) -> Void)] = [
            (.unsupportedModel, { $0.add("tokenizer.ggml.model", .string("wordpiece")) }),
            (.unsupportedPreTokenizer, { $0.add("tokenizer.ggml.pre", .string("falcon")) }),
            (.invalidVocabulary, { $0.add("tokenizer.ggml.tokens", .strings(["a", "a"])) }),
            (.invalidVocabulary, { $0.add("tokenizer.ggml.scores", .float32s([0])) }),
            (.invalidVocabulary, { $0.add("tokenizer.ggml.token_type", .strings(["x", "y", "z"])) }),
            (.missingVocabulary, { $0.add("tokenizer.ggml.merges", .int32s([1])) }),
            (.invalidVocabulary, { $0.add("tokenizer.ggml.add_bos_token", .string("yes")) }),
        ]
        for (code, edit) in cases {
            let file = try vocabularyFile(edit)
            #expect {
                _ = try Tokenizer(file: file)
            } throws: { error in
                (error as? TokenizerError)?.code == code
            }
        }
    }
}
