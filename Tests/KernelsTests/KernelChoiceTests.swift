import Foundation
@testable import Kernels
import Testing
import TestSupport

/// Per-type dispatch: only bit-identical paths may stand in for the base path, a measured choice
/// names real candidates, and a multiplier with overrides gives exactly the base path's results.
@Suite struct KernelChoiceTests {
    static let x86 = KernelPath.supported.filter { [.avx2, .avxvnni, .avx512, .avx512vnni].contains($0) }

    @Test func onlyBitIdenticalPathsStandIn() throws {
        let base = KernelPath.best
        for type in WeightType.allCases {
            for path in KernelPath.supported {
                var choice = KernelChoice(base: base)
                if KernelChoice.sameBits(path, base, type) {
                    try choice.use(path, matvec: type)
                    #expect(choice.matvec[type] == (path == base ? nil : path))
                } else {
                    #expect(throws: KernelError.self) { try choice.use(path, matvec: type) }
                }
            }
        }
        // Q4_0 and Q4_K: every x86 path and the scalar reference agree; Q8_0, Q6_K and the rest only with themselves.
        for a in Self.x86 {
            for b in Self.x86 {
                #expect(KernelChoice.sameBits(a, b, .q4_K) && KernelChoice.sameBits(a, b, .q4_0))
                #expect(KernelChoice.sameBits(a, b, .q6_K) == (a == b) && KernelChoice.sameBits(a, b, .q8_0) == (a == b))
            }
        }
    }

    @Test func measuredChoiceUsesCandidatesOnly() throws {
        let base = KernelPath.best
        var matrices: [WeightMatrix] = []
        var keep: [RandomWeights] = []
        for type in [WeightType.q4_0, .q4_K, .q6_K, .q8_0] {
            let weights = try RandomWeights(type: type, rows: 256, columns: 1024, seed: 5)
            keep.append(weights)
            matrices.append(try weights.matrix(type: type, rows: 256, columns: 1024))
        }
        let choice = KernelChoice.measured(base: base, matrices: matrices, pool: WorkerPool(threadCount: 2), streamBytes: 1 << 20)
        for (type, path) in choice.matvec.merging(choice.matmul, uniquingKeysWith: { a, _ in a })
            .merging(choice.smallMatmul, uniquingKeysWith: { a, _ in a })
        {
            #expect(KernelChoice.candidates(base: base, type: type).contains(path), "\(type) on \(path)")
            #expect([.q4_0, .q4_K].contains(type))
        }
        #expect(choice.description.hasPrefix(base.rawValue))
        withExtendedLifetime(keep) {}
    }

    /// Whatever the overrides, results equal the base path's bit for bit (mat-vec, small and large mat-mat).
    @Test(arguments: [WeightType.q4_0, .q4_K])
    func overridesKeepTheBasePathsBits(type: WeightType) throws {
        guard Self.x86.count > 1, let base = Self.x86.last else { return }
        let weights = try RandomWeights(type: type, rows: 96, columns: 512, seed: 3)
        let w = try weights.matrix(type: type, rows: 96, columns: 512, offset: 0)
        var random = SeededRandom(seed: 9)
        let x = (0..<(12 * 512)).map { _ in Float.random(in: -2...2, using: &random) }
        func run(_ choice: KernelChoice) throws -> ([Float], [Float], [Float]) {
            let multiplier = try MatrixMultiplier(path: base, pool: WorkerPool(threadCount: 2), choice: choice)
            var vector = [Float](repeating: .nan, count: 96)
            var small = [Float](repeating: .nan, count: 5 * 96)
            var large = [Float](repeating: .nan, count: 12 * 96)
            x.withUnsafeBufferPointer { x in
                vector.withUnsafeMutableBufferPointer { multiplier.multiply(w, vector: x, into: $0) }
                small.withUnsafeMutableBufferPointer { multiplier.multiply(w, batch: x, count: 5, into: $0) }
                large.withUnsafeMutableBufferPointer { multiplier.multiply(w, batch: x, count: 12, into: $0) }
            }
            return (vector, small, large)
        }
        let plain = try run(KernelChoice(base: base))
        for other in Self.x86 where other != base {
            var choice = KernelChoice(base: base)
            try choice.use(other, matvec: type)
            try choice.use(other, matmul: type)
            try choice.use(other, smallMatmul: type)
            let swapped = try run(choice)
            #expect(swapped.0.map(\.bitPattern) == plain.0.map(\.bitPattern), "\(type) mat-vec on \(other)")
            #expect(swapped.1.map(\.bitPattern) == plain.1.map(\.bitPattern), "\(type) small mat-mat on \(other)")
            #expect(swapped.2.map(\.bitPattern) == plain.2.map(\.bitPattern), "\(type) mat-mat on \(other)")
            // And the small mat-mat's rows equal the mat-vec's.
            #expect(Array(swapped.1[0..<96]).map(\.bitPattern) == swapped.0.map(\.bitPattern))
        }
        #expect(throws: KernelError.self) { try MatrixMultiplier(path: base, pool: WorkerPool(threadCount: 1), choice: KernelChoice(base: .scalar)) }
    }
}

extension KernelChoiceTests {
    /// Another path must beat the base one by more than 5% to be chosen.
    @Test func theBasePathWinsCloseCalls() {
        #expect(KernelChoice.fastest([.avx2, .avx512], [1.0, 1.04], base: .avx512) == .avx512)
        #expect(KernelChoice.fastest([.avx2, .avx512], [1.0, 1.2], base: .avx512) == .avx2)
        #expect(KernelChoice.fastest([.avx2, .avx512], [1.3, 1.0], base: .avx512) == .avx512)
    }
}
