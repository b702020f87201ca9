import Engine
import GGUF
import Foundation
import StructuredOutput
import Testing
import TestSupport
import Tokenization

/// Token masks on real vocabularies (Tekken 131k, SentencePiece v3, Qwen2.5 151k, Gemma 3 262k):
/// the mask at each step equals the brute-force answer (every token tried byte by byte against
/// the matcher), along a real answer, and the answer's own tokens are always allowed.
@Suite struct GrammarMaskTests {
    static var vocabularies: [String] {
        let environment = ProcessInfo.processInfo.environment
        let directory = environment["BRISE_TOKENIZER_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/brise/tokenizers").path
        let mistral = ["mistral-tekken-240718.gguf", "mistral-spm-v3.gguf"].map { directory + "/" + $0 }
        return (mistral + Fixtures.presentRealModels).filter { FileManager.default.fileExists(atPath: $0) }
    }

    static let schema = #"""
        {"type": "object", "properties": {
            "city": {"type": "string", "maxLength": 40},
            "unit": {"enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 14},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3}},
         "required": ["city", "unit"], "additionalProperties": false}
        """#
    static let answer = #"{"city": "Zürich \"Nord\"", "unit": "celsius", "days": 7, "tags": ["rain", "wind"]}"#

    @Test(arguments: vocabularies)
    func masksEqualBruteForceAlongAnAnswer(path: String) throws {
        let file = try GGUFFile(path: path)
        let tokenizer = try Tokenizer(file: file)
        let compiler = GrammarCompiler(tokenizer: tokenizer)
        let compiled = try compiler.compile(.jsonSchema(Self.schema))
        let trie = compiler.vocabularyTrie
        let end = tokenizer.vocabulary.endOfGeneration(metadata: file.metadata)
        var constraint = compiled.makeConstraint(endTokens: end)
        // Walk the answer with the longest allowed token that matches its next bytes (a tokenizer's
        // own encoding may start with a SentencePiece space the grammar does not allow).
        let answer = Array(Self.answer.utf8)
        var offset = 0
        var step = 0
        while true {
            let mask = constraint.allowedTokens()
            if step < 3 || step % 7 == 0 || offset == answer.count {
                var mismatches: [String] = []
                for id in 0..<trie.vocabularySize {
                    let bytes = trie.bytes(of: Int32(id))
                    let expected =
                        end.contains(Int32(id)) ? constraint.isComplete : (!bytes.isEmpty && constraint.matcher.allows(bytes))
                    let got = mask[id >> 6] & (1 << UInt64(id & 63)) != 0
                    if got != expected, mismatches.count < 5 {
                        mismatches.append("\(id) \(String(decoding: bytes, as: UTF8.self).debugDescription) mask \(got)")
                    }
                }
                #expect(mismatches.isEmpty, "step \(step) at byte \(offset): \(mismatches)")
            }
            if offset == answer.count {
                #expect(constraint.isComplete)
                #expect(end.contains { mask[Int($0) >> 6] & (1 << UInt64($0 & 63)) != 0 })
                break
            }
            var best: Int32?
            var bestLength = 0
            for id in 0..<trie.vocabularySize where mask[id >> 6] & (1 << UInt64(id & 63)) != 0 {
                let bytes = trie.bytes(of: Int32(id))
                if bytes.count > bestLength, offset + bytes.count <= answer.count, answer[offset..<(offset + bytes.count)].elementsEqual(bytes) {
                    best = Int32(id)
                    bestLength = bytes.count
                }
            }
            guard let best else {
                Issue.record("no allowed token continues the answer at byte \(offset)")
                break
            }
            let accepted = constraint.accept(token: best)
            #expect(accepted)
            offset += bestLength
            step += 1
        }
    }

    @Test func compiledGrammarsAreReusedAndErrorsNameTheParameter() throws {
        guard let path = Self.vocabularies.first else { return }
        let tokenizer = try Tokenizer(file: try GGUFFile(path: path))
        let compiler = GrammarCompiler(tokenizer: tokenizer)
        let a = try compiler.compile(.jsonSchema(Self.schema))
        let b = try compiler.compile(.jsonSchema(Self.schema))
        #expect(a === b)
        do {
            _ = try compiler.compile(.grammar("root ::= x"))
            Issue.record("compiled")
        } catch {
            #expect(error.parameter == "grammar")
            #expect(error.message.contains("'x'"))
        }
        do {
            _ = try compiler.compile(.jsonSchema(#"{"type": "string", "format": "no-such-format"}"#))
            Issue.record("compiled")
        } catch {
            #expect(error.parameter == "responseFormat")
            #expect(error.message.contains("/format"))
        }
    }
}
