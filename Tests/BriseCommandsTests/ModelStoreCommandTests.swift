import Foundation
import GGUF
import TestSupport
import Testing

/// `brise pull` and `brise models`, run as real processes against a local HTTP server.
@Suite struct ModelStoreCommandTests {
    static let brise = ChildProcess.builtProduct("brise")

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("brise-store-cli-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func sha256(_ path: String) throws -> String {
        let result = try ChildProcess.run(
            "/usr/bin/env",
            [
                "python3", "-c", "import hashlib,sys;print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
                path,
            ])
        return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func pullResumesVerifiesAndModelsListsIt() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let models = directory.appendingPathComponent("models").path
        let model = try TinyGGUF.model(architecture: "mistral3", seed: 3).serialized()
        try server.serve(model, as: "tiny-mistral3.gguf")
        let served = server.root.appendingPathComponent("tiny-mistral3.gguf").path
        let hash = try Self.sha256(served)

        let pull = try ChildProcess.run(
            Self.brise,
            ["pull", server.url("drop-once", "tiny-mistral3.gguf"), "--models-dir", models, "--sha256", hash])
        #expect(pull.exitStatus == 0, "\(pull.standardError)")
        let finalPath = models + "/tiny-mistral3.gguf"
        #expect(pull.standardOutput == finalPath + "\n")
        #expect(try Data(contentsOf: URL(fileURLWithPath: finalPath)) == Data(model))
        // Not a terminal: plain progress lines, the retry, the check, the hash.
        #expect(pull.standardError.contains("pull: tiny-mistral3.gguf: 100%"), "\(pull.standardError)")
        #expect(pull.standardError.contains("retrying in"), "\(pull.standardError)")
        #expect(pull.standardError.contains("sha256 \(hash) (checked)"), "\(pull.standardError)")
        #expect(!pull.standardError.contains("\r"))
        #expect(try server.requests().map(\.status) == [200, 206])

        try Data("junk".utf8).write(to: URL(fileURLWithPath: models + "/broken.gguf"))
        let list = try ChildProcess.run(Self.brise, ["models", "--models-dir", models])
        #expect(list.exitStatus == 0, "\(list.standardError)")
        let lines = list.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first == "models in \(models) (from --models-dir)")
        #expect(lines.contains { $0.hasPrefix("tiny-mistral3.gguf") && $0.contains("mistral3") && $0.contains("F32") })
        #expect(lines.contains { $0.contains("broken.gguf: GGUF error") })

