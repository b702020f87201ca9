internal import CKernels
import Foundation

/// Which kernel path runs each weight type's mat-vec and mat-mat: the base path, except where
/// another path gives the same bits (`ck_same_bits`: Q4_0 and Q4_K on every x86 path) and measured
/// faster on this machine. A wider ISA is not always the faster one: on the 2-core Zen 4 box the AVX2
/// Q4_K and Q4_0 mat-vecs beat the AVX-512 ones (fewer instructions per block for one column), while
/// the AVX-512 VNNI mat-mats win for prefill.
public struct KernelChoice: Sendable, Hashable, CustomStringConvertible {
    /// The path everything else runs on.
    public let base: KernelPath
    /// Mat-vec overrides (decode).
    public private(set) var matvec: [WeightType: KernelPath] = [:]
    /// Mat-mat overrides (prefill: more than `smallBatch` activation rows).
    public private(set) var matmul: [WeightType: KernelPath] = [:]
    /// Mat-mat overrides for batches of 2 to `smallBatch` rows (several streams decoded together,
    /// speculative verification), which order the kernels like decode more than like prefill.
    public private(set) var smallMatmul: [WeightType: KernelPath] = [:]

    /// The most activation rows a mat-mat counts as small.
    public static let smallBatch = 8

    /// Everything on `base`.
    public init(base: KernelPath) {
        self.base = base
    }

    /// Whether `a` and `b` give bit-identical `type` results, so either may run it.
    public static func sameBits(_ a: KernelPath, _ b: KernelPath, _ type: WeightType) -> Bool {
        ck_same_bits(a.cPath, b.cPath, type.cType)
    }

    /// The paths that may stand in for `base` on `type`: supported, bit-identical, not the scalar reference.
    public static func candidates(base: KernelPath, type: WeightType) -> [KernelPath] {
        KernelPath.supported.filter { $0 != .scalar && sameBits($0, base, type) }
    }

    /// Sets the path of one kernel (an override only when it gives `base`'s bits).
    ///
    /// - Throws: `KernelError` `.unsupportedPath` for a path that is unsupported or not bit-identical.
    public mutating func use(_ path: KernelPath, matvec type: WeightType) throws {
        try Self.check(path, base, type)
        matvec[type] = path == base ? nil : path
    }

    /// Sets the path of one mat-mat kernel (as `use(_:matvec:)`).
    public mutating func use(_ path: KernelPath, matmul type: WeightType) throws {
        try Self.check(path, base, type)
        matmul[type] = path == base ? nil : path
    }

    /// Sets the path of one mat-mat kernel for small batches (as `use(_:matvec:)`).
    public mutating func use(_ path: KernelPath, smallMatmul type: WeightType) throws {
        try Self.check(path, base, type)
        smallMatmul[type] = path == base ? nil : path
    }

    private static func check(_ path: KernelPath, _ base: KernelPath, _ type: WeightType) throws {
        guard path.isSupported, sameBits(path, base, type) else {
            throw KernelError(.unsupportedPath, "the \(path) \(type) kernels do not give the \(base) path's bits")
        }
    }

