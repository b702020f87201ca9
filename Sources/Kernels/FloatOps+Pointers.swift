/// The ops over raw pointers and a count, for the forward pass's hot loops: no size checks beyond the
/// count, no buffer construction. Semantics as the buffer forms in `FloatOps.swift`.
///
/// - Warning: Every pointer must be valid for `count` elements (or the stated size) for the duration
///   of the call. An output may be an input (in place) but must not otherwise overlap it.
extension FloatOps {
    // MARK: - RMSNorm

    /// RMS normalization, then the weight: `y = x / sqrt(mean(x²) + ε) · w`.
    ///
    /// - Parameters:
    ///   - x: The row, `count` floats.
    ///   - weight: The norm weight, `count` floats, or nil for none.
    ///   - count: The row length (at least 1).
    ///   - epsilon: ε.
    ///   - y: The output, `count` floats (may be `x`).
    public func rmsNorm(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, count: Int, epsilon: Float,
        into y: UnsafeMutablePointer<Float>
    ) {
        precondition(count > 0, "rmsNorm of nothing")
        c.rmsNorm(count, x, weight, epsilon, y)
    }

    // MARK: - RoPE

    /// Fills one position's rotation cache (see the buffer form).
    ///
    /// - Parameters:
    ///   - configuration: The RoPE hyper-parameters.
    ///   - position: The token position.
    ///   - frequencyFactors: `configuration.dimensions / 2` per-pair divisors, or nil.
    ///   - cache: `configuration.dimensions` floats.
    public func ropeCache(
        _ configuration: RoPEConfiguration, position: Int, frequencyFactors: UnsafePointer<Float>? = nil,
        into cache: UnsafeMutablePointer<Float>
    ) {
        configuration.validate()
        precondition(position >= 0 && position <= Int(Int32.max), "RoPE position \(position)")
        c.ropeCache(
            Int32(configuration.dimensions), Int32(configuration.originalContext), configuration.base,
            configuration.scale, configuration.extrapolation, configuration.attentionFactor, configuration.betaFast,
            configuration.betaSlow, Int32(position), frequencyFactors, cache)
    }

    /// Rotates `heads` heads in place, NORM ordering (adjacent pairs: llama, mistral3).
    ///
    /// - Parameters:
    ///   - cache: A cache from `ropeCache` (`dimensions` floats).
    ///   - dimensions: Rotated dimensions per head (even, 2 ... `headDimension`).
    ///   - headDimension: Floats per head.
    ///   - heads: The number of heads.
    ///   - values: The heads, `heads · headDimension` floats, head `h` at `h · headDimension`.
    public func ropeNorm(
        cache: UnsafePointer<Float>, dimensions: Int, headDimension: Int, heads: Int,
        values: UnsafeMutablePointer<Float>
    ) {
        rope(.norm, cache: cache, dimensions: dimensions, headDimension: headDimension, heads: heads, values: values)
    }

    /// Rotates `heads` heads in place, NEOX ordering (pairs `k`, `k + dimensions/2`: qwen2, gemma3).
    ///
    /// - Parameters:
    ///   - cache: A cache from `ropeCache` (`dimensions` floats).
    ///   - dimensions: Rotated dimensions per head (even, 2 ... `headDimension`).
    ///   - headDimension: Floats per head.
    ///   - heads: The number of heads.
    ///   - values: The heads, `heads · headDimension` floats.
    public func ropeNeox(
        cache: UnsafePointer<Float>, dimensions: Int, headDimension: Int, heads: Int,
        values: UnsafeMutablePointer<Float>
    ) {
        rope(.neox, cache: cache, dimensions: dimensions, headDimension: headDimension, heads: heads, values: values)
    }

    /// Rotates `heads` heads in place with the given pair ordering.
    ///
    /// - Parameters:
    ///   - ordering: `.norm` or `.neox`.
    ///   - cache: A cache from `ropeCache` (`dimensions` floats).
    ///   - dimensions: Rotated dimensions per head (even, 2 ... `headDimension`).
    ///   - headDimension: Floats per head.
    ///   - heads: The number of heads.
    ///   - values: The heads, `heads · headDimension` floats.
    public func rope(
        _ ordering: RoPEOrdering, cache: UnsafePointer<Float>, dimensions: Int, headDimension: Int, heads: Int,
        values: UnsafeMutablePointer<Float>
    ) {
        precondition(
            dimensions >= 2 && dimensions % 2 == 0 && dimensions <= headDimension && heads >= 0,
            "rope: \(dimensions) rotated dimensions of \(headDimension), \(heads) heads")
        (ordering == .norm ? c.ropeNorm : c.ropeNeox)(cache, dimensions, headDimension, heads, values, values)
    }

    // MARK: - Softmax

