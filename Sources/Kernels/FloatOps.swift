internal import CKernels

/// The small float ops of the forward pass on one kernel path: RMSNorm, RoPE (NORM and NEOX ordering,
/// YaRN), softmax, SiLU / SwiGLU, GELU / GeGLU, element-wise add / multiply / scale, and the F16 KV
/// cache helpers of single-token attention.
///
/// Each op computes what llama.cpp's CPU backend computes (ggml-cpu `ops.cpp`, `vec.h`, `vec.cpp`):
/// RMSNorm, RoPE, GELU and the element-wise ops give the same bits on every path; the exp-based ops
/// (softmax, SiLU, SwiGLU) use on each SIMD path ggml's vector `expf` for that instruction set, so
/// paths agree within a few ulp. `Sources/CKernels/CKernelsOps.h` states every op's numerics
/// and tolerances.
///
/// Two forms of each op: one over buffers, which checks sizes (programmer errors trap), and one over
/// raw pointers and a count for hot loops (`FloatOps+Pointers.swift`). Outputs may be the inputs
/// (in place) but must not otherwise overlap them. A value is cheap to copy and safe to share between
/// threads; the ops themselves are single-threaded — split rows across a `WorkerPool`, at multiples of
/// `FloatOps.splitAlignment` elements for the exp-based ops.
public struct FloatOps: Sendable {
    /// The kernel path the ops run on.
    public let path: KernelPath
    let c: FloatOpsFunctions

    /// Split a row of an exp-based op (softmax, SiLU, SwiGLU) across threads only at multiples of this
    /// many elements: results then equal one call over the whole row, as llama.cpp computes it.
    public static let splitAlignment = 64

    /// Creates the ops of a path.
    ///
    /// - Parameter path: The kernel path (see `KernelPath.select(environment:)`).
    /// - Throws: `KernelError` `.unsupportedPath` if this CPU cannot run `path`.
    public init(path: KernelPath) throws {
        guard let functions = FloatOpsFunctions(path: Int32(path.cPath.rawValue)) else {
            throw KernelError(.unsupportedPath, "this CPU cannot run the \(path) float ops")
        }
        self.path = path
        c = functions
    }

    // MARK: - RMSNorm

    /// RMS normalization, then the weight: `y = x / sqrt(mean(x²) + ε) · w`.
    ///
    /// As llama.cpp: the sum of squares accumulates in double, in index order (identical bits on
    /// every path).
    ///
    /// - Parameters:
    ///   - x: The row (at least one element).
    ///   - weight: The norm weight (`x.count` elements), or nil for none.
    ///   - epsilon: ε (`attention.layer_norm_rms_epsilon`).
    ///   - y: The output, `x.count` elements (may be `x`).
    public func rmsNorm(
        _ x: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>?, epsilon: Float,
        into y: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(!x.isEmpty && y.count == x.count, "rmsNorm: sizes \(x.count) -> \(y.count)")
        precondition(weight.map { $0.count == x.count } ?? true, "rmsNorm: weight size")
        c.rmsNorm(x.count, x.baseAddress!, weight?.baseAddress, epsilon, y.baseAddress!)
    }

    // MARK: - RoPE

    /// Fills one position's rotation cache (`configuration.dimensions` floats: cos and sin of each
    /// pair's angle times the YaRN magnitude, interleaved) exactly as ggml's rope cache.
    ///
    /// One cache serves every head of Q and K at that position, and every layer sharing the
    /// configuration.
    ///
    /// - Parameters:
    ///   - configuration: The RoPE hyper-parameters.
    ///   - position: The token position.
    ///   - frequencyFactors: Per-pair divisors of the angle (`rope_freqs`, `dimensions / 2` values), or
    ///     nil.
    ///   - cache: The cache, at least `configuration.dimensions` floats.
    public func ropeCache(
        _ configuration: RoPEConfiguration, position: Int, frequencyFactors: UnsafeBufferPointer<Float>? = nil,
        into cache: UnsafeMutableBufferPointer<Float>
    ) {
        configuration.validate()
        precondition(cache.count >= configuration.dimensions, "ropeCache: cache too small")
        precondition(
            frequencyFactors.map { $0.count >= configuration.dimensions / 2 } ?? true,
            "ropeCache: frequency factors too few")
        ropeCache(
            configuration, position: position, frequencyFactors: frequencyFactors?.baseAddress,
            into: cache.baseAddress!)
    }