    /// The choice measured now on `matrices` (a model's, in the order a decode step reads them): for
    /// each type with more than one candidate, each candidate's mat-vec streams through the first
    /// `streamBytes` of that type's matrices on `pool` (best of two passes, after one pass that brings
    /// the pages in), its mat-mat runs a batch of 64 over the first of them (best of three: with 16
    /// columns and two tries the AVX2 Q4_K mat-mat was picked in one load of the 8B-shaped file and its
    /// prefill ran at 18 tokens/s instead of 31), and its small mat-mat a batch of 4 streamed like the
    /// mat-vec; a path other than `base` must win by more than 5%. Out-of-cache streaming
    /// is what decode does, and it orders the kernels differently from in-cache timing: on the Zen 4
    /// box the AVX-512 Q4_K mat-vec computes faster in cache but streams slower than the AVX2 one.
    /// About 25 ms per type on a 3B model; the results are exact whichever wins.
    ///
    /// - Parameters:
    ///   - base: The path everything else runs on.
    ///   - matrices: The weights to measure on.
    ///   - pool: The pool the products will run on.
    ///   - streamBytes: How much of each type's weights one mat-vec pass reads.
    public static func measured(base: KernelPath, matrices: [WeightMatrix], pool: WorkerPool, streamBytes: Int = 48 << 20)
        -> KernelChoice
    {
        var choice = KernelChoice(base: base)
        let types = Set(matrices.map(\.type)).sorted { $0.rawValue < $1.rawValue }
        for type in types {
            let paths = candidates(base: base, type: type)
            guard paths.count > 1 else { continue }
            var set: [WeightMatrix] = []
            var bytes = 0
            for matrix in matrices where matrix.type == type && bytes < streamBytes {
                set.append(matrix)
                bytes += matrix.byteCount
            }
            guard let widest = set.map(\.columns).max(), let tallest = set.map(\.rows).max(),
                let multipliers = try? paths.map({ try MatrixMultiplier(path: $0, pool: pool) })
            else { continue }
            let batch = 64
            let x = (0..<(batch * widest)).map { Float(($0 * 37) % 101 - 50) / 50 }
            var y = [Float](repeating: 0, count: batch * tallest)
            func stream(_ multiplier: MatrixMultiplier) -> Double {
                x.withUnsafeBufferPointer { x in
                    y.withUnsafeMutableBufferPointer { y in
                        timed { for matrix in set { multiplier.multiply(matrix, vector: x, into: y) } }
                    }
                }
            }
            func streamSmall(_ multiplier: MatrixMultiplier) -> Double {
                x.withUnsafeBufferPointer { x in
                    y.withUnsafeMutableBufferPointer { y in
                        timed { for matrix in set { multiplier.multiply(matrix, batch: x, count: 4, into: y) } }
                    }
                }
            }
            func batched(_ multiplier: MatrixMultiplier) -> Double {
                x.withUnsafeBufferPointer { x in
                    y.withUnsafeMutableBufferPointer { y in
                        timed { multiplier.multiply(set[0], batch: x, count: batch, into: y) }
                    }
                }
            }
            _ = stream(multipliers[0])  // brings the pages in (and the caches to a steady state)
            let matvecTimes = multipliers.map { m in min(stream(m), stream(m)) }
            let matmulTimes = multipliers.map { m in min(batched(m), batched(m), batched(m)) }
            let smallTimes = multipliers.map { m in min(streamSmall(m), streamSmall(m)) }
            try? choice.use(Self.fastest(paths, matvecTimes, base: base), matvec: type)
            try? choice.use(Self.fastest(paths, matmulTimes, base: base), matmul: type)
            try? choice.use(Self.fastest(paths, smallTimes, base: base), smallMatmul: type)
        }
        return choice
    }

    /// The fastest path, but `base` unless another beats it by more than 5% (a shared machine's noise
    /// must not flip the choice between kernels that are about as fast).
    static func fastest(_ paths: [KernelPath], _ seconds: [Double], base: KernelPath) -> KernelPath {
        guard let best = seconds.indices.min(by: { seconds[$0] < seconds[$1] }) else { return base }
        if let baseIndex = paths.firstIndex(of: base), seconds[baseIndex] <= seconds[best] * 1.05 { return base }
        return paths[best]
    }

    private static func timed(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// "avx512vnni (q4_K mat-vec: avx2)", or the base path alone.
    public var description: String {
        let parts = (matvec.map { "\($0.key) mat-vec: \($0.value)" } + matmul.map { "\($0.key) mat-mat: \($0.value)" }
            + smallMatmul.map { "\($0.key) small mat-mat: \($0.value)" }).sorted()
        return parts.isEmpty ? base.rawValue : "\(base.rawValue) (\(parts.joined(separator: ", ")))"
    }
}
