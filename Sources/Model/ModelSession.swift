public import Kernels
import GGUF

/// The model's state for one or more sequences: a KV cache per slot, each slot's position, and the
/// scratch buffers of the forward pass. Tokens go in (a whole prompt as one batch, one at a time, or
/// a batch mixing several slots' tokens); logits come out.
///
/// Everything is allocated once, for `contextLength` positions per slot; evaluating never allocates
/// more. One call at a time. A slot's logits never depend on what else is in its batch: every
/// operation is per row (matrix products give each row the bits of a one-row product; attention reads
/// only the row's own slot), so several sequences batched together give each the bits it gets alone.
public final class ModelSession: @unchecked Sendable {
    // @unchecked Sendable: used by one caller at a time (documented); all mutable state is private.

    /// The model.
    public let model: LlamaModel
    /// The most positions each slot holds.
    public let contextLength: Int
    /// The number of slots (sequences that can be evaluated side by side, each with its own cache).
    public var slots: Int { caches.count }
    /// The number of positions slot 0 has evaluated (the next token's position).
    public var position: Int { positions[0] }

    let multiplier: MatrixMultiplier
    let ops: FloatOps
    let caches: [KVCache]
    /// Each slot's next position.
    private(set) var positions: [Int]
    var buffers: Buffers

    /// Creates a session.
    ///
    /// - Parameters:
    ///   - model: The model.
    ///   - contextLength: Positions to hold per slot (prompt and generated tokens together).
    ///   - multiplier: The matrix kernels and their worker pool.
    ///   - ops: The float ops (the same kernel path as `multiplier`).
    ///   - cacheType: The KV cache's element type (F16 by default).
    ///   - slots: Sequences held side by side, each with a cache of `contextLength` positions.
    /// - Throws: `ModelError` `.contextOverflow` for a context length or slot count below 1 or caches
    ///   that do not fit in memory; `.unsupportedTensorType` for a Q8_0 cache on heads that are not
    ///   whole 32-blocks.
    public init(
        model: LlamaModel, contextLength: Int, multiplier: MatrixMultiplier, ops: FloatOps, cacheType: KVCacheType = .f16,
        slots: Int = 1
    ) throws {
        guard contextLength >= 1 else {
            throw ModelError(.contextOverflow, "a context of \(contextLength) positions holds nothing")
        }
        guard slots >= 1, slots <= Self.maximumSlots else {
            throw ModelError(.contextOverflow, "\(slots) slots: between 1 and \(Self.maximumSlots) are supported")
        }
        let c = model.configuration
        guard Set(c.headCountKV).count == 1, Set(c.headCount).count == 1 else {
            throw ModelError(.wrongShape, "per-layer head counts that vary are not supported yet")
        }
        guard let rowBytes = cacheType.rowByteCount(elements: c.keyLength) else {
            throw ModelError(
                .unsupportedTensorType, "a \(cacheType.rawValue) KV cache needs a head dimension in whole 32-blocks, not \(c.keyLength)")
        }
        // The caches must fit in memory before they are allocated: a bad --context is an error, not a trap.
        let windows = model.layers.map(\.slidingWindow)
        let (cacheBytes, overflow) = KVCache.byteCount(
            windows: windows, kvHeads: c.headCountKV[0], headDimension: c.keyLength, type: cacheType,
            capacity: contextLength, maximumBatch: Self.maximumBatch)
        let (allBytes, overflowSlots) = cacheBytes.multipliedReportingOverflow(by: slots)
        let physical = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
        guard !overflow, !overflowSlots, allBytes <= physical else {
            let perPosition = c.blockCount * c.headCountKV[0] * rowBytes * 2  // K and V
            throw ModelError(
                .contextOverflow,
                "\(slots) KV cache(s) of \(contextLength) positions need \(overflow || overflowSlots ? "more than Int.max" : "\(allBytes)") bytes "
                    + "(\(perPosition) per position); this machine has \(physical) bytes of memory")
        }
        self.model = model
        self.contextLength = contextLength
        self.multiplier = multiplier
        self.ops = ops
        caches = try (0..<slots).map { _ in
            try KVCache(
                windows: windows, kvHeads: c.headCountKV[0], headDimension: c.keyLength, type: cacheType,
                capacity: contextLength, maximumBatch: Self.maximumBatch)
        }
        positions = Array(repeating: 0, count: slots)
        buffers = Buffers(
            configuration: c, vocabulary: model.vocabularySize, tokens: 1, logitRows: 1, banded: model.feedForwardRunsInBands)
    }

    /// The most slots a session holds.
    public static let maximumSlots = 64