    /// Rotates `heads` heads of `headDimension` floats in place with one position's cache.
    ///
    /// - Parameters:
    ///   - ordering: `.norm` (adjacent pairs: llama, mistral3) or `.neox` (halves: qwen2, gemma3).
    ///   - cache: A cache from `ropeCache`; its rotated dimension count is `dimensions`.
    ///   - dimensions: Rotated dimensions per head (even, 2 ... `headDimension`); the rest are kept.
    ///   - headDimension: Floats per head.
    ///   - x: The heads, head `h` at `h · headDimension` (`heads · headDimension` floats).
    public func rope(
        _ ordering: RoPEOrdering, cache: UnsafeBufferPointer<Float>, dimensions: Int, headDimension: Int,
        _ x: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(
            dimensions >= 2 && dimensions % 2 == 0 && dimensions <= headDimension,
            "rope: \(dimensions) rotated dimensions of \(headDimension)")
        precondition(cache.count >= dimensions && x.count % headDimension == 0, "rope: sizes")
        let heads = x.count / headDimension
        guard heads > 0 else { return }
        let rotate = ordering == .norm ? c.ropeNorm : c.ropeNeox
        rotate(cache.baseAddress!, dimensions, headDimension, heads, x.baseAddress!, x.baseAddress!)
    }

