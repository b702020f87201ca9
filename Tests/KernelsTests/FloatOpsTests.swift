import Foundation
import Kernels
import TestSupport
import Testing

/// The float ops through Swift, on every path this CPU runs, against straightforward Swift reference
/// computations (Double formulas), against the scalar path, and the pointer forms against the buffer
/// forms. The C agreement tests (Tests/CKernelsC/test_ops.c) cover the bit-level claims exhaustively;
/// these check the Swift face and the semantics.
@Suite struct FloatOpsTests {
    static let paths = KernelPath.supported

    static func random(_ count: Int, seed: UInt64, in range: ClosedRange<Float> = -3...3) -> [Float] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in Float.random(in: range, using: &random) }
    }

    /// |got - want| within `relative`·|want| + `absolute`.
    static func close(_ got: Float, _ want: Double, relative: Double, absolute: Double = 1e-30) -> Bool {
        abs(Double(got) - want) <= relative * abs(want) + absolute
    }

    static func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    // MARK: - RMSNorm

    @Test(arguments: paths)
    func rmsNormMatchesDoublePrecisionFormula(path: KernelPath) throws {
        let ops = try FloatOps(path: path)
        for (n, seed) in [(1, 1), (7, 2), (64, 3), (3072, 4), (4099, 5)] {
            let x = Self.random(n, seed: UInt64(seed))
            let w = Self.random(n, seed: UInt64(seed) + 100)
            var y = [Float](repeating: .nan, count: n)
            x.withUnsafeBufferPointer { x in
                w.withUnsafeBufferPointer { w in
                    y.withUnsafeMutableBufferPointer { ops.rmsNorm(x, weight: w, epsilon: 1e-5, into: $0) }
                }
            }
            let meanSquare = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n)
            let scale = 1 / (meanSquare + 1e-5).squareRoot()
            for i in 0..<n {
                let want = Double(x[i]) * scale * Double(w[i])
                #expect(Self.close(y[i], want, relative: 4 * Double(Float.ulpOfOne)), "n \(n) [\(i)]")
            }
        }
    }

    // MARK: - RoPE

    /// The angle of pair k as ggml builds it: the position times θ^(-2/n) multiplied in k times, in
    /// Float (MODEL-SPEC.md §4.2), so the reference differs from the kernels only in cos/sin.
    static func ggmlAngles(position: Int, dimensions: Int, base: Float) -> [Float] {
        let thetaScale = powf(base, -2 / Float(dimensions))  // glibc powf, as ggml
        var theta = Float(position)
        var angles: [Float] = []
        for _ in 0..<dimensions / 2 {
            angles.append(theta)
            theta *= thetaScale
        }
        return angles
    }

    /// Rotates heads with the textbook formula in Double.
    static func rotate(
        _ x: [Float], ordering: RoPEOrdering, dimensions: Int, headDimension: Int, angles: [Double],
        magnitude: Double = 1
    ) -> [Double] {
        var y = x.map(Double.init)
        for head in 0..<x.count / headDimension {
            let base = head * headDimension
            for k in 0..<dimensions / 2 {
                let (ia, ib) =
                    ordering == .norm ? (base + 2 * k, base + 2 * k + 1) : (base + k, base + k + dimensions / 2)
                let (a, b) = (Double(x[ia]), Double(x[ib]))
                let (c, s) = (magnitude * cos(angles[k]), magnitude * sin(angles[k]))
                y[ia] = a * c - b * s
                y[ib] = a * s + b * c
            }
        }
        return y
    }

    @Test(arguments: paths, [RoPEOrdering.norm, .neox])
    func ropeMatchesCosSinFormula(path: KernelPath, ordering: RoPEOrdering) throws {
        let ops = try FloatOps(path: path)
        // (dimensions, head dimension, heads, position, base): full rotary, partial rotary, qwen2-like.
        for (dimensions, headDimension, heads, position, base) in [
            (128, 128, 4, 5, Float(10000)), (128, 128, 2, 4095, 10000), (32, 48, 3, 777, 10000),
            (64, 64, 2, 31000, 1_000_000),
        ] {
            let configuration = RoPEConfiguration(dimensions: dimensions, base: base)
            var cache = [Float](repeating: .nan, count: dimensions)
            cache.withUnsafeMutableBufferPointer { ops.ropeCache(configuration, position: position, into: $0) }
            var x = Self.random(heads * headDimension, seed: UInt64(position))
            let original = x
            cache.withUnsafeBufferPointer { cache in
                x.withUnsafeMutableBufferPointer {
                    ops.rope(ordering, cache: cache, dimensions: dimensions, headDimension: headDimension, $0)
                }
            }
            let angles = Self.ggmlAngles(position: position, dimensions: dimensions, base: base).map(Double.init)
            let want = Self.rotate(
                original, ordering: ordering, dimensions: dimensions, headDimension: headDimension, angles: angles)
            for i in x.indices {
                #expect(
                    Self.close(x[i], want[i], relative: 0, absolute: 2e-6),
                    "\(ordering) \(dimensions)/\(headDimension) pos \(position) [\(i)]")
            }
            // At a small position the float angles are the closed form pos·θ^(-2k/n) to ~1e-6 rad.
            if position < 10 {
                let exact = (0..<dimensions / 2).map {
                    Double(position) * pow(Double(base), -2.0 * Double($0) / Double(dimensions))
                }
                let closed = Self.rotate(
                    original, ordering: ordering, dimensions: dimensions, headDimension: headDimension, angles: exact)
                for i in x.indices { #expect(Self.close(x[i], closed[i], relative: 0, absolute: 1e-5)) }
            }
        }
    }

    /// Ministral 3's YaRN: correction dims [20, 37] (MODEL-SPEC.md §4.3), magnitude 1, and each pair's
    /// angle mixed between interpolation and extrapolation by the ramp.
    @Test(arguments: paths)
    func yarnMatchesModelSpec(path: KernelPath) throws {
        let ops = try FloatOps(path: path)
        let factor: Float = 16
        let configuration = RoPEConfiguration(
            dimensions: 128, originalContext: 16384, base: 1_000_000, scale: 1 / factor, extrapolation: 1,
            attentionFactor: 1 / (1 + 0.1 * logf(factor)))
        let range = ops.yarnCorrectionDimensions(configuration)
        #expect(range.low == 20 && range.high == 37)

        let position = 300
        var cache = [Float](repeating: .nan, count: 128)
        cache.withUnsafeMutableBufferPointer { ops.ropeCache(configuration, position: position, into: $0) }
        let magnitude = Double(configuration.attentionFactor) * (1 + 0.1 * log(Double(factor)))
        #expect(abs(magnitude - 1) < 1e-6)
        let extrapolated = Self.ggmlAngles(position: position, dimensions: 128, base: 1_000_000)
        for k in 0..<64 {
            let ramp = 1 - min(1, max(0, (Double(k) - 20) / (37 - 20)))
            let interpolated = Double(extrapolated[k]) / Double(factor)
            let angle = interpolated * (1 - ramp) + Double(extrapolated[k]) * ramp
            // The kernel forms the angle in float: allow its rounding (≤ 300·2^-24 rad) in cos/sin.
            #expect(abs(Double(cache[2 * k]) - magnitude * cos(angle)) < 3e-5, "pair \(k)")
            #expect(abs(Double(cache[2 * k + 1]) - magnitude * sin(angle)) < 3e-5, "pair \(k)")
        }
    }

    // MARK: - Softmax

    @Test(arguments: paths)
    func softmaxMatchesDoublePrecisionFormula(path: KernelPath) throws {
        let ops = try FloatOps(path: path)
        for (n, seed) in [(1, 10), (5, 11), (33, 12), (1000, 13), (4099, 14)] {
            var x = Self.random(n, seed: UInt64(seed), in: -40...40)
            let original = x
            let mask = (0..<n).map { $0 <= n * 3 / 4 ? Float(0) : -.infinity }  // causal-like
            let scale: Float = 0.088388
            mask.withUnsafeBufferPointer { mask in
                x.withUnsafeMutableBufferPointer { ops.softmax($0, scale: scale, mask: mask) }
            }
            let logits = (0..<n).map { Double(original[$0] * scale) + Double(mask[$0]) }
            let top = logits.max()!
            let total = logits.reduce(0.0) { $0 + exp($1 - top) }
            for i in 0..<n {
                #expect(Self.close(x[i], exp(logits[i] - top) / total, relative: 1e-6), "n \(n) [\(i)]")
            }
            #expect(abs(x.reduce(0.0) { $0 + Double($1) } - 1) < 1e-5)
        }
        var masked: [Float] = [1, 2, 3]
        let everything = [Float](repeating: -.infinity, count: 3)
        everything.withUnsafeBufferPointer { mask in
            masked.withUnsafeMutableBufferPointer { ops.softmax($0, mask: mask) }
        }
        #expect(masked == [0, 0, 0])
    }

    @Test(arguments: paths)
    func expSubtractReturnsTheSum(path: KernelPath) throws {
        let ops = try FloatOps(path: path)
        let x = Self.random(1000, seed: 20, in: -20...0)
        var y = [Float](repeating: 0, count: 1000)
        let top = x.withUnsafeBufferPointer { ops.max($0) }
        #expect(top == x.max())
        let sum = x.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { ops.expSubtract(x, max: top, into: $0) }
        }
        for i in 0..<1000 { #expect(Self.close(y[i], exp(Double(x[i] - top)), relative: 4e-7)) }
        #expect(abs(sum - y.reduce(0.0) { $0 + Double($1) }) < 1e-6 * sum)
    }

    // MARK: - Activations

    @Test(arguments: paths)
    func siluAndSwigluMatchFormula(path: KernelPath) throws {
        let ops = try FloatOps(path: path)
        let x = Self.random(1003, seed: 30, in: -30...30) + [0, -0.0, 90, -90, 1e-30, -1e-30]
        let up = Self.random(x.count, seed: 31)
        var s = [Float](repeating: .nan, count: x.count)
        var g = s
        x.withUnsafeBufferPointer { x in
            s.withUnsafeMutableBufferPointer { ops.silu(x, into: $0) }
            up.withUnsafeBufferPointer { up in
                g.withUnsafeMutableBufferPointer { ops.swiglu(gate: x, up: up, into: $0) }
            }
        }
        for i in x.indices {
            let silu = Double(x[i]) / (1 + exp(-Double(x[i])))
            #expect(Self.close(s[i], silu, relative: 8 * Double(Float.ulpOfOne), absolute: 1e-36), "x \(x[i])")
            #expect(Self.close(g[i], silu * Double(up[i]), relative: 10 * Double(Float.ulpOfOne), absolute: 1e-36))
        }
    }

    @Test(arguments: paths)
    func geluIsTheTanhApproximationRoundedToF16(path: KernelPath) throws {
        let ops = try FloatOps(path: path)
        let x = Self.random(2000, seed: 40, in: -12...12) + [-10, 10, -10.5, 11, 0, 3]
        let up = Self.random(x.count, seed: 41)
        var y = [Float](repeating: .nan, count: x.count)
        var glu = y
        x.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { ops.gelu(x, into: $0) }
            up.withUnsafeBufferPointer { up in
                glu.withUnsafeMutableBufferPointer { ops.geglu(gate: x, up: up, into: $0) }
            }
        }
        for i in x.indices {
            let v = Double(x[i])
            if x[i] <= -10 {
                #expect(y[i] == 0 && glu[i] == 0)
            } else if x[i] >= 10 {
                #expect(y[i] == x[i] && glu[i] == x[i] * up[i])
            } else {
                let tanhForm = 0.5 * v * (1 + tanh(0.7978845608028654 * v * (1 + 0.044715 * v * v)))
                // One f16 rounding of the input and one of the result, plus ggml's float cancellation.
                let slope = 1.2 * abs(v) * Double(Float16.ulpOfOne) * 0.5
                #expect(Self.close(y[i], tanhForm, relative: 0x1p-10, absolute: 0x1p-24 + slope), "x \(x[i])")
                #expect(Float(Float16(y[i])) == y[i], "an f16 value")
                #expect(glu[i] == y[i] * up[i])
            }
        }
        #expect(ops.geluTable(Float16(1).bitPattern) == Float16(0.8413).bitPattern)
    }

    // MARK: - Element-wise and F16 helpers

    @Test(arguments: paths)
    func elementwiseOpsRoundOnce(path: KernelPath) throws {
        let ops = try FloatOps(path: path)
        let a = Self.random(1001, seed: 50), b = Self.random(1001, seed: 51)
        var sum = a, product = a, scaled = a
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                sum.withUnsafeMutableBufferPointer { ops.add(a, b, into: $0) }
                product.withUnsafeMutableBufferPointer { ops.multiply(a, b, into: $0) }
            }
            scaled.withUnsafeMutableBufferPointer { ops.scale(a, by: 0.37, into: $0) }
        }
        #expect(sum == zip(a, b).map { $0 + $1 })
        #expect(product == zip(a, b).map { $0 * $1 })
        #expect(scaled == a.map { $0 * 0.37 })
    }

    @Test(arguments: paths)
    func f16DotAndAxpy(path: KernelPath) throws {
        let ops = try FloatOps(path: path)
        for n in [1, 31, 64, 80, 128, 1000] {
            let k = Self.random(n, seed: UInt64(n)).map { Float16($0).bitPattern }
            let q = Self.random(n, seed: UInt64(n) + 7)
            let dot = k.withUnsafeBufferPointer { k in q.withUnsafeBufferPointer { ops.dotF16(k, $0) } }
            let want = (0..<n).reduce(0.0) { $0 + Double(Float(Float16(bitPattern: k[$1]))) * Double(q[$1]) }
            let magnitude = (0..<n).reduce(0.0) { $0 + abs(Double(Float(Float16(bitPattern: k[$1]))) * Double(q[$1])) }
            #expect(abs(Double(dot) - want) <= Double(n + 16) * Double(Float.ulpOfOne) * magnitude, "n \(n)")

            var y = q
            k.withUnsafeBufferPointer { k in y.withUnsafeMutableBufferPointer { ops.axpyF16(0.3, k, into: $0) } }
            #expect(y == (0..<n).map { q[$0].addingProduct(Float(Float16(bitPattern: k[$0])), 0.3) }, "fused, n \(n)")
        }
    }

    // MARK: - Paths and forms

    /// RMSNorm, RoPE, GELU and the element-wise ops give the scalar path's bits on every path; the
    /// exp-based ops agree within the tolerances ck_ops.h states.
    @Test(arguments: paths)
    func pathsAgreeWithScalar(path: KernelPath) throws {
        let ops = try FloatOps(path: path), scalar = try FloatOps(path: .scalar)
        let x = Self.random(4099, seed: 60, in: -9...9), w = Self.random(4099, seed: 61)
        func run(
            _ ops: FloatOps, _ body: (FloatOps, UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void
        ) -> [Float] {
            var y = [Float](repeating: .nan, count: x.count)
            x.withUnsafeBufferPointer { x in y.withUnsafeMutableBufferPointer { body(ops, x, $0) } }
            return y
        }
        let norm: (FloatOps, UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void = { ops, x, y in
            w.withUnsafeBufferPointer { ops.rmsNorm(x, weight: $0, epsilon: 1e-6, into: y) }
        }
        #expect(Self.bits(run(ops, norm)) == Self.bits(run(scalar, norm)))
        let gelu: (FloatOps, UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void = {
            $0.gelu($1, into: $2)
        }
        #expect(Self.bits(run(ops, gelu)) == Self.bits(run(scalar, gelu)))
        let rope: (FloatOps, UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void = { ops, x, y in
            _ = y.initialize(fromContentsOf: x)
            var cache = [Float](repeating: 0, count: 64)
            let configuration = RoPEConfiguration(dimensions: 64, originalContext: 4096, scale: 0.25, extrapolation: 1)
            cache.withUnsafeMutableBufferPointer { ops.ropeCache(configuration, position: 12345, into: $0) }
            cache.withUnsafeBufferPointer { cache in
                // NORM over 32 full heads of 64, then NEOX with partial rotary (64 of 97) over 42 heads.
                ops.rope(.norm, cache: cache, dimensions: 64, headDimension: 64, y.extracting(0..<4096))
                ops.rope(.neox, cache: cache, dimensions: 64, headDimension: 97, y.extracting(0..<(4099 / 97 * 97)))
            }
        }
        #expect(Self.bits(run(ops, rope)) == Self.bits(run(scalar, rope)))
        let softmax: (FloatOps, UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void = { ops, x, y in
            _ = y.initialize(fromContentsOf: x)
            ops.softmax(y, scale: 0.5)
        }
        let (a, b) = (run(ops, softmax), run(scalar, softmax))
        for i in a.indices {
            #expect(Self.close(a[i], Double(b[i]), relative: 16 * Double(Float.ulpOfOne), absolute: 0x1p-140))
        }
    }

    /// The pointer forms (the forward pass's) compute what the buffer forms compute.
    @Test func pointerFormsEqualBufferForms() throws {
        let ops = try FloatOps(path: KernelPath.best)
        let x = Self.random(300, seed: 70), w = Self.random(300, seed: 71)
        var a = [Float](repeating: 0, count: 300), b = a
        x.withUnsafeBufferPointer { x in
            w.withUnsafeBufferPointer { w in
                a.withUnsafeMutableBufferPointer { ops.rmsNorm(x, weight: w, epsilon: 1e-5, into: $0) }
                b.withUnsafeMutableBufferPointer {
                    ops.rmsNorm(x.baseAddress!, weight: w.baseAddress, count: 300, epsilon: 1e-5, into: $0.baseAddress!)
                }
                #expect(a == b)
                a.withUnsafeMutableBufferPointer { ops.swiglu(gate: x, up: w, into: $0) }
                b.withUnsafeMutableBufferPointer {
                    ops.swiglu(gate: x.baseAddress!, up: w.baseAddress!, into: $0.baseAddress!, count: 300)
                }
                #expect(a == b)
                a.withUnsafeMutableBufferPointer { ops.add(x, w, into: $0) }
                b.withUnsafeMutableBufferPointer {
                    ops.add(x.baseAddress!, w.baseAddress!, into: $0.baseAddress!, count: 300)
                }
                #expect(a == b)
            }
        }
        a = x
        b = x
        a.withUnsafeMutableBufferPointer { ops.softmax($0, scale: 0.3) }
        b.withUnsafeMutableBufferPointer { ops.softmax($0.baseAddress!, count: 300, scale: 0.3) }
        #expect(a == b)
        var cache = [Float](repeating: 0, count: 60)
        let configuration = RoPEConfiguration(dimensions: 60, base: 500_000)
        cache.withUnsafeMutableBufferPointer { ops.ropeCache(configuration, position: 99, into: $0.baseAddress!) }
        a = x
        b = x
        cache.withUnsafeBufferPointer { cache in
            a.withUnsafeMutableBufferPointer { ops.rope(.norm, cache: cache, dimensions: 60, headDimension: 100, $0) }
            b.withUnsafeMutableBufferPointer {
                ops.ropeNorm(
                    cache: cache.baseAddress!, dimensions: 60, headDimension: 100, heads: 3, values: $0.baseAddress!)
            }
        }
        #expect(a == b && a != x)
    }

    @Test func unsupportedPathThrows() throws {
        guard let missing = KernelPath.allCases.first(where: { !$0.isSupported }) else { return }
        #expect(throws: KernelError.self) { try FloatOps(path: missing) }
    }
}
