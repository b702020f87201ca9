public import Kernels
import GGUF

/// One conversation's state on a model: its KV cache, its position and the scratch buffers of the
/// forward pass. Tokens go in (a whole prompt as one batch, or one at a time); logits come out.
///
/// Everything is allocated once, for `contextLength` positions; evaluating never allocates more.
/// One call at a time.
public final class ModelSession: @unchecked Sendable {
    // @unchecked Sendable: used by one caller at a time (documented); all mutable state is private.

    /// The model.
    public let model: LlamaModel
    /// The most positions this session holds.
    public let contextLength: Int
    /// The number of positions evaluated so far (the next token's position).
    public private(set) var position = 0

    let multiplier: MatrixMultiplier
    let ops: FloatOps
    let cache: KVCache
    var buffers: Buffers

    /// Creates a session.
    ///
    /// - Parameters:
    ///   - model: The model.
    ///   - contextLength: Positions to hold (prompt and generated tokens together).
    ///   - multiplier: The matrix kernels and their worker pool.
    ///   - ops: The float ops (the same kernel path as `multiplier`).
    ///   - cacheType: The KV cache's element type (F16 by default).
    /// - Throws: `ModelError` `.contextOverflow` for a context length below 1 or a cache that does not
    ///   fit in memory; `.unsupportedTensorType` for a Q8_0 cache on heads that are not whole 32-blocks.
    public init(
        model: LlamaModel, contextLength: Int, multiplier: MatrixMultiplier, ops: FloatOps, cacheType: KVCacheType = .f16
    ) throws {
        guard contextLength >= 1 else {
            throw ModelError(.contextOverflow, "a context of \(contextLength) positions holds nothing")
        }
        let c = model.configuration
        guard Set(c.headCountKV).count == 1, Set(c.headCount).count == 1 else {
            throw ModelError(.wrongShape, "per-layer head counts that vary are not supported yet")
        }
        guard let rowBytes = cacheType.rowByteCount(elements: c.keyLength) else {
            throw ModelError(
                .unsupportedTensorType, "a \(cacheType.rawValue) KV cache needs a head dimension in whole 32-blocks, not \(c.keyLength)")
        }
        // The cache must fit in memory before it is allocated: a bad --ctx is an error, not a trap.
        let windows = model.layers.map(\.slidingWindow)
        let (cacheBytes, overflow) = KVCache.byteCount(
            windows: windows, kvHeads: c.headCountKV[0], headDimension: c.keyLength, type: cacheType,
            capacity: contextLength, maximumBatch: Self.maximumBatch)
        let physical = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
        guard !overflow, cacheBytes <= physical else {
            let perPosition = c.blockCount * c.headCountKV[0] * rowBytes * 2  // K and V
            throw ModelError(
                .contextOverflow,
                "a KV cache of \(contextLength) positions needs \(overflow ? "more than Int.max" : "\(cacheBytes)") bytes "
                    + "(\(perPosition) per position); this machine has \(physical) bytes of memory")
        }
        self.model = model
        self.contextLength = contextLength
        self.multiplier = multiplier
        self.ops = ops
        cache = KVCache(
            windows: windows, kvHeads: c.headCountKV[0], headDimension: c.keyLength, type: cacheType,
            capacity: contextLength, maximumBatch: Self.maximumBatch)
        buffers = Buffers(configuration: c, vocabulary: model.vocabularySize, tokens: 1, logitRows: 1)
    }

    /// Forgets every position (the cache is reused, not freed).
    public func reset() {
        position = 0
        cache.count = 0
    }

    /// Forgets the positions from `newPosition` on, keeping the cache before it (a prompt that shares a
    /// prefix with the last one continues from there).
    ///
    /// - Parameter newPosition: The position to continue from, at most the current one.
    ///
    /// - Returns: False (and nothing changes) when a sliding-window ring has already overwritten
    ///   positions the next token would need; the caller then starts over from `reset()`.
    @discardableResult
    public func rewind(to newPosition: Int) -> Bool {
        precondition(newPosition >= 0 && newPosition <= position, "rewind target outside the cache")
        guard cache.canRewind(to: newPosition) else { return false }
        position = newPosition
        cache.count = newPosition
        return true
    }

    /// Bytes of the KV cache.
    public var cacheByteCount: Int { cache.byteCount }

    /// The KV cache's element type.
    public var cacheType: KVCacheType { cache.type }

