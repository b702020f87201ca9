public import Foundation
import ModelStore

/// Paths of the repository's committed fixtures and of the real models fetched outside it.
public enum Fixtures {
    /// The repository's root, found from this file's path.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// `Fixtures/<relative>` in the repository.
    ///
    /// - Parameter relative: The path under `Fixtures/`.
    public static func path(_ relative: String) -> String {
        repositoryRoot.appendingPathComponent("Fixtures").appendingPathComponent(relative).path
    }

    /// The directory `scripts/fetch-models` puts the real small models in: the models directory
    /// `brise models` lists (`ModelsDirectory`'s rule, as scripts/models-dir applies it), or
    /// `$BRISE_MODELS_CACHE`, the scripts' older variable, when set.
    public static var realModelsDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let directory = environment["BRISE_MODELS_CACHE"], !directory.isEmpty { return directory }
        return (try? ModelsDirectory.resolve(flag: nil, environment: environment).path)
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share/brise/models").path
    }

    /// The real small models the tests use when present (`scripts/fetch-models` fetches them).
    public static let realModelNames = ["gemma-3-270m-q4_k_m.gguf", "qwen2.5-coder-0.5b-instruct-q4.gguf"]

    /// The paths of the real models that are present.
    public static var presentRealModels: [String] {
        realModelNames.map { realModelsDirectory + "/" + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// The GGUF files scripts/make-gguf-fixtures.py writes under Fixtures/gguf (with gguf-py's reading).
    public static let ggufFixtureNames = ["tiny-v3", "tiny-v2", "aligned-64", "tekken-scores-i32"]

    /// Whether every real model is present.
    public static var realModelsPresent: Bool { presentRealModels.count == realModelNames.count }

    /// Why real-model tests are skipped.
    public static var missingRealModelsMessage: String {
        "real models absent from \(realModelsDirectory): run scripts/fetch-models to fetch them"
    }
}
