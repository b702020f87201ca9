import Foundation
import GGUF
import Testing
import TestSupport

/// Truncated and randomly mutated files end in a thrown `GGUFError` or a valid parse: never a crash,
/// a hang or an out-of-bounds read (CI also runs this suite under AddressSanitizer).
@Suite struct HostileFileTests {
    static let fixtures = Fixtures.ggufFixtureNames

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("gguf/\(name).gguf"))))
    }

    /// Every prefix of a valid file: shorter than the end of its last tensor always throws; longer
    /// (only padding cut) parses.
    @Test(arguments: fixtures)
    func everyTruncationThrowsOrParses(name: String) throws {
        let original = try Self.bytes(name)
        let full = try TinyGGUF.parse(original)
        let needed = full.tensors.map { $0.fileRange.upperBound }.max() ?? full.dataOffset
        var thrown = 0
        for length in 0..<original.count {
            do {
                let file = try TinyGGUF.parse(Array(original[..<length]))
                #expect(length >= needed, "\(name) cut to \(length) bytes parsed, but its tensors need \(needed)")
                try exerciseEverything(file)
            } catch let error as GGUFError {
                #expect(length < needed, "\(name) cut to \(length) bytes (needs \(needed)) threw \(error)")
                #expect(error.offset.map { $0 <= length } ?? true, "\(name) at \(length): offset past the cut: \(error)")
                thrown += 1
            }
        }
        #expect(thrown == needed)
    }

    /// Seeded random mutations of every fixture. `BRISE_MUTATIONS` sets the total (default 100 000).
    @Test(.timeLimit(.minutes(20)))
    func randomMutationsThrowOrParse() throws {
        let total = Int(ProcessInfo.processInfo.environment["BRISE_MUTATIONS"] ?? "") ?? 100_000
        let originals = try Self.fixtures.map(Self.bytes)
        var mutator = GGUFMutator(seed: 0xB215E)
        var outcomes: [String: Int] = [:]
        var checksum = 0
        for round in 0..<total {
            let mutated = mutator.mutate(originals[round % originals.count])
            do {
                let file = try TinyGGUF.parse(mutated)
                do {
                    checksum &+= try exerciseEverything(file)
                    outcomes["parsed", default: 0] += 1
                } catch let error as GGUFError {
                    outcomes["parsed, then accessor threw \(error.code)", default: 0] += 1
                }
            } catch let error as GGUFError {
                outcomes["\(error.code)", default: 0] += 1
            }
        }
        let summary = outcomes.sorted { $0.value > $1.value }.map { "\($0.key): \($0.value)" }
        print("mutations: \(total) files; " + summary.joined(separator: ", ") + " (checksum \(checksum))")
        #expect(outcomes.values.reduce(0, +) == total)
        // The mutator must reach deep into the format, not just break the magic.
        if total >= 10_000 {
            #expect((outcomes["parsed"] ?? 0) > total / 50)
            for code in ["truncated", "limitExceeded", "invalidValueType", "invalidTensor", "unknownTensorType",
                "tensorOutOfBounds", "badMagic"]
            {
                #expect(outcomes[code, default: 0] > 0, "no mutation produced \(code)")
            }
        }
    }

    /// The same through real files and `GGUFFile(path:)`, for a smaller sample.
    @Test func mutatedFilesOnDisk() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brise-mut-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let originals = try Self.fixtures.map(Self.bytes)
        var mutator = GGUFMutator(seed: 7)
        for round in 0..<500 {
            let path = directory.appendingPathComponent("m\(round).gguf").path
            try Data(mutator.mutate(originals[round % originals.count])).write(to: URL(fileURLWithPath: path))
            do {
                try exerciseEverything(try GGUFFile(path: path))
            } catch is GGUFError {}
        }
    }
}