    /// Runs the model over `tokens` at the next positions.
    ///
    /// - Parameters:
    ///   - tokens: The tokens (a prompt, or one generated token).
    ///   - allLogits: Return logits for every token instead of only the last.
    /// - Returns: `vocabularySize` logits per returned token, row-major.
    /// - Throws: `ModelError` `.contextOverflow` when the tokens do not fit, `.invalidToken` for an id
    ///   outside the vocabulary (nothing is evaluated in either case).
    public func evaluate(_ tokens: [Int32], allLogits: Bool = false) throws -> [Float] {
        guard !tokens.isEmpty else { return [] }
        guard tokens.count <= contextLength - position else {
            throw ModelError(
                .contextOverflow,
                "\(tokens.count) tokens at position \(position) exceed the context of \(contextLength)")
        }
        let vocabulary = model.vocabularySize
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw ModelError(.invalidToken, "token \(bad) is outside the vocabulary of \(vocabulary)")
        }
        // In batches of at most maximumBatch (the sliding-window rings hold one such batch beyond the
        // window); prefill equals token-by-token evaluation bit for bit, so the split changes nothing.
        if tokens.count <= Self.maximumBatch { return evaluateBatch(tokens, allLogits: allLogits) }
        var logits: [Float] = []
        var start = 0
        while start < tokens.count {
            let end = min(tokens.count, start + Self.maximumBatch)
            let batch = Array(tokens[start..<end])
            let rows = evaluateBatch(batch, allLogits: allLogits)
            if allLogits || end == tokens.count { logits += rows }
            start = end
        }
        return logits
    }

    /// One batch of at most `maximumBatch` tokens, already checked.
    private func evaluateBatch(_ tokens: [Int32], allLogits: Bool) -> [Float] {
        let vocabulary = model.vocabularySize
        let logitRows = allLogits ? tokens.count : 1
        if buffers.tokens < tokens.count || buffers.logitRows < logitRows {
            // Logits only for the rows asked for: a 512-token prompt's full logits would be 256 MiB on
            // a 131k vocabulary.
            buffers = Buffers(
                configuration: model.configuration, vocabulary: vocabulary, tokens: max(tokens.count, buffers.tokens),
                logitRows: max(logitRows, buffers.logitRows))
        }
        forward(tokens, allLogits: allLogits)
        position += tokens.count
        cache.count = position
        return Array(UnsafeBufferPointer(start: buffers.logits, count: logitRows * vocabulary))
    }
}

/// The forward pass's working memory, sized for a batch of `tokens`.
struct Buffers {
    let tokens: Int
    let logitRows: Int
    let x: UnsafeMutablePointer<Float>  // residual stream, tokens × hidden
    let h: UnsafeMutablePointer<Float>  // normed, tokens × hidden
    let q: UnsafeMutablePointer<Float>  // tokens × q dim
    let k: UnsafeMutablePointer<Float>  // tokens × kv dim
    let v: UnsafeMutablePointer<Float>  // tokens × kv dim
    let attention: UnsafeMutablePointer<Float>  // tokens × q dim
    let projected: UnsafeMutablePointer<Float>  // tokens × hidden
    let gate: UnsafeMutablePointer<Float>  // tokens × ffn
    let up: UnsafeMutablePointer<Float>  // tokens × ffn
    let logits: UnsafeMutablePointer<Float>  // logitRows × vocabulary
    let owner: Owner

    final class Owner {
        var pointers: [UnsafeMutablePointer<Float>] = []
        deinit { pointers.forEach { $0.deallocate() } }
    }

    init(configuration c: ModelConfiguration, vocabulary: Int, tokens: Int, logitRows: Int) {
        self.tokens = tokens
        self.logitRows = logitRows
        let owner = Owner()
        func make(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
            pointer.initialize(repeating: 0, count: max(1, count))
            owner.pointers.append(pointer)
            return pointer
        }
        let hidden = c.embeddingLength
        let qDim = (c.headCount.max() ?? 1) * c.keyLength
        let kvDim = (c.headCountKV.max() ?? 1) * c.keyLength
        let ffn = c.feedForwardLength.max() ?? 1
        x = make(tokens * hidden)
        h = make(tokens * hidden)
        q = make(tokens * qDim)
        k = make(tokens * kvDim)
        v = make(tokens * kvDim)
        attention = make(tokens * qDim)
        projected = make(tokens * hidden)
        gate = make(tokens * ffn)
        up = make(tokens * ffn)
        logits = make(logitRows * vocabulary)
        self.owner = owner
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
