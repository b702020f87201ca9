import Foundation
import GGUF
import Kernels
import Model
import Testing
import TestSupport

/// Diagnostic, runs only when BRISE_POSITION_DUMPS names a directory of llama.cpp per-position logits
/// (`<fixture>-<short|long>.f32`: every position's logits for the prompt followed by its greedy32
/// continuation, fed one token at a time; `.tok`: those tokens as int32), as written by
/// scripts/dump-position-logits.py. Prints, per fixture, the largest |Δ| over all positions and the
/// positions where it exceeds 1e-4; fails only on a missing or malformed dump.
@Suite struct PositionParityTests {
    static var directory: String? {
        ProcessInfo.processInfo.environment["BRISE_POSITION_DUMPS"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static func read<T>(_ path: String, as: T.Type) throws -> [T] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return data.withUnsafeBytes { raw in
            (0..<(data.count / MemoryLayout<T>.size)).map { raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) }
        }
    }

    @Test(.enabled(if: directory != nil), arguments: ParityTests.committed + ParityTests.wide + ParityTests.regenerated + ParityTests.mixture + ParityTests.mixtureWide)
    func everyPosition(name: String) throws {
        let directory = Self.directory!
        for sequence in ["short", "long"] {
            let base = "\(directory)/\(name)-\(sequence)"
            guard FileManager.default.fileExists(atPath: base + ".f32") else { continue }
            let tokens = try Self.read(base + ".tok", as: Int32.self)
            let expected = try Self.read(base + ".f32", as: Float.self)
            let fixture = try ParityTests.load(name)
            // BRISE_OPS_PATH (diagnostic): float ops from another path than the mat-vec kernels.
            let environment = ProcessInfo.processInfo.environment
            let kernelPath = try KernelPath.select(environment: environment)
            let opsPath = try environment["BRISE_OPS_PATH"].map { try KernelPath.select(environment: [KernelPath.environmentVariable: $0]) } ?? kernelPath
            let session = try ModelSession(
                model: try LlamaModel(file: try GGUFFile(path: fixture.path)), contextLength: 256,
                multiplier: try MatrixMultiplier(path: kernelPath, pool: WorkerPool(threadCount: 2)), ops: try FloatOps(path: opsPath))
            let vocabulary = session.model.vocabularySize
            try #require(expected.count == tokens.count * vocabulary)
            var logits: [Float] = []
            for token in tokens { logits += try session.evaluate([token]) }
            var worst: Float = 0
            var bad: [String] = []
            var exact = 0
            var cosines: [Double] = []
            for t in 0..<tokens.count {
                let row = (t * vocabulary)..<((t + 1) * vocabulary)
                let delta = zip(logits[row], expected[row]).map { abs($0 - $1) }.max()!
                if delta == 0 { exact += 1 }
                cosines.append(ParityTests.cosine(logits[row], Array(expected[row])))
                worst = max(worst, delta)
                if delta > 1e-4 { bad.append("\(t):\(String(format: "%.3g", delta))") }
            }
            print("POSITIONS \(name) \(sequence): \(tokens.count) positions, \(exact) bit-exact, max |Δ| \(worst), cosine min \(cosines.min()!) mean \(cosines.reduce(0, +) / Double(cosines.count)); > 1e-4 at \(bad.count): \(bad.prefix(12).joined(separator: " "))")
        }
    }
}