    /// The next position of `slot`.
    public func position(slot: Int) -> Int { positions[slot] }

    /// Forgets every position of `slot` (its cache is reused, not freed).
    public func reset(slot: Int = 0) {
        positions[slot] = 0
        caches[slot].count = 0
    }

    /// Forgets the positions of `slot` from `newPosition` on, keeping the cache before it (a prompt that
    /// shares a prefix with the last one continues from there).
    ///
    /// - Parameters:
    ///   - newPosition: The position to continue from, at most the current one.
    ///   - slot: The slot.
    /// - Returns: False (and nothing changes) when a sliding-window ring has already overwritten
    ///   positions the next token would need; the caller then starts over from `reset(slot:)`.
    @discardableResult
    public func rewind(to newPosition: Int, slot: Int = 0) -> Bool {
        precondition(newPosition >= 0 && newPosition <= positions[slot], "rewind target outside the cache")
        guard caches[slot].canRewind(to: newPosition) else { return false }
        positions[slot] = newPosition
        caches[slot].count = newPosition
        return true
    }

    /// Bytes of the KV caches (all slots).
    public var cacheByteCount: Int { caches.reduce(0) { $0 + $1.byteCount } }

    /// The KV cache's element type.
    public var cacheType: KVCacheType { caches[0].type }

    /// Runs the model over `tokens` at slot 0's next positions.
    ///
    /// - Parameters:
    ///   - tokens: The tokens (a prompt, or one generated token).
    ///   - allLogits: Return logits for every token instead of only the last.
    ///   - images: Images whose embeddings stand for the tokens at their positions.
    /// - Returns: `vocabularySize` logits per returned token, row-major.
    /// - Throws: `ModelError` `.contextOverflow` when the tokens do not fit, `.invalidToken` for an id
    ///   outside the vocabulary, `.wrongShape` for images of another width (nothing is evaluated).
    public func evaluate(_ tokens: [Int32], allLogits: Bool = false, images: [PlacedImage] = []) throws -> [Float] {
        guard !tokens.isEmpty else { return [] }
        try check(tokens[...], slot: 0)
        try check(images)
        // In batches of prefillBatch (at most maximumBatch, which the sliding-window rings hold beyond
        // the window); prefill equals token-by-token evaluation bit for bit, so the split changes nothing.
        var logits: [Float] = []
        var start = 0
        while start < tokens.count {
            let end = min(tokens.count, start + prefillBatch)
            let last = end == tokens.count
            let rows = run([
                Entry(slot: 0, tokens: tokens[start..<end], logits: allLogits ? .all : (last ? .last : .none), images: images)
            ])
            if allLogits || last { logits += rows }
            start = end
        }
        return logits
    }

    /// Which of an entry's tokens get logits.
    public enum LogitRows: Sendable, Equatable {
        case none, last, all
    }

    /// One slot's tokens in a batch.
    public struct Entry: Sendable {
        /// The slot.
        public var slot: Int
        /// The tokens, at the slot's next positions.
        public var tokens: ArraySlice<Int32>
        /// Which tokens get logits.
        public var logits: LogitRows
        /// Images whose embeddings stand for the token embeddings at their positions (the tokens
        /// there are placeholders; an image may span several entries of a chunked prompt).
        public var images: [PlacedImage]

        public init(slot: Int, tokens: ArraySlice<Int32>, logits: LogitRows, images: [PlacedImage] = []) {
            self.slot = slot
            self.tokens = tokens
            self.logits = logits
            self.images = images
        }
    }

    /// An image's embeddings at the positions it takes in a slot's sequence.
    public struct PlacedImage: Sendable {
        /// The position of its first embedding.
        public var position: Int
        /// The embeddings, one per position from `position` on.
        public var embeddings: ImageEmbeddings

        public init(position: Int, embeddings: ImageEmbeddings) {
            self.position = position
            self.embeddings = embeddings
        }

        /// The positions it takes.
        public var positions: Range<Int> { position..<(position + embeddings.grid.tokenCount) }
    }