    /// Softmax in place over `x · scale + mask` (a fully masked row becomes zeros).
    ///
    /// - Parameters:
    ///   - x: The row, `count` floats.
    ///   - count: The row length (at least 1).
    ///   - scale: The scale applied before the mask.
    ///   - mask: `count` floats added after scaling (0 or -∞), or nil.
    public func softmax(
        _ x: UnsafeMutablePointer<Float>, count: Int, scale: Float = 1, mask: UnsafePointer<Float>? = nil
    ) {
        precondition(count > 0, "softmax of nothing")
        c.softmax(count, x, scale, mask, x)
    }

    /// The largest of `count` floats (`-∞` when `count` is 0).
    ///
    /// - Parameters:
    ///   - x: The row.
    ///   - count: Its length.
    /// - Returns: The maximum.
    public func max(_ x: UnsafePointer<Float>, count: Int) -> Float {
        precondition(count >= 0, "negative count")
        return c.max(count, x)
    }

    /// `y = exp(x - max)` for an online softmax.
    ///
    /// - Parameters:
    ///   - x: The row, `count` floats.
    ///   - count: Its length.
    ///   - max: The value subtracted.
    ///   - y: The output, `count` floats (may be `x`).
    /// - Returns: The sum of `y`, in double as llama.cpp accumulates it.
    @discardableResult
    public func expSubtract(_ x: UnsafePointer<Float>, count: Int, max: Float, into y: UnsafeMutablePointer<Float>)
        -> Double
    {
        precondition(count >= 0, "negative count")
        return c.expSub(count, x, max, y)
    }

    // MARK: - Activations

    /// SiLU of `count` floats.
    ///
    /// - Parameters:
    ///   - x: The input.
    ///   - y: The output (may be `x`).
    ///   - count: The number of floats.
    public func silu(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count >= 0, "negative count")
        c.silu(count, x, y)
    }

    /// SwiGLU: `y = silu(gate) · up`.
    ///
    /// - Parameters:
    ///   - gate: The gate projection.
    ///   - up: The up projection.
    ///   - y: The output (may be `gate` or `up`).
    ///   - count: The number of floats.
    public func swiglu(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        precondition(count >= 0, "negative count")
        c.swiglu(count, gate, up, y)
    }

    /// GELU (llama.cpp's f16-table tanh approximation) of `count` floats.
    ///
    /// - Parameters:
    ///   - x: The input.
    ///   - y: The output (may be `x`).
    ///   - count: The number of floats.
    public func gelu(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count >= 0, "negative count")
        c.gelu(count, x, y)
    }

    /// GeGLU: `y = gelu(gate) · up`.
    ///
    /// - Parameters:
    ///   - gate: The gate projection.
    ///   - up: The up projection.
    ///   - y: The output (may be `gate` or `up`).
    ///   - count: The number of floats.
    public func geglu(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        precondition(count >= 0, "negative count")
        c.geglu(count, gate, up, y)
    }

    // MARK: - Element-wise

    /// `y = a + b` over `count` floats.
    ///
    /// - Parameters:
    ///   - a: The first operand.
    ///   - b: The second operand.
    ///   - y: The output (may be `a` or `b`).
    ///   - count: The number of floats.
    public func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        precondition(count >= 0, "negative count")
        c.add(count, a, b, y)
    }

    /// `y = a · b` over `count` floats.
    ///
    /// - Parameters:
    ///   - a: The first operand.
    ///   - b: The second operand.
    ///   - y: The output (may be `a` or `b`).
    ///   - count: The number of floats.
    public func multiply(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        precondition(count >= 0, "negative count")
        c.mul(count, a, b, y)
    }

    /// `y = x · s` over `count` floats.
    ///
    /// - Parameters:
    ///   - x: The input.
    ///   - s: The factor.
    ///   - y: The output (may be `x`).
    ///   - count: The number of floats.
    public func scale(_ x: UnsafePointer<Float>, by s: Float, into y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count >= 0, "negative count")
        c.scale(count, x, s, y)
    }

    /// `x *= s` in place over `count` floats.
    ///
    /// - Parameters:
    ///   - x: The values.
    ///   - s: The factor.
    ///   - count: The number of floats.
    public func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
        precondition(count >= 0, "negative count")
        c.scale(count, x, s, x)
    }

    // MARK: - F16 KV cache

    /// `Σ k_i · q_i` of an F16 key row and a float query.
    ///
    /// - Parameters:
    ///   - k: `count` F16 bit patterns.
    ///   - q: `count` floats.
    ///   - count: The head dimension.
    /// - Returns: The dot product.
    public func dotF16(_ k: UnsafePointer<UInt16>, _ q: UnsafePointer<Float>, count: Int) -> Float {
        precondition(count >= 0, "negative count")
        return c.dotF16(count, UnsafeRawPointer(k), q)
    }

    /// `y += a · v` for an F16 value row (fused multiply-add per element).
    ///
    /// - Parameters:
    ///   - a: The weight.
    ///   - v: `count` F16 bit patterns.
    ///   - y: The accumulator, `count` floats.
    ///   - count: The head dimension.
    public func axpyF16(_ a: Float, _ v: UnsafePointer<UInt16>, into y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count >= 0, "negative count")
        c.axpyF16(count, a, UnsafeRawPointer(v), y)
    }
}
