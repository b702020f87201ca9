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
    /// Mat-mat overrides (prefill, batched decode).
    public private(set) var matmul: [WeightType: KernelPath] = [:]

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

    private static func check(_ path: KernelPath, _ base: KernelPath, _ type: WeightType) throws {
        guard path.isSupported, sameBits(path, base, type) else {
            throw KernelError(.unsupportedPath, "the \(path) \(type) kernels do not give the \(base) path's bits")
        }
    }

    /// The choice for `types` measured now: for each type with more than one candidate, each
    /// candidate's mat-vec and mat-mat timed on weights that fit in the L2 cache (their compute rate,
    /// which orders them out of cache too when they are compute-bound), on the calling thread, best of
    /// three. About 3 ms per candidate and type; the results are exact whichever wins.
    ///
    /// - Parameters:
    ///   - base: The path everything else runs on.
    ///   - types: The weight types to choose for (a model's).
    public static func measured(base: KernelPath, types: some Sequence<WeightType>) -> KernelChoice {
        var choice = KernelChoice(base: base)
        for type in Set(types).sorted(by: { $0.rawValue < $1.rawValue }) {
            let paths = candidates(base: base, type: type)
            guard paths.count > 1, let timing = try? KernelTiming(type: type) else { continue }
            let matvecTimes = paths.map { ($0, timing.matvecSeconds($0)) }
            let matmulTimes = paths.map { ($0, timing.matmulSeconds($0)) }
            let fastestMatvec = matvecTimes.min { $0.1 < $1.1 }?.0 ?? base
            let fastestMatmul = matmulTimes.min { $0.1 < $1.1 }?.0 ?? base
            try? choice.use(fastestMatvec, matvec: type)
            try? choice.use(fastestMatmul, matmul: type)
        }
        return choice
    }

    /// "avx512vnni (q4_K mat-vec: avx2)", or the base path alone.
    public var description: String {
        let parts = (matvec.map { "\($0.key) mat-vec: \($0.value)" } + matmul.map { "\($0.key) mat-mat: \($0.value)" }).sorted()
        return parts.isEmpty ? base.rawValue : "\(base.rawValue) (\(parts.joined(separator: ", ")))"
    }
}

/// Times one type's kernels on a small random matrix (for `KernelChoice.measured`).
private final class KernelTiming {
    static let rows = 128
    static let columns = 4096
    static let batch = 8
    let type: WeightType
    let weights: RandomWeights
    let activations: UnsafeMutableRawPointer
    let output: UnsafeMutablePointer<Float>
    let rowBytes: Int
    let activationStride: Int

    init(type: WeightType) throws {
        self.type = type
        weights = try RandomWeights(type: type, rows: Self.rows, columns: Self.columns, seed: 7)
        rowBytes = type.rowByteCount(columns: Self.columns) ?? 0
        activationStride = type.activationFormat.rowByteCount(columns: Self.columns)
        activations = .allocate(byteCount: activationStride * Self.batch, alignment: 64)
        output = .allocate(capacity: Self.rows * Self.batch)
        // Activations quantized from a fixed float ramp, with the scalar quantizer (the same bytes on every path).
        let floats = (0..<Self.columns).map { Float(($0 * 37) % 101 - 50) / 50 }
        guard let table = ck_select_kernels(CK_PATH_SCALAR)?.pointee else {
            throw KernelError(.unsupportedPath, "no scalar kernels")
        }
        let quantize = type.activationFormat == .q8_0 ? table.quantize_q8_0 : table.quantize_q8_K
        floats.withUnsafeBufferPointer { f in
            for j in 0..<Self.batch { quantize(f.baseAddress!, activations + j * activationStride, Self.columns) }
        }
    }

    deinit {
        activations.deallocate()
        output.deallocate()
    }

    private func best(_ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }

    func matvecSeconds(_ path: KernelPath) -> Double {
        guard let kernel = ck_select_kernels(path.cPath)?.pointee.matvec(for: type) else { return .infinity }
        let (w, stride, x, y) = (weights.base, rowBytes, activations, output)
        kernel(w, stride, x, y, 0, Self.rows, Self.columns)  // into the caches
        return best {
            for _ in 0..<16 { kernel(w, stride, x, y, 0, Self.rows, Self.columns) }
        }
    }

    func matmulSeconds(_ path: KernelPath) -> Double {
        guard let kernel = ck_select_kernels(path.cPath)?.pointee.matmul(for: type) else { return .infinity }
        let (w, stride, x, xStride, y) = (weights.base, rowBytes, activations, activationStride, output)
        let run = { kernel(w, stride, x, xStride, Self.batch, y, Self.rows, 0, Self.rows, Self.columns) }
        run()
        return best {
            for _ in 0..<2 { run() }
        }
    }
}