    /// Runs one forward pass over several slots' tokens together: one matrix product per weight matrix
    /// for the whole batch, attention per slot over its own cache. Each slot's logits are the bits it
    /// would get evaluated alone.
    ///
    /// - Parameter entries: At most one entry per slot, `maximumBatch` tokens in all.
    /// - Returns: Logits for the rows asked for, entry by entry (`vocabularySize` per row, row-major).
    /// - Throws: `ModelError` `.contextOverflow` when an entry does not fit its slot or the batch is too
    ///   large, `.invalidToken` for an id outside the vocabulary, `.wrongShape` for a slot out of
    ///   range or given twice (nothing is evaluated in any case).
    public func evaluate(batch entries: [Entry]) throws -> [Float] {
        let total = entries.reduce(0) { $0 + $1.tokens.count }
        guard total <= Self.maximumBatch else {
            throw ModelError(.contextOverflow, "a batch of \(total) tokens exceeds \(Self.maximumBatch)")
        }
        var seen = Set<Int>()
        for entry in entries {
            guard entry.slot >= 0, entry.slot < slots, seen.insert(entry.slot).inserted else {
                throw ModelError(.wrongShape, "slot \(entry.slot) is out of range or given twice")
            }
            try check(entry.tokens, slot: entry.slot)
            try check(entry.images)
        }
        let live = entries.filter { !$0.tokens.isEmpty }
        guard !live.isEmpty else { return [] }
        return run(live)
    }

    private func check(_ images: [PlacedImage]) throws {
        let width = model.configuration.embeddingLength
        for image in images where image.embeddings.width != width || image.embeddings.values.count != image.embeddings.grid.tokenCount * width {
            throw ModelError(.wrongShape, "image embeddings of \(image.embeddings.width) floats for a model of width \(width)")
        }
    }

    private func check(_ tokens: ArraySlice<Int32>, slot: Int) throws {
        guard tokens.count <= contextLength - positions[slot] else {
            throw ModelError(
                .contextOverflow,
                "\(tokens.count) tokens at position \(positions[slot]) exceed the context of \(contextLength)")
        }
        let vocabulary = model.vocabularySize
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw ModelError(.invalidToken, "token \(bad) is outside the vocabulary of \(vocabulary)")
        }
    }

    /// One batch of at most `maximumBatch` tokens, already checked.
    private func run(_ entries: [Entry]) -> [Float] {
        var tokens: [Int32] = []
        var slotOf: [Int] = []
        var positionOf: [Int] = []
        var logitRows: [Int] = []
        var embedded: [Batch.Embedded] = []
        for entry in entries {
            let base = positions[entry.slot]
            for (i, token) in entry.tokens.enumerated() {
                let last = i == entry.tokens.count - 1
                if entry.logits == .all || (entry.logits == .last && last) { logitRows.append(tokens.count) }
                if let image = entry.images.first(where: { $0.positions.contains(base + i) }) {
                    embedded.append(Batch.Embedded(row: tokens.count, embeddings: image.embeddings, index: base + i - image.position))
                }
                tokens.append(token)
                slotOf.append(entry.slot)
                positionOf.append(base + i)
            }
        }
        let vocabulary = model.vocabularySize
        if buffers.tokens < tokens.count || buffers.logitRows < logitRows.count {
            // Logits only for the rows asked for: a 512-token prompt's full logits would be 256 MiB on
            // a 131k vocabulary.
            buffers = Buffers(
                configuration: model.configuration, vocabulary: vocabulary, tokens: max(tokens.count, buffers.tokens),
                logitRows: max(logitRows.count, buffers.logitRows), banded: buffers.banded)
        }
        forward(Batch(tokens: tokens, slots: slotOf, positions: positionOf, logitRows: logitRows, embedded: embedded))
        for entry in entries {
            positions[entry.slot] += entry.tokens.count
            caches[entry.slot].count = positions[entry.slot]
        }
        return Array(UnsafeBufferPointer(start: buffers.logits, count: logitRows.count * vocabulary))
    }
}

/// A forward pass's tokens: each with its slot and position, and which rows get logits.
struct Batch {
    var tokens: [Int32]
    var slots: [Int]
    var positions: [Int]
    var logitRows: [Int]
    /// Rows whose input is an image's embedding instead of their token's.
    var embedded: [Embedded] = []