    /// The YaRN correction range `[low, high]` of `configuration` (ggml_rope_yarn_corr_dims): pairs
    /// below `low` keep the original frequencies, pairs above `high` are fully interpolated.
    ///
    /// - Parameter configuration: The RoPE hyper-parameters.
    /// - Returns: The range, as the floats ggml computes.
    public func yarnCorrectionDimensions(_ configuration: RoPEConfiguration) -> (low: Float, high: Float) {
        configuration.validate()
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: 2) { dims in
            c.yarnCorrectionDimensions(
                Int32(configuration.dimensions), Int32(configuration.originalContext), configuration.base,
                configuration.betaFast, configuration.betaSlow, dims.baseAddress!)
            return (dims[0], dims[1])
        }
    }

    // MARK: - Softmax

    /// Softmax in place over `x · scale + mask`, as `ggml_soft_max_ext` (a row whose every entry is
    /// masked to -∞ becomes all zeros).
    ///
    /// - Parameters:
    ///   - x: The row (at least one element).
    ///   - scale: The scale applied before the mask (`kq_scale`).
    ///   - mask: Added after scaling, `x.count` values (0 or -∞ for a causal mask), or nil.
    public func softmax(
        _ x: UnsafeMutableBufferPointer<Float>, scale: Float = 1, mask: UnsafeBufferPointer<Float>? = nil
    ) {
        precondition(!x.isEmpty, "softmax of nothing")
        precondition(mask.map { $0.count == x.count } ?? true, "softmax: mask size")
        c.softmax(x.count, x.baseAddress!, scale, mask?.baseAddress, x.baseAddress!)
    }

    /// The largest element (`-∞` for an empty row).
    ///
    /// - Parameter x: The row.
    /// - Returns: Its maximum.
    public func max(_ x: UnsafeBufferPointer<Float>) -> Float {
        guard let base = x.baseAddress else { return -.infinity }
        return c.max(x.count, base)
    }

    /// `y = exp(x - max)`, the building block of an online softmax (ggml_vec_soft_max_f32).
    ///
    /// - Parameters:
    ///   - x: The row.
    ///   - max: The value subtracted (normally the row's maximum).
    ///   - y: The output, `x.count` elements (may be `x`).
    /// - Returns: The sum of `y`, accumulated in double as llama.cpp does.
    @discardableResult
    public func expSubtract(_ x: UnsafeBufferPointer<Float>, max: Float, into y: UnsafeMutableBufferPointer<Float>)
        -> Double
    {
        precondition(y.count == x.count, "expSubtract: sizes")
        guard let base = x.baseAddress else { return 0 }
        return c.expSub(x.count, base, max, y.baseAddress!)
    }

    // MARK: - Activations

    /// SiLU: `y = x / (1 + exp(-x))`.
    ///
    /// - Parameters:
    ///   - x: The input.
    ///   - y: The output, `x.count` elements (may be `x`).
    public func silu(_ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>) {
        precondition(y.count == x.count, "silu: sizes")
        guard let base = x.baseAddress else { return }
        c.silu(x.count, base, y.baseAddress!)
    }

    /// SwiGLU: `y = silu(gate) · up` (llama's FFN).
    ///
    /// - Parameters:
    ///   - gate: The gate projection.
    ///   - up: The up projection, `gate.count` elements.
    ///   - y: The output, `gate.count` elements (may be `gate` or `up`).
    public func swiglu(
        gate: UnsafeBufferPointer<Float>, up: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(up.count == gate.count && y.count == gate.count, "swiglu: sizes")
        guard let base = gate.baseAddress else { return }
        c.swiglu(gate.count, base, up.baseAddress!, y.baseAddress!)
    }

    /// GELU as llama.cpp's CPU backend computes it: the tanh approximation through an f16 table
    /// (0 for x ≤ -10, x for x ≥ 10).
    ///
    /// - Parameters:
    ///   - x: The input.
    ///   - y: The output, `x.count` elements (may be `x`).
    public func gelu(_ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>) {
        precondition(y.count == x.count, "gelu: sizes")
        guard let base = x.baseAddress else { return }
        c.gelu(x.count, base, y.baseAddress!)
    }

    /// GeGLU: `y = gelu(gate) · up` (gemma3's FFN), with `gelu` as above.
    ///
    /// - Parameters:
    ///   - gate: The gate projection.
    ///   - up: The up projection, `gate.count` elements.
    ///   - y: The output, `gate.count` elements (may be `gate` or `up`).
    public func geglu(
        gate: UnsafeBufferPointer<Float>, up: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(up.count == gate.count && y.count == gate.count, "geglu: sizes")
        guard let base = gate.baseAddress else { return }
        c.geglu(gate.count, base, up.baseAddress!, y.baseAddress!)
    }

    /// The GELU table entry of one f16 value (bits in, bits out): f16(gelu(x)).
    ///
    /// - Parameter bits: An f16 bit pattern.
    /// - Returns: The f16 bit pattern of its GELU.
    public func geluTable(_ bits: UInt16) -> UInt16 { c.geluF16(bits) }

    // MARK: - Element-wise

    /// `y = a + b`.
    ///
    /// - Parameters:
    ///   - a: The first operand.
    ///   - b: The second operand, `a.count` elements.
    ///   - y: The output, `a.count` elements (may be `a` or `b`).
    public func add(
        _ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(b.count == a.count && y.count == a.count, "add: sizes")
        guard let base = a.baseAddress else { return }
        c.add(a.count, base, b.baseAddress!, y.baseAddress!)
    }

    /// `y = a · b`, element-wise.
    ///
    /// - Parameters:
    ///   - a: The first operand.
    ///   - b: The second operand, `a.count` elements.
    ///   - y: The output, `a.count` elements (may be `a` or `b`).
    public func multiply(
        _ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(b.count == a.count && y.count == a.count, "multiply: sizes")
        guard let base = a.baseAddress else { return }
        c.mul(a.count, base, b.baseAddress!, y.baseAddress!)
    }

    /// `y = x · s`.
    ///
    /// - Parameters:
    ///   - x: The input.
    ///   - s: The factor.
    ///   - y: The output, `x.count` elements (may be `x`).
    public func scale(_ x: UnsafeBufferPointer<Float>, by s: Float, into y: UnsafeMutableBufferPointer<Float>) {
        precondition(y.count == x.count, "scale: sizes")
        guard let base = x.baseAddress else { return }
        c.scale(x.count, base, s, y.baseAddress!)
    }

    // MARK: - F16 KV cache

    /// `Σ k_i · q_i` of an F16 key row and a float query, in float.
    ///
    /// llama.cpp rounds q to F16 first; round it with `HalfPrecision.round` to reproduce that.
    ///
    /// - Parameters:
    ///   - k: The key row, F16 bit patterns.
    ///   - q: The query, `k.count` floats.
    /// - Returns: The dot product.
    public func dotF16(_ k: UnsafeBufferPointer<UInt16>, _ q: UnsafeBufferPointer<Float>) -> Float {
        precondition(q.count == k.count, "dotF16: sizes")
        guard let base = k.baseAddress else { return 0 }
        return c.dotF16(k.count, UnsafeRawPointer(base), q.baseAddress!)
    }

    /// `y += a · v` for an F16 value row (one fused multiply-add per element, as ggml_vec_mad_f32).
    ///
    /// - Parameters:
    ///   - a: The weight (an attention probability).
    ///   - v: The value row, F16 bit patterns.
    ///   - y: The accumulator, `v.count` floats.
    public func axpyF16(_ a: Float, _ v: UnsafeBufferPointer<UInt16>, into y: UnsafeMutableBufferPointer<Float>) {
        precondition(y.count == v.count, "axpyF16: sizes")
        guard let base = v.baseAddress else { return }
        c.axpyF16(v.count, a, UnsafeRawPointer(base), y.baseAddress!)
    }
}

