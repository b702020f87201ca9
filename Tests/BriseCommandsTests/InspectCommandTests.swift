import Foundation
import GGUF
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `brise inspect`, run as a real process on real files.
@Suite struct InspectCommandTests {
    static let brise = ChildProcess.builtProduct("brise")

    static func inspectJSON(_ path: String) throws -> (JSONValue, ChildProcess.Result) {
        let result = try ChildProcess.runMeasuringMemory(brise, ["inspect", "--json", path])
        #expect(result.exitStatus == 0, "\(result.standardError)")
        return (try JSONDecoder().decode(JSONValue.self, from: Data(result.standardOutput.utf8)), result)
    }

    static func loadJSON(_ path: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Two runs print the same bytes (keys sorted, not in a dictionary's per-process order).
    @Test func jsonIsTheSameEveryRun() throws {
        let path = Fixtures.path("models/tiny-mistral3-Q4_K_M.gguf")
        let runs = try (0..<3).map { _ in try ChildProcess.run(Self.brise, ["inspect", "--json", path]).standardOutput }
        #expect(!runs[0].isEmpty && runs.allSatisfy { $0 == runs[0] })
    }

    @Test(arguments: Fixtures.ggufFixtureNames)
    func jsonAgreesWithGGUFPy(name: String) throws {
        let (actual, _) = try Self.inspectJSON(Fixtures.path("gguf/\(name).gguf"))
        let expected = try Self.loadJSON(Fixtures.path("gguf/\(name).json"))
        let differences = InspectJSONComparison.differences(actual: actual, expected: expected)
        #expect(differences.isEmpty, "\(differences.prefix(20).joined(separator: "\n"))")
    }

    @Test(
        .enabled(
            if: Fixtures.realModelsPresent,
            Comment(rawValue: Fixtures.missingRealModelsMessage)),
        arguments: Fixtures.realModelNames)
    func realModelJSONAgreesWithGGUFPy(name: String) throws {
        let (actual, result) = try Self.inspectJSON(Fixtures.realModelsDirectory + "/" + name)
        let expected = try Self.loadJSON(Fixtures.path("real-models/\(name).json"))
        let differences = InspectJSONComparison.differences(actual: actual, expected: expected)
        #expect(differences.isEmpty, "\(differences.prefix(20).joined(separator: "\n"))")
        #expect(actual["configuration"]?["architecture"] != nil)
        #expect(result.maxResidentBytes < 64 << 20)
    }

    @Test func textReportShowsWhatAUserPlansWith() throws {
        let result = try ChildProcess.run(Self.brise, ["inspect", Fixtures.path("gguf/aligned-64.gguf")])
        #expect(result.exitStatus == 0, "\(result.standardError)")
        let text = result.standardOutput
        for expected in ["mistral3", "GGUF v3, alignment 64", "hyperparameters", "head dim (k / v)", "yarn",
            "tensors", "weights (mapped)", "KV cache per token"]
        {
            #expect(text.contains(expected), "missing \(expected) in:\n\(text)")
        }
    }

    @Test func badFilesExitWithTheOffset() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brise-bad-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("gguf/tiny-v3.gguf"))))
        let truncated = directory.appendingPathComponent("truncated.gguf")
        try Data(original.prefix(1000)).write(to: truncated)

        let result = try ChildProcess.run(Self.brise, ["inspect", truncated.path])
        #expect(result.exitStatus == 1)
        #expect(result.standardError.contains("truncated"), "\(result.standardError)")
        #expect(result.standardError.contains("at byte"), "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)

        let missing = try ChildProcess.run(Self.brise, ["inspect", directory.appendingPathComponent("none").path])
        #expect(missing.exitStatus == 1)
        #expect(missing.standardError.contains("cannot open"))

        // Hostile files through the real binary: an error or a report, never a signal.
        var mutator = GGUFMutator(seed: 99)
        for round in 0..<40 {
            let path = directory.appendingPathComponent("m\(round).gguf")
            try Data(mutator.mutate(original)).write(to: path)
            let run = try ChildProcess.run(Self.brise, ["inspect", "--json", path.path])
            #expect(run.signal == nil, "signal \(run.signal ?? 0) on mutation \(round)")
            #expect(run.exitStatus == 0 || run.exitStatus == 1, "\(run.standardError)")
        }
    }

    /// A Ministral 3 3B-shaped Q4_K_M file (2 GB, sparse, with a real-sized Tekken vocabulary):
    /// inspect reads no tensor data and stays under 64 MiB resident.
    @Test(.timeLimit(.minutes(5)))
    func multiGigabyteFileStaysUnder64MiB() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("brise-3b-\(UUID()).gguf").path
        defer { unlink(path) }
        try MinistralShape.writeSparse3B(to: path)

        let (json, result) = try Self.inspectJSON(path)
        let fileSize = try #require(json["fileSize"]?.intValue)
        let weights = try #require(json["memory"]?["weightBytes"]?.intValue)
        #expect(fileSize > 2_000_000_000)
        #expect(weights > 2_000_000_000)
        #expect(json["configuration"]?["keyLength"]?.intValue == 128)
        #expect(json["tokenizer"]?["vocabularySize"]?.intValue == 131_072)
        let perToken = json["memory"]?["kvCache"]?.arrayValue.first?["bytesPerToken"]?.intValue
        #expect(perToken == 106_496)
        print("brise inspect --json on a \(fileSize / 1_000_000) MB file: peak RSS \(result.maxResidentBytes >> 20) MiB")
        #expect(result.maxResidentBytes < 64 << 20, "peak RSS \(result.maxResidentBytes) bytes")

        let text = try ChildProcess.runMeasuringMemory(Self.brise, ["inspect", path])
        #expect(text.exitStatus == 0)
        #expect(text.maxResidentBytes < 64 << 20, "peak RSS \(text.maxResidentBytes) bytes")
        print("brise inspect (text) on the same file: peak RSS \(text.maxResidentBytes >> 20) MiB")
    }
}