        // The same directory through the environment, as JSON.
        let json = try ChildProcess.run(Self.brise, ["models", "--json"], environment: ["BRISE_MODELS_DIR": models])
        #expect(json.exitStatus == 0, "\(json.standardError)")
        let report = try JSONDecoder().decode(JSONValue.self, from: Data(json.standardOutput.utf8))
        #expect(report["directorySource"]?.stringValue == "$BRISE_MODELS_DIR")
        let entries = report["models"]?.arrayValue ?? []
        #expect(entries.count == 2)
        #expect(entries.first?["error"]?.stringValue?.contains("badMagic") == true)
        #expect(entries.last?["architecture"]?.stringValue == "mistral3")
        #expect(entries.last?["size"]?.intValue == model.count)
    }

    @Test func pullFailuresExitNonZeroWithTheReason() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let models = directory.appendingPathComponent("models").path
        try server.serve(Array("<html>not a model</html>".utf8), as: "page.gguf")

        let missing = try ChildProcess.run(
            Self.brise, ["pull", server.url("files", "missing.gguf"), "--models-dir", models])
        #expect(missing.exitStatus == 1)
        #expect(missing.standardError.contains("HTTP 404"), "\(missing.standardError)")
        #expect(missing.standardOutput.isEmpty)

        let page = try ChildProcess.run(Self.brise, ["pull", server.url("files", "page.gguf"), "--models-dir", models])
        #expect(page.exitStatus == 1)
        #expect(page.standardError.contains("invalidGGUF"), "\(page.standardError)")

        let unknown = try ChildProcess.run(Self.brise, ["pull", "no-such-model", "--models-dir", models])
        #expect(unknown.exitStatus == 1)
        #expect(unknown.standardError.contains("ministral-3-3b"), "\(unknown.standardError)")

        let listed = try FileManager.default.contentsOfDirectory(atPath: models)
        #expect(listed.filter { !$0.hasPrefix(".") }.isEmpty, "\(listed)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: models + "/.partial").isEmpty)
    }

    /// The in-process commands take a model by name, as brised --model does: a file in the models
    /// directory with or without .gguf; an unknown name says where it looked (exit 66).
    @Test func commandsTakeModelNames() throws {
        let models = FileManager.default.temporaryDirectory.appendingPathComponent("brise-names-\(UUID())")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: models) }
        try FileManager.default.copyItem(
            atPath: Fixtures.path("models/tiny-llama-Q8_0.gguf"), toPath: models.appendingPathComponent("tiny-llama-Q8_0.gguf").path)
        let environment = ["BRISE_MODELS_DIR": models.path]
        let inspect = try ChildProcess.run(Self.brise, ["inspect", "tiny-llama-Q8_0", "--json"], environment: environment)
        #expect(inspect.exitStatus == 0 && inspect.standardOutput.contains(models.path), "\(inspect.standardError)")
        let tokenize = try ChildProcess.run(Self.brise, ["tokenize", "--model", "tiny-llama-Q8_0.gguf", "hello"], environment: environment)
        #expect(tokenize.exitStatus == 0 && !tokenize.standardOutput.isEmpty)
        let generate = try ChildProcess.run(
            Self.brise, ["generate", "--model", "tiny-llama-Q8_0", "--prompt", "abc", "-n", "4", "--temperature", "0"], environment: environment)
        #expect(generate.exitStatus == 0, "\(generate.standardError)")
        let budget = try ChildProcess.run(Self.brise, ["budget", "--model", "tiny-llama-Q8_0"], environment: environment)
        #expect(budget.exitStatus == 0 && budget.standardOutput.contains("memory"), "\(budget.standardOutput) \(budget.standardError)")
        let unknown = try ChildProcess.run(Self.brise, ["generate", "--model", "no-such-model", "--prompt", "abc"], environment: environment)
        #expect(unknown.exitStatus == 66 && unknown.standardError.contains("is not in \(models.path)"), "\(unknown.standardError)")
        let known = try ChildProcess.run(Self.brise, ["inspect", "ministral-3-3b"], environment: environment)
        #expect(known.exitStatus == 66 && known.standardError.contains("brise pull ministral-3-3b"), "\(known.standardError)")
    }

    @Test func knownNamesAreListed() throws {
        let result = try ChildProcess.run(Self.brise, ["models", "--known", "--json"])
        #expect(result.exitStatus == 0, "\(result.standardError)")
        let report = try JSONDecoder().decode(JSONValue.self, from: Data(result.standardOutput.utf8))
        let first = report.arrayValue.first
        #expect(first?["name"]?.stringValue == "ministral-3-3b")
        #expect(first?["sha256"]?.stringValue == "9ed150d4367e68df0ac8e1540f6ddc65b42d0ee26378329d1ecbca60f93fc5f8")
    }

    /// scripts/fetch-models puts the real models where `brise models` looks (one models directory):
    /// with the environment the tests run in, both are listed.
    @Test(.enabled(if: Fixtures.realModelsPresent, Comment(rawValue: Fixtures.missingRealModelsMessage)))
    func fetchedModelsAreListed() throws {
        // (BRISE_MODELS_CACHE, the scripts' older variable, is not brise's: pass its directory on.)
        let legacy = ProcessInfo.processInfo.environment["BRISE_MODELS_CACHE"].map { ["BRISE_MODELS_DIR": $0] } ?? [:]
        let result = try ChildProcess.run(Self.brise, ["models"], environment: legacy)
        #expect(result.exitStatus == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains(Fixtures.realModelsDirectory), "\(result.standardOutput)")
        for name in Fixtures.realModelNames { #expect(result.standardOutput.contains(name), "\(result.standardOutput)") }
    }
}
