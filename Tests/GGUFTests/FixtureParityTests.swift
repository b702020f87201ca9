import Foundation
import GGUF
import Testing
import TestSupport

/// Files written by gguf-py (scripts/make-gguf-fixtures.py) read exactly as gguf-py reads them.
@Suite struct FixtureParityTests {
    static let fixtures = Fixtures.ggufFixtureNames

    static func load(_ name: String) throws -> (GGUFFile, JSONValue) {
        let file = try GGUFFile(path: Fixtures.path("gguf/\(name).gguf"))
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("gguf/\(name).json")))
        return (file, try JSONDecoder().decode(JSONValue.self, from: data))
    }

    @Test(arguments: fixtures)
    func readsWhatGGUFPyReads(name: String) throws {
        let (file, expected) = try Self.load(name)
        let differences = try GGUFExpectations.differences(file, expected: expected)
        #expect(differences.isEmpty, "\(name): \(differences.prefix(20).joined(separator: "\n"))")
        #expect(file.metadata.count == expected["metadata"]?.arrayValue.count)
        #expect(file.tensors.count == expected["tensors"]?.arrayValue.count)
    }

    @Test func versionTwoAndThreeReadTheSame() throws {
        let (v3, _) = try Self.load("tiny-v3")
        let (v2, _) = try Self.load("tiny-v2")
        #expect(v3.version == 3)
        #expect(v2.version == 2)
        #expect(v2.metadata.entries.map(\.key) == v3.metadata.entries.map(\.key))
        #expect(v2.tensors == v3.tensors)
    }

    /// The tensor bytes a reader hands out are the right ones: F32 and F16 values equal gguf-py's.
    @Test(arguments: fixtures)
    func plainTensorValuesMatch(name: String) throws {
        let (file, expected) = try Self.load(name)
        guard case .object(let firstValues)? = expected["firstValues"] else { return }
        var checked = 0
        for tensor in file.tensors where tensor.type == .f32 || tensor.type == .f16 {
            let listed = try #require(firstValues[tensor.name]).arrayValue
            let want = listed.compactMap(\.doubleValue)
            let got: [Float] = file.withTensorBytes(tensor) { bytes in
                (0..<min(want.count, tensor.elementCount)).map { i in
                    tensor.type == .f32
                        ? bytes.loadUnaligned(fromByteOffset: i * 4, as: Float.self)
                        : Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                }
            }
            #expect(got.count == want.count)
            for (g, w) in zip(got, want) {
                #expect(g.bitPattern == Float(w).bitPattern || (g.isNaN && w.isNaN), "\(tensor.name): \(g) vs \(w)")
            }
            checked += 1
        }
        #expect(checked > 0 || !file.tensors.contains { $0.type == .f32 || $0.type == .f16 })
    }

    /// Data is where the alignment says: a 64-byte-aligned file's tensors start on 64-byte boundaries.
    @Test func alignmentFromMetadata() throws {
        let (file, _) = try Self.load("aligned-64")
        #expect(file.alignment == 64)
        #expect(file.dataOffset % 64 == 0)
        for tensor in file.tensors { #expect(tensor.absoluteOffset % 64 == 0) }
    }

    @Test func integerScoresReadAsNumbers() throws {
        let (file, _) = try Self.load("tekken-scores-i32")
        let scores = try #require(try file.metadata.array("tokenizer.ggml.scores"))
        #expect(scores.elementType == .int32)
        let floats = try scores.floats()
        #expect(floats.count == scores.count)
        #expect(floats.prefix(3) == [0, -1, -2])
    }
}
