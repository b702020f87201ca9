import Foundation
import FuzzHarness
import TestSupport
import Testing

/// Every committed fuzz input (the seed corpus and the inputs that once crashed a target, under
/// Tests/Fuzz/Corpus/<target>/) runs through its target's harness on every `swift test`: a regression
/// traps here without libFuzzer. scripts/fuzz runs the targets themselves.
@Suite struct FuzzCorpusTests {
    static let corpus = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fuzz/Corpus")

    static func inputs(_ target: String) throws -> [(String, [UInt8])] {
        let directory = corpus.appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return try names.map { ($0, Array(try Data(contentsOf: directory.appendingPathComponent($0)))) }
    }

    static let vocabularies = FuzzVocabularies()

    @Test func requestCorpus() throws {
        let fuzzer = RequestFuzzer(vocabularies: Self.vocabularies)
        let inputs = try Self.inputs("request")
        #expect(inputs.count >= 20)
        var replies = 0
        for (_, bytes) in inputs {
            // Every selector, so each input meets every vocabulary present.
            for selector in 0..<Self.vocabularies.entries.count {
                replies += fuzzer.run([UInt8(selector)] + bytes.dropFirst())
            }
        }
        #expect(replies >= inputs.count)
    }

    @Test func httpCorpus() throws {
        let fuzzer = HTTPFuzzer(vocabularies: Self.vocabularies)
        let inputs = try Self.inputs("http")
        #expect(inputs.count >= 10)
        var requests = 0
        for (_, bytes) in inputs { requests += fuzzer.run(bytes) }
        // The well-formed seeds are read whole (pipelined ones one after another), the broken ones not.
        #expect(requests >= 10, "\(requests) requests read")
    }

    @Test func tokenizerCorpus() throws {
        let fuzzer = TokenizerFuzzer(vocabularies: Self.vocabularies)
        let inputs = try Self.inputs("tokenizer")
        #expect(inputs.count >= 8)
        for (_, bytes) in inputs {
            for selector in 0..<Self.vocabularies.entries.count {
                fuzzer.run([UInt8(selector)] + bytes.dropFirst())
            }
        }
    }

    @Test func ggufCorpus() throws {
        let inputs = try Self.inputs("gguf")
        #expect(inputs.count >= 4)
        for (_, bytes) in inputs { GGUFFuzzer.run(bytes) }
    }

    @Test func schemaCorpus() throws {
        let inputs = try Self.inputs("schema")
        #expect(inputs.count >= 8)
        for (_, bytes) in inputs { GrammarFuzzer.runSchema(bytes) }
    }

    @Test func gbnfCorpus() throws {
        let inputs = try Self.inputs("gbnf")
        #expect(inputs.count >= 7)
        for (_, bytes) in inputs { GrammarFuzzer.runGBNF(bytes) }
    }

    @Test func imageCorpus() throws {
        let inputs = try Self.inputs("image")
        #expect(inputs.count >= 6)
        for (_, bytes) in inputs { ImageFuzzer.run(bytes) }
    }

    @Test func configurationCorpus() throws {
        let inputs = try Self.inputs("config")
        #expect(inputs.count >= 4)
        for (_, bytes) in inputs { ConfigurationFuzzer.run(bytes) }
    }
}