    struct Embedded {
        let row: Int
        let embeddings: ImageEmbeddings
        /// Which of the image's embeddings.
        let index: Int
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
    /// The attention output, tokens × q dim: written over `q`, head by head (every attention kernel
    /// copies its query head into scratch, rounded or quantized, before it writes the output head).
    var attention: UnsafeMutablePointer<Float> { q }
    /// The output projections (attention, FFN down), tokens × hidden: written over `h`, whose normed
    /// input the Q/K/V or gate/up projections have consumed by then.
    var projected: UnsafeMutablePointer<Float> { h }
    /// The gate projection, then the FFN's activation: ffn floats per token, or, for a batch of a
    /// model whose FFN runs in bands (`banded`), one band of `ffnBand` rows per token.
    let gate: UnsafeMutablePointer<Float>
    /// The up projection: ffn floats for one token; for a batch, one band of `ffnBand` rows per token
    /// (`MatrixMultiplier.multiplyInBands`), combined into `gate` band by band.
    let up: UnsafeMutablePointer<Float>
    /// For a batch of a model whose FFN runs in bands: the down projection's quantized input, made
    /// band by band (`MatrixMultiplier.feedForwardInBands`); nil otherwise.
    let downInput: UnsafeMutableRawPointer?
    /// Whether a batch's FFN runs in bands (`gate` holds a band per token).
    let banded: Bool
    let logits: UnsafeMutablePointer<Float>  // logitRows × vocabulary
    /// Mixtures of experts only (one float otherwise): the router's logits, tokens × experts; the
    /// rows one expert takes, gathered (tokens × hidden, its input and then its down projection); and
    /// every chosen expert's weighted output, tokens × used × hidden.
    let router: UnsafeMutablePointer<Float>
    let gathered: UnsafeMutablePointer<Float>
    let expertOutputs: UnsafeMutablePointer<Float>
    let owner: Owner

    final class Owner {
        var pointers: [UnsafeMutablePointer<Float>] = []
        var raw: [UnsafeMutableRawPointer] = []
        deinit {
            pointers.forEach { $0.deallocate() }
            raw.forEach { $0.deallocate() }
        }
    }

    /// FFN rows per band of a batch's up projection: a multiple of every path's vector width, so each
    /// band's SwiGLU/GeGLU elements take the vector path they take in a whole-row call.
    static let ffnBand = 1024

    /// The floats of `up` for batches of `tokens`.
    static func upCount(tokens: Int, ffn: Int) -> Int { tokens > 1 ? max(ffn, tokens * min(ffn, ffnBand)) : ffn }

    /// The bytes of `downInput` for batches of `tokens`: quantized activations of the FFN width, at
    /// the larger of Q8_0's 34 and Q8_K's 292/8 bytes per 32 values.
    static func downInputBytes(configuration c: ModelConfiguration, tokens: Int, banded: Bool) -> Int {
        guard banded, tokens > 1 else { return 0 }
        let ffn = c.feedForwardLength.max() ?? 1
        return tokens * ((ffn + 255) / 256) * 292
    }

    /// The floats of each buffer for batches of `tokens` (`up` as `upCount`; `gate` likewise when the
    /// FFN runs in bands). A one-token step of a mixture of experts runs its chosen experts' gate and
    /// up projections side by side, so `gate` and `up` hold `used` rows at least.
    static func counts(configuration c: ModelConfiguration, tokens: Int, banded: Bool) -> (
        hidden: Int, q: Int, kv: Int, gate: Int, up: Int, router: Int, gathered: Int, expertOutputs: Int
    ) {
        let hidden = c.embeddingLength
        let ffn = c.feedForwardLength.max() ?? 1
        let used = c.expertUsedCount
        let experts = c.isMixtureOfExperts
        return (
            hidden: tokens * hidden,
            q: tokens * (c.headCount.max() ?? 1) * c.keyLength,
            kv: tokens * (c.headCountKV.max() ?? 1) * c.keyLength,
            gate: max(banded ? upCount(tokens: tokens, ffn: ffn) : tokens * ffn, used * ffn),
            up: max(upCount(tokens: tokens, ffn: ffn), used * ffn),
            router: experts ? tokens * c.expertCount : 0,
            gathered: experts ? tokens * hidden : 0,
            expertOutputs: experts ? tokens * used * hidden : 0)
    }

    init(configuration c: ModelConfiguration, vocabulary: Int, tokens: Int, logitRows: Int, banded: Bool) {
        self.tokens = tokens
        self.logitRows = logitRows
        self.banded = banded
        let owner = Owner()
        func make(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
            pointer.initialize(repeating: 0, count: max(1, count))
            owner.pointers.append(pointer)
            return pointer
        }
        let n = Self.counts(configuration: c, tokens: tokens, banded: banded)
        let downBytes = Self.downInputBytes(configuration: c, tokens: tokens, banded: banded)
        if downBytes > 0 {
            // Not cleared: every byte is written (by the bands' quantization) before it is read.
            let raw = UnsafeMutableRawPointer.allocate(byteCount: downBytes, alignment: 64)
            owner.raw.append(raw)
            downInput = raw
        } else {
            downInput = nil
        }
        x = make(n.hidden)
        h = make(n.hidden)
        q = make(n.q)
        k = make(n.kv)
        v = make(n.kv)
        gate = make(n.gate)
        up = make(n.up)
        logits = make(logitRows * vocabulary)
        router = make(n.router)
        gathered = make(n.gathered)
        expertOutputs = make(n.expertOutputs)
        self.owner = owner
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
