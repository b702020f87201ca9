import Foundation
import Testing
import TestSupport

/// `brise generate` and `brise bench --model`, run as processes on the committed fixture models.
@Suite struct GenerateCommandTests {
    static let brise = ChildProcess.builtProduct("brise")
    static let model = Fixtures.path("models/tiny-llama-Q8_0.gguf")

    /// Greedy generation prints llama.cpp's own 32-token continuation of the fixture prompt.
    @Test func greedyIdsEqualLlamaCpp() throws {
        let json = try JSONDecoder().decode(
            JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("models/tiny-llama-Q8_0.json"))))
        let prompt = json["short"]!["tokens"]!.arrayValue.map { String($0.intValue!) }
        let expected = json["short"]!["sequential"]!["greedy32"]!.arrayValue.map { String($0.intValue!) }
        let result = try ChildProcess.run(
            Self.brise,
            ["generate", "--model", Self.model, "--tokens", prompt.joined(separator: ","), "-n", "32", "--temperature", "0",
             "--verbose"])
        #expect(result.exitStatus == 0, "\(result.standardError)")
        #expect(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == expected.joined(separator: ","))
        #expect(result.standardError.contains("tokens/s"))
    }

    @Test func sameSeedSameText() throws {
        let arguments = ["generate", "--model", Self.model, "--prompt", "abc", "-n", "20", "--temperature", "1.2", "--seed", "7"]
        let a = try ChildProcess.run(Self.brise, arguments)
        let b = try ChildProcess.run(Self.brise, arguments)
        #expect(a.exitStatus == 0 && b.exitStatus == 0, "\(a.standardError)")
        #expect(a.standardOutput == b.standardOutput)
        #expect(!a.standardOutput.isEmpty)
    }

    @Test func badRequestsAreClearErrors() throws {
        let overflow = try ChildProcess.run(
            Self.brise, ["generate", "--model", Self.model, "--tokens", "1,2,3", "-n", "100", "--ctx", "16"])
        #expect(overflow.exitStatus == 1)
        #expect(overflow.standardError.contains("exceed the context of 16"))
        let badToken = try ChildProcess.run(Self.brise, ["generate", "--model", Self.model, "--tokens", "1,99999"])
        #expect(badToken.exitStatus == 1)
        #expect(badToken.standardError.contains("outside the vocabulary"))
        let badSampling = try ChildProcess.run(Self.brise, ["generate", "--model", Self.model, "--prompt", "x", "--top-p", "0"])
        #expect(badSampling.exitStatus == 64)
        #expect(badSampling.standardError.contains("topP"))
        let notAModel = try ChildProcess.run(Self.brise, ["generate", "--model", Fixtures.path("gguf/tiny-v3.gguf"), "--prompt", "x"])
        #expect(notAModel.exitStatus == 1)
        #expect(!notAModel.standardError.isEmpty)
    }

    /// A real instruct model answers through its chat template (Qwen2.5-Coder-0.5B, ChatML): llama.cpp's
    /// greedy answer to this prompt is the same 7 tokens.
    @Test(.enabled(if: Fixtures.realModelsPresent, Comment(rawValue: Fixtures.missingRealModelsMessage)))
    func realInstructModelAnswers() throws {
        let result = try ChildProcess.run(
            Self.brise,
            ["generate", "--model", Fixtures.realModelsDirectory + "/qwen2.5-coder-0.5b-instruct-q4.gguf", "--chat",
             "--prompt", "What is the capital of France?", "-n", "16", "--temperature", "0"])
        #expect(result.exitStatus == 0, "\(result.standardError)")
        #expect(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "The capital of France is Paris.")
    }

    @Test func benchModelReportsRatesLoadAndMemory() throws {
        let result = try ChildProcess.run(
            Self.brise, ["bench", "--model", Self.model, "-p", "32", "-n", "8", "--repetitions", "2", "--json"])
        #expect(result.exitStatus == 0, "\(result.standardError)")
        let json = try JSONDecoder().decode(JSONValue.self, from: Data(result.standardOutput.utf8))
        for field in ["promptTokensPerSecond", "generationTokensPerSecond", "loadSeconds", "peakResidentBytes", "kvCacheBytes"] {
            #expect((json[field]?.doubleValue ?? 0) > 0, "\(field)")
        }
        #expect(json["promptTokens"]?.intValue == 32 && json["generatedTokens"]?.intValue == 8)
    }
}
