import CKernels
import Foundation
@testable import Kernels
import Testing
import TestSupport

/// The Swift face of the kernels: every path × type through the pool agrees with the scalar
/// reference and with a Swift reference twin; mat-mat equals mat-vec; thread count does not change
/// results; dequantization matches gguf-py's fixtures.
@Suite struct MatrixMultiplierTests {
    /// Pools are single-caller and tests run concurrently: every use gets its own.
    static func pool(_ threads: Int) -> WorkerPool { WorkerPool(threadCount: threads) }

    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in Float.random(in: -2...2, using: &random) }
    }

    static func multiply(_ w: WeightMatrix, _ x: [Float], path: KernelPath, pool: WorkerPool) throws -> [Float] {
        let multiplier = try MatrixMultiplier(path: path, pool: pool)
        var y = [Float](repeating: .nan, count: w.rows)
        x.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { multiplier.multiply(w, vector: x, into: $0) }
        }
        return y
    }

    /// The Swift twin: dequantize the weights and the *quantized* activations with the scalar C
    /// dequantizers, then sum in Double. Equal to the kernels' result up to float rounding.
    static func reference(_ w: WeightMatrix, _ x: [Float]) throws -> [Double] {
        let multiplier = try MatrixMultiplier(path: .scalar, pool: pool(1))
        var xq = x
        switch w.type.activationFormat {
        case .f32:
            // F16 weights take F16 activations (llama.cpp's vec_dot_type for F16).
            if w.type == .f16 { xq = x.map { Float(Float16($0)) } }
        case .q8_0: xq = roundTrip(x, blockBytes: 34) { ck_quantize_row_q8_0($0, $1, $2) } dequantize: { ck_dequantize_row_q8_0($0, $1, $2) }
        case .q8_K: xq = roundTrip(x, blockBytes: 292) { ck_quantize_row_q8_K($0, $1, $2) } dequantize: { ck_dequantize_row_q8_K($0, $1, $2) }
        }
        var row = [Float](repeating: 0, count: w.columns)
        return (0..<w.rows).map { r in
            row.withUnsafeMutableBufferPointer { multiplier.dequantizeRow(w, row: r, into: $0) }
            return zip(row, xq).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
    }

    static func roundTrip(
        _ x: [Float], blockBytes: Int, quantize: (UnsafePointer<Float>, UnsafeMutableRawPointer, Int) -> Void,
        dequantize: (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void
    ) -> [Float] {
        let blockSize = blockBytes == 34 ? 32 : 256
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: x.count / blockSize * blockBytes, alignment: 64)
        defer { bytes.deallocate() }
        var out = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { quantize($0.baseAddress!, bytes, x.count) }
        out.withUnsafeMutableBufferPointer { dequantize(bytes, $0.baseAddress!, x.count) }
        return out
    }

    static let cases: [(KernelPath, WeightType)] = KernelPath.supported.flatMap { path in
        WeightType.allCases.map { (path, $0) }
    }

    @Test(arguments: cases)
    func pathAgreesWithScalarAndTwin(path: KernelPath, type: WeightType) throws {
        let (rows, columns) = (77, 1024)
        let weights = try RandomWeights(type: type, rows: rows, columns: columns, seed: 42)
        let w = try weights.matrix(type: type, rows: rows, columns: columns)
        let x = Self.random(columns, seed: 7)
        let got = try Self.multiply(w, x, path: path, pool: Self.pool(2))
        let scalar = try Self.multiply(w, x, path: .scalar, pool: Self.pool(1))
        let twin = try Self.reference(w, x)
        // Tolerance: only float summation order differs (integer parts are exact), so errors are
        // a few ulps of the sum of |terms|; bound it by that magnitude.
        var row = [Float](repeating: 0, count: columns)
        let multiplier = try MatrixMultiplier(path: .scalar, pool: Self.pool(1))
        for r in 0..<rows {
            row.withUnsafeMutableBufferPointer { multiplier.dequantizeRow(w, row: r, into: $0) }
            let magnitude = zip(row, x).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
            let tolerance = 1e-5 * magnitude + 1e-6
            #expect(abs(Double(got[r]) - Double(scalar[r])) <= tolerance, "\(path) \(type) row \(r): \(got[r]) vs scalar \(scalar[r])")
            #expect(abs(Double(scalar[r]) - twin[r]) <= tolerance, "\(type) row \(r): scalar \(scalar[r]) vs twin \(twin[r])")
        }
    }

    /// llama.cpp's x86 ggml_vec_dot_q8_0_q8_0 / ggml_vec_dot_q5_0_q8_0 (the __AVX2__ branches its AVX2 and
    /// AVX-512 builds run), in Swift: one 8-lane float accumulator; per block in order,
    /// d = f16(w.d) * f16(a.d) and, per lane l, acc[l] = fma(d, Σ of the 4 products 4l..4l+3, acc[l]);
    /// then hsum_float_8 (high half + low half, then lanes 0+2 and 1+3, then those two).
    static func llamaCppOrder(_ type: WeightType, _ weights: RandomWeights, rows: Int, columns: Int, _ x: [Float]) -> [Float] {
        let blocks = columns / 32
        let blockBytes = type == .q8_0 ? 34 : 22
        let xq = UnsafeMutableRawPointer.allocate(byteCount: blocks * 34, alignment: 64)
        defer { xq.deallocate() }
        x.withUnsafeBufferPointer { ck_quantize_row_q8_0($0.baseAddress!, xq, columns) }
        func half(_ p: UnsafeRawPointer) -> Float { Float(Float16(bitPattern: p.loadUnaligned(as: UInt16.self))) }
        func weight(_ w: UnsafeRawPointer, _ j: Int) -> Int32 {
            if type == .q8_0 { return Int32(w.load(fromByteOffset: 2 + j, as: Int8.self)) }
            let qh = w.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
            let byte = w.load(fromByteOffset: 6 + j % 16, as: UInt8.self)
            let nibble = j < 16 ? byte & 0x0F : byte >> 4
            return Int32(nibble) | Int32((qh >> UInt32(j)) & 1) << 4 - 16
        }
        return (0..<rows).map { r in
            var acc = [Float](repeating: 0, count: 8)
            for b in 0..<blocks {
                let wb = UnsafeRawPointer(weights.base + (r * blocks + b) * blockBytes), ab = UnsafeRawPointer(xq + b * 34)
                let d = half(wb) * half(ab)
                for l in 0..<8 {
                    var sum: Int32 = 0
                    for j in (4 * l)..<(4 * l + 4) { sum += weight(wb, j) * Int32(ab.load(fromByteOffset: 2 + j, as: Int8.self)) }
                    acc[l].addProduct(d, Float(sum))
                }
            }
            let h = (0..<4).map { acc[$0 + 4] + acc[$0] }
            return (h[0] + h[2]) + (h[1] + h[3])
        }
    }

    /// Q8_0 and Q5_0 on the x86 SIMD paths sum in llama.cpp's order, bit for bit (a last-bit difference
    /// can cross a Q8_0 activation rounding boundary in the next layer and move logits by ~0.2). Odd row
    /// count and 2 threads: every row grouping of the kernels is exercised.
    @Test(arguments: KernelPath.supported.filter { [.avx2, .avxvnni, .avx512, .avx512vnni].contains($0) }.flatMap { path in
        [WeightType.q8_0, .q5_0].map { (path, $0) }
    })
    func sumsInLlamaCppOrder(path: KernelPath, type: WeightType) throws {
        let (rows, columns) = (77, 1024)
        let weights = try RandomWeights(type: type, rows: rows, columns: columns, seed: 5)
        let w = try weights.matrix(type: type, rows: rows, columns: columns)
        let x = Self.random(columns, seed: 9)
        let got = try Self.multiply(w, x, path: path, pool: Self.pool(2))
        let want = Self.llamaCppOrder(type, weights, rows: rows, columns: columns, x)
        #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "\(type) on \(path)")
    }

    /// Q6_K: the AVX-512 kernels sum like the AVX2 one, which follows llama.cpp's x86 ggml_vec_dot_q6_K_q8_K
    /// (one 8-lane accumulator, one FMA per super-block; measured bit-exact against llama.cpp on the
    /// tiny-llama-Q6_K fixture at every position).
    @Test(arguments: KernelPath.supported.filter { [.avx512, .avx512vnni].contains($0) })
    func q6_KMatchesTheAVX2Order(path: KernelPath) throws {
        guard KernelPath.avx2.isSupported else { return }
        let (rows, columns) = (37, 1024)
        let weights = try RandomWeights(type: .q6_K, rows: rows, columns: columns, seed: 21)
        let w = try weights.matrix(type: .q6_K, rows: rows, columns: columns)
        let x = Self.random(columns, seed: 22)
        let got = try Self.multiply(w, x, path: path, pool: Self.pool(2))
        let avx2 = try Self.multiply(w, x, path: .avx2, pool: Self.pool(1))
        #expect(got.map(\.bitPattern) == avx2.map(\.bitPattern))
    }

    /// The worker split never changes a result: every thread count gives the same bits.
    @Test(arguments: KernelPath.supported)
    func threadCountDoesNotChangeResults(path: KernelPath) throws {
        for type in [WeightType.q4_K, .q8_0, .f16] {
            let weights = try RandomWeights(type: type, rows: 300, columns: 512, seed: 3)
            let w = try weights.matrix(type: type, rows: 300, columns: 512)
            let x = Self.random(512, seed: 5)
            let results = try [1, 2, 3].map { try Self.multiply(w, x, path: path, pool: Self.pool($0)) }
            #expect(results[0].map(\.bitPattern) == results[1].map(\.bitPattern))
            #expect(results[0].map(\.bitPattern) == results[2].map(\.bitPattern))
        }
    }

    /// Mat-mat (prefill) row j equals mat-vec of vector j, bit for bit, on each path.
    @Test(arguments: cases)
    func batchEqualsVectors(path: KernelPath, type: WeightType) throws {
        try Self.expectBatchEqualsVectors(path: path, type: type, rows: 50, columns: 512, count: 7, weightSeed: 11, inputSeed: 13)
    }

    /// Multiplies a random `rows × columns` matrix of `type` with `count` random vectors as one batch
    /// (2 threads) and each alone (1 thread): the same bits, row by row.
    static func expectBatchEqualsVectors(
        path: KernelPath, type: WeightType, rows: Int, columns: Int, count: Int, weightSeed: UInt64, inputSeed: UInt64
    ) throws {
        let weights = try RandomWeights(type: type, rows: rows, columns: columns, seed: weightSeed)
        let w = try weights.matrix(type: type, rows: rows, columns: columns)
        let x = Self.random(count * columns, seed: inputSeed)
        let multiplier = try MatrixMultiplier(path: path, pool: Self.pool(2))
        var y = [Float](repeating: .nan, count: count * rows)
        x.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { multiplier.multiply(w, batch: x, count: count, into: $0) }
        }
        for j in 0..<count {
            let single = try Self.multiply(w, Array(x[(j * columns)..<((j + 1) * columns)]), path: path, pool: Self.pool(1))
            #expect(
                Array(y[(j * rows)..<((j + 1) * rows)]).map(\.bitPattern) == single.map(\.bitPattern), "\(type) \(columns) columns, vector \(j)")
        }
    }

    /// Wide rows and batches of verification's and prefill's sizes: the Q5_0 / Q8_0 mat-mats that
    /// compute each activation block's share once (in several rounds when the shares of the whole batch
    /// do not fit their stack budget, and the per-row kernel for rows longer than that) still equal
    /// mat-vec bit for bit.
    @Test(arguments: KernelPath.supported.flatMap { path in [WeightType.q5_0, .q8_0].map { (path, $0) } })
    func wideBatchesEqualVectors(path: KernelPath, type: WeightType) throws {
        for (rows, columns, count) in [(24, 4864, 17), (20, 14336, 9), (9, 28672, 5), (12, 896, 40)] {
            try Self.expectBatchEqualsVectors(path: path, type: type, rows: rows, columns: columns, count: count, weightSeed: 5, inputSeed: 17)
        }
    }

    /// Dequantization equals gguf-py's numpy dequantizers on the committed fixtures, bit for bit.
    @Test(arguments: WeightType.allCases)
    func dequantizationMatchesGGUFPy(type: WeightType) throws {
        let text = try String(contentsOfFile: Fixtures.path("kernels/dequant_\(type.rawValue).txt"), encoding: .utf8)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        let elements = try #require(Int(fields["elements"] ?? ""))
        let blocks = try #require(Data(base64Encoded: fields["blocks"] ?? ""))
        let floats = try #require(Data(base64Encoded: fields["floats"] ?? ""))
        #expect(floats.count == elements * 4)
        let expected: [UInt32] = floats.withUnsafeBytes { raw in (0..<elements).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self) } }
        var got = [Float](repeating: 0, count: elements)
        try blocks.withUnsafeBytes { raw in
            let w = try WeightMatrix(base: raw.baseAddress!, type: type, rows: 1, columns: elements, owner: nil)
            let multiplier = try MatrixMultiplier(path: .scalar, pool: Self.pool(1))
            got.withUnsafeMutableBufferPointer { multiplier.dequantizeRow(w, row: 0, into: $0) }
        }
        #expect(got.map(\.bitPattern) == expected)
    }

    @Test func pathSelectionFromTheEnvironment() throws {
        #expect(try KernelPath.select(environment: [:]) == KernelPath.best)
        #expect(try KernelPath.select(environment: ["BRISE_KERNEL_PATH": "scalar"]) == .scalar)
        #expect(throws: KernelError.self) { try KernelPath.select(environment: ["BRISE_KERNEL_PATH": "sse9"]) }
        #if arch(x86_64)
        #expect(throws: KernelError.self) { try KernelPath.select(environment: ["BRISE_KERNEL_PATH": "neon"]) }
        #expect(KernelPath.best != .scalar)
        #endif
    }

    @Test func shapesThatAreNotWholeBlocksAreRefused() {
        #expect(throws: KernelError.self) { try RandomWeights(type: .q4_K, rows: 1, columns: 100, seed: 1) }
        #expect(WeightType(ggmlTypeID: 12) == .q4_K)
        #expect(WeightType(ggmlTypeID: 10) == nil)  // Q2_K: loadable by GGUF, not computed here
    }
}