/// The pair ordering of a rotary embedding (llama.cpp's rope type).
public enum RoPEOrdering: Sendable, Hashable {
    /// Adjacent pairs `(x[2k], x[2k+1])`: `LLAMA_ROPE_TYPE_NORM` (llama, mistral3).
    case norm
    /// Pairs `(x[k], x[k + dimensions/2])`: `LLAMA_ROPE_TYPE_NEOX` (qwen2, gemma3).
    case neox
}

/// Rotary-embedding hyper-parameters, as `ggml_rope_ext` takes them (MODEL-SPEC.md §4.2–4.4).
public struct RoPEConfiguration: Sendable, Hashable {
    /// Rotated dimensions per head (even; `rope.dimension_count`).
    public var dimensions: Int
    /// YaRN's original context length (`rope.scaling.original_context_length`, else the context
    /// length); unused without YaRN.
    public var originalContext: Int
    /// The frequency base θ (`rope.freq_base`).
    public var base: Float
    /// The frequency scale: 1 / `rope.scaling.factor`, 1 without scaling.
    public var scale: Float
    /// YaRN's extrapolation mix: 1 for YaRN scaling, 0 otherwise.
    public var extrapolation: Float
    /// The magnitude factor (YaRN's attention factor as llama.cpp's context derives it; 1 otherwise).
    public var attentionFactor: Float
    /// YaRN β_fast.
    public var betaFast: Float
    /// YaRN β_slow.
    public var betaSlow: Float

    /// Creates a configuration; the defaults are plain RoPE with θ = 10000.
    ///
    /// - Parameters:
    ///   - dimensions: Rotated dimensions per head (even, at least 2).
    ///   - originalContext: YaRN's original context length.
    ///   - base: The frequency base θ.
    ///   - scale: The frequency scale (1 / factor).
    ///   - extrapolation: YaRN's extrapolation mix (1 for YaRN).
    ///   - attentionFactor: The magnitude factor.
    ///   - betaFast: YaRN β_fast.
    ///   - betaSlow: YaRN β_slow.
    public init(
        dimensions: Int, originalContext: Int = 0, base: Float = 10000, scale: Float = 1, extrapolation: Float = 0,
        attentionFactor: Float = 1, betaFast: Float = 32, betaSlow: Float = 1
    ) {
        self.dimensions = dimensions
        self.originalContext = originalContext
        self.base = base
        self.scale = scale
        self.extrapolation = extrapolation
        self.attentionFactor = attentionFactor
        self.betaFast = betaFast
        self.betaSlow = betaSlow
    }

    func validate() {
        precondition(
            dimensions >= 2 && dimensions % 2 == 0 && dimensions <= Int(Int32.max),
            "RoPE needs an even number of dimensions, got \(dimensions)")
        precondition(originalContext >= 0 && originalContext <= Int(Int32.max), "RoPE original context")
    }
}
