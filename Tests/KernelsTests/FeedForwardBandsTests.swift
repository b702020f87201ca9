import Foundation
@testable import Kernels
import Testing
import TestSupport

/// A batch's FFN band by band (`MatrixMultiplier.feedForwardInBands`: gate and up a band at a time,
/// the band quantized into the down projection's input) gives the bits of the whole-matrix path
/// (gate and up in full, the activation over whole rows, then `multiply(down, …)`), on every path and
/// quantized down type, with FFN widths that are not a whole number of bands.
@Suite struct FeedForwardBandsTests {
    /// (gate/up type, down type, hidden, ffn): K-quant downs take Q8_K, the others Q8_0; 1056 and
    /// 1312 leave a last band that is not a whole 256 (Q8_0 rows need only 32).
    static let shapes: [(WeightType, WeightType, Int, Int)] = [
        (.q4_K, .q6_K, 256, 2304), (.q4_K, .q4_K, 512, 1280), (.q8_0, .q8_0, 256, 1056), (.q4_0, .q5_0, 256, 1312),
        (.q5_K, .q5_K, 256, 1024), (.q6_K, .q8_0, 256, 3104),
    ]

    @Test(arguments: KernelPath.supported.flatMap { path in shapes.map { (path, $0) } })
    func bandsEqualTheWholeMatrices(path: KernelPath, shape: (WeightType, WeightType, Int, Int)) throws {
        let (type, downType, hidden, ffn) = shape
        guard downType.rowByteCount(columns: ffn) != nil else { return }
        let gateWeights = try RandomWeights(type: type, rows: ffn, columns: hidden, seed: 3)
        let upWeights = try RandomWeights(type: type, rows: ffn, columns: hidden, seed: 4)
        let downWeights = try RandomWeights(type: downType, rows: hidden, columns: ffn, seed: 5)
        let gate = try gateWeights.matrix(type: type, rows: ffn, columns: hidden)
        let up = try upWeights.matrix(type: type, rows: ffn, columns: hidden)
        let down = try downWeights.matrix(type: downType, rows: hidden, columns: ffn)
        for count in [2, 9, 33] {
            let x = MatrixMultiplierTests.random(count * hidden, seed: UInt64(count))
            let multiplier = try MatrixMultiplier(path: path, pool: WorkerPool(threadCount: 2))
            let ops = try FloatOps(path: path)

            // The whole matrices.
            var g = [Float](repeating: .nan, count: count * ffn)
            var u = [Float](repeating: .nan, count: count * ffn)
            var expected = [Float](repeating: .nan, count: count * hidden)
            x.withUnsafeBufferPointer { x in
                g.withUnsafeMutableBufferPointer { multiplier.multiply(gate, batch: x, count: count, into: $0) }
                u.withUnsafeMutableBufferPointer { multiplier.multiply(up, batch: x, count: count, into: $0) }
            }
            for t in 0..<count {
                g.withUnsafeMutableBufferPointer { g in
                    u.withUnsafeBufferPointer { u in
                        let row = UnsafeMutableBufferPointer(rebasing: g[(t * ffn)..<((t + 1) * ffn)])
                        ops.swiglu(gate: UnsafeBufferPointer(row), up: UnsafeBufferPointer(rebasing: u[(t * ffn)..<((t + 1) * ffn)]), into: row)
                    }
                }
            }
            g.withUnsafeBufferPointer { g in
                expected.withUnsafeMutableBufferPointer { multiplier.multiply(down, batch: g, count: count, into: $0) }
            }

            // Band by band.
            let band = 1024
            let bytes = try #require(multiplier.quantizedActivationBytes(for: down, count: count))
            let activations = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            defer { activations.deallocate() }
            var gateBand = [Float](repeating: .nan, count: count * band)
            var upBand = [Float](repeating: .nan, count: count * band)
            var bands: [Range<Int>] = []
            var got = [Float](repeating: .nan, count: count * hidden)
            x.withUnsafeBufferPointer { x in
                gateBand.withUnsafeMutableBufferPointer { gb in
                    upBand.withUnsafeMutableBufferPointer { ub in
                        got.withUnsafeMutableBufferPointer { y in
                            multiplier.feedForwardInBands(
                                gate: gate, up: up, down: down, batch: x, count: count, bandRows: band, gateBand: gb.baseAddress!,
                                upBand: ub.baseAddress!, activations: activations,
                                combine: { range in
                                    bands.append(range)
                                    for t in 0..<count {
                                        let row = UnsafeMutableBufferPointer(start: gb.baseAddress! + t * range.count, count: range.count)
                                        ops.swiglu(
                                            gate: UnsafeBufferPointer(row),
                                            up: UnsafeBufferPointer(start: ub.baseAddress! + t * range.count, count: range.count), into: row)
                                    }
                                }, into: y.baseAddress!)
                        }
                    }
                }
            }
            #expect(bands == stride(from: 0, to: ffn, by: band).map { $0..<min(ffn, $0 + band) })
            #expect(got.map(\.bitPattern) == expected.map(\.bitPattern), "\(path) \(type)/\(downType) ffn \(ffn), \(count) rows")
        }
    }

    /// Float down projections take the gate's output as it is: no quantized input, so no bands.
    @Test func floatDownProjectionsHaveNoQuantizedInput() throws {
        let multiplier = try MatrixMultiplier(path: .scalar, pool: WorkerPool(threadCount: 1))
        for type in [WeightType.f32, .f16, .bf16] {
            let weights = try RandomWeights(type: type, rows: 4, columns: 64, seed: 1)
            #expect(multiplier.quantizedActivationBytes(for: try weights.matrix(type: type, rows: 4, columns: 64), count: 3) == nil)
        }
        let q = try RandomWeights(type: .q4_K, rows: 4, columns: 512, seed: 1)
        #expect(multiplier.quantizedActivationBytes(for: try q.matrix(type: .q4_K, rows: 4, columns: 512), count: 3) == 3 * 2 * 292)
    }
}
