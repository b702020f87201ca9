import Foundation
import GGUF
import TestSupport

/// Files and directories the model-store tests share.
enum StoreFixtures {
    /// A new empty temporary directory.
    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("brise-\(label)-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A valid GGUF model of a few hundred KB (F32 weights, seeded): big enough that a connection
    /// dropped halfway leaves a real partial file.
    static func model(seed: UInt64 = 7) throws -> [UInt8] {
        try TinyGGUF.model(architecture: "llama", seed: seed).serialized()
    }

    /// The number of elements in `model()`'s tensors (TinyGGUF's default shape, worked out by hand:
    /// embeddings 64×64, two blocks of 49 280, output norm 64, output 64×64).
    static let modelParameterCount = 4096 + 2 * 49_280 + 64 + 4096

    /// A `mistral3` file with Q4_K weights and `general.file_type` 15 (tensor data left zero).
    static func quantizedModel() throws -> [UInt8] {
        var writer = try TinyGGUF.model(
            architecture: "mistral3",
            shape: .init(embedding: 256, heads: 4, kvHeads: 2, headDimension: 64, feedForward: 256),
            weightType: .q4_K, withData: false)
        writer.add("general.file_type", .uint32(15))
        return try writer.serialized()
    }

    /// The SHA-256 of `bytes` as `sha256sum` would print it (computed by python3's hashlib, so the
    /// tests do not check our hasher with itself).
    static func referenceSHA256(_ bytes: [UInt8]) throws -> String {
        let directory = try temporaryDirectory("sha")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("data").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let result = try ChildProcess.run(
            "/usr/bin/env",
            [
                "python3", "-c", "import hashlib,sys;print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
                path,
            ])
        return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
