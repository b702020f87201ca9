import Foundation
import GGUF
import ModelStore
import TestSupport
import Testing

/// `InstalledModel.list(in:)`: every `*.gguf` file with what its header says, corrupt ones included.
@Suite struct ListingTests {
    @Test func listsValidAndCorruptFilesAndSkipsTheRest() throws {
        let directory = try StoreFixtures.temporaryDirectory("list")
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ bytes: [UInt8], _ name: String) throws {
            try Data(bytes).write(to: directory.appendingPathComponent(name))
        }
        let fixture = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("gguf/tiny-v3.gguf")))
        try write(Array(fixture), "tiny-v3.gguf")
        let model = try StoreFixtures.model()
        try write(model, "llama-f32.gguf")
        try write(try StoreFixtures.quantizedModel(), "ministral-shaped.GGUF")
        try write(Array(model.prefix(100)), "truncated.gguf")
        try write(Array("this is not a model\n".utf8), "notes.gguf")
        try write([], "empty.gguf")
        try write(model, "readme.txt")  // not *.gguf
        try write(model, ".hidden.gguf")  // hidden
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent(".partial"), withIntermediateDirectories: true)
        try write(model, ".partial/pulling.gguf.part")

        let listed = try InstalledModel.list(in: directory.path)
        #expect(
            listed.map(\.fileName) == [
                "empty.gguf", "llama-f32.gguf", "ministral-shaped.GGUF", "notes.gguf", "tiny-v3.gguf",
                "truncated.gguf",
            ])
        let byName = Dictionary(uniqueKeysWithValues: listed.map { ($0.fileName, $0) })

        let f32 = try #require(try byName["llama-f32.gguf"]?.summary.get())
        #expect(f32.architecture == "llama")
        #expect(f32.name == "tiny llama")
        #expect(f32.quantization == "F32")
        #expect(f32.quantizationSource == .dominantTensorType)
        #expect(f32.parameterCount == StoreFixtures.modelParameterCount)
        #expect(byName["llama-f32.gguf"]?.fileSize == model.count)

        let quantized = try #require(try byName["ministral-shaped.GGUF"]?.summary.get())
        #expect(quantized.architecture == "mistral3")
        #expect(quantized.quantization == "Q4_K_M")
        #expect(quantized.quantizationSource == .fileType)

        let tiny = try #require(try byName["tiny-v3.gguf"]?.summary.get())
        #expect(tiny.architecture == "llama")
        #expect(tiny.name == "brise tiny fixture")
        #expect(tiny.quantization == "Q4_K_M")

        for (name, code) in [("truncated.gguf", GGUFError.Code.truncated), ("notes.gguf", .badMagic)] {
            guard case .failure(let error) = byName[name]?.summary else {
                Issue.record("\(name) should not parse")
                continue
            }
            #expect(error.code == code, "\(name): \(error)")
        }
        guard case .failure = byName["empty.gguf"]?.summary else {
            Issue.record("an empty file should be listed with an error")
            return
        }
    }

    @Test func aMissingDirectoryListsAsEmpty() throws {
        #expect(try InstalledModel.list(in: "/nonexistent/brise/models").isEmpty)
    }

    @Test(arguments: [
        (15, "Q4_K_M"), (0, "F32"), (1, "F16"), (7, "Q8_0"), (18, "Q6_K"), (32, "BF16"), (1024 + 15, "Q4_K_M"),
    ])
    func fileTypesHaveShortNames(fileType: Int, name: String) {
        #expect(ModelSummary.quantizationName(fileType: fileType) == name)
    }

    @Test func unknownFileTypesFallBackToTheDominantTensorType() throws {
        #expect(ModelSummary.quantizationName(fileType: 4) == nil)  // removed Q4_1_SOME_F16
        var writer = try TinyGGUF.model(
            shape: .init(embedding: 256, headDimension: 64), weightType: .q8_0, withData: false)
        writer.add("general.file_type", .uint32(999))
        let file = try TinyGGUF.parse(try writer.serialized())
        let summary = ModelSummary(file: file)
        #expect(summary.quantization == "Q8_0")
        #expect(summary.quantizationSource == .dominantTensorType)
    }
}
