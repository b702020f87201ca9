import Foundation
import GGUF
import Testing
import TestSupport

/// The real small models (Gemma 3 270M, Qwen2.5-Coder-0.5B) read exactly as gguf-py reads them.
///
/// gguf-py's reading is committed under Fixtures/real-models (scripts/compare-gguf-inspect.py
/// --write-expected); the models themselves come from `scripts/fetch-models`.
@Suite struct RealModelTests {
    @Test(
        .enabled(if: Fixtures.realModelsPresent, Comment(rawValue: Fixtures.missingRealModelsMessage)),
        arguments: Fixtures.realModelNames)
    func readsWhatGGUFPyReads(name: String) throws {
        let file = try GGUFFile(path: Fixtures.realModelsDirectory + "/" + name)
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("real-models/\(name).json")))
        let expected = try JSONDecoder().decode(JSONValue.self, from: data)
        let differences = try GGUFExpectations.differences(file, expected: expected)
        #expect(differences.isEmpty, "\(name): \(differences.prefix(20).joined(separator: "\n"))")
        #expect(file.tensors.count > 200)

        let configuration = try ModelConfiguration(metadata: file.metadata)
        #expect(configuration.vocabularySize == (try file.metadata.array("tokenizer.ggml.tokens"))?.count)
        try exerciseEverything(file)
    }

    @Test(.enabled(if: Fixtures.presentRealModels.contains { $0.hasSuffix("gemma-3-270m-q4_k_m.gguf") }))
    func gemmaHeadDimensionComesFromKeyLength() throws {
        let file = try GGUFFile(path: Fixtures.realModelsDirectory + "/gemma-3-270m-q4_k_m.gguf")
        let configuration = try ModelConfiguration(metadata: file.metadata)
        #expect(configuration.architecture == .gemma3)
        #expect(configuration.embeddingLength / configuration.headCount[0] == 160)
        #expect(configuration.keyLength == 256)  // not 640 / 4
        #expect(configuration.slidingWindow == 512)
        #expect((0..<18).filter { !configuration.usesSlidingWindow(layer: $0) } == [5, 11, 17])
        // 18 layers × 1 KV head × (256 + 256) × 2 bytes.
        #expect(configuration.kvCacheBytesPerToken() == 18 * 512 * 2)
    }
}
