import Kernels

/// The key/value cache: for each layer, keys and values of the cached positions, stored as F16
/// (llama.cpp's default `type_k`/`type_v`), laid out `[layer][kv head][cell][head dim]` so one head's
/// positions are contiguous for the attention dot products.
///
/// A full-attention layer has a cell for every position (`capacity`). A sliding-window layer only ever
/// reads its last `window` positions, so it keeps a ring of `cells(layer:)` cells, position `p` in
/// cell `p mod cells`; the ring holds the window plus one batch of new positions (all of a batch's keys
/// are stored before any of its queries attend), so batches must not exceed `maximumBatch` tokens.
///
/// Sized once; nothing grows during generation.
final class KVCache {
    let layers: Int
    let kvHeads: Int
    let headDimension: Int
    /// The most positions the cache holds.
    let capacity: Int
    /// The most tokens one batch may store before attending (sliding-window rings are sized for it).
    let maximumBatch: Int
    /// The number of positions filled.
    var count = 0
    /// Cells per layer (`capacity`, or a sliding-window layer's ring).
    private let layerCells: [Int]
    /// Each layer's sliding window (nil: full attention).
    private let windows: [Int?]
    /// Element offset of each layer's first cell.
    private let layerOffsets: [Int]
    private let elements: Int
    private let keys: UnsafeMutablePointer<UInt16>
    private let values: UnsafeMutablePointer<UInt16>

    /// Whether the positions a new token at `target` would attend to are all still stored: a ring
    /// that has wrapped past them has overwritten them.
    func canRewind(to target: Int) -> Bool {
        for (window, cells) in zip(windows, layerCells) {
            guard let window, count > cells else { continue }
            // Kept: positions count - cells ..< count. Needed from target on: target - (window - 1).
            if target - (window - 1) < count - cells { return false }
        }
        return true
    }

    /// The cells a layer with `window` (nil: full attention) needs for `capacity` positions and batches
    /// of up to `maximumBatch`: the window and one batch, rounded up to 64 (the attention's lane count),
    /// at most `capacity`.
    static func cells(window: Int?, capacity: Int, maximumBatch: Int) -> Int {
        guard let window else { return capacity }
        let ring = (window + maximumBatch + 63) / 64 * 64
        return min(capacity, ring)
    }

    /// Bytes a cache would hold (both K and V), without allocating it.
    static func byteCount(windows: [Int?], kvHeads: Int, headDimension: Int, capacity: Int, maximumBatch: Int)
        -> (bytes: Int, overflow: Bool)
    {
        var total = 0
        for window in windows {
            let cells = Self.cells(window: window, capacity: capacity, maximumBatch: maximumBatch)
            let (layer, o1) = (2 * 2 * kvHeads * headDimension).multipliedReportingOverflow(by: cells)
            let (sum, o2) = total.addingReportingOverflow(layer)
            if o1 || o2 { return (Int.max, true) }
            total = sum
        }
        return (total, false)
    }

    /// Creates a cache.
    ///
    /// - Parameters:
    ///   - windows: Each layer's sliding window, or nil for full attention (one entry per layer).
    ///   - kvHeads: Key/value heads.
    ///   - headDimension: Floats per head.
    ///   - capacity: Positions.
    ///   - maximumBatch: The most tokens a batch stores at once.
    init(windows: [Int?], kvHeads: Int, headDimension: Int, capacity: Int, maximumBatch: Int) {
        layers = windows.count
        self.kvHeads = kvHeads
        self.headDimension = headDimension
        self.capacity = capacity
        self.maximumBatch = maximumBatch
        self.windows = windows
        layerCells = windows.map { Self.cells(window: $0, capacity: capacity, maximumBatch: maximumBatch) }
        var offsets: [Int] = []
        var total = 0
        for cells in layerCells {
            offsets.append(total)
            total += kvHeads * cells * headDimension
        }
        layerOffsets = offsets
        elements = total
        keys = .allocate(capacity: max(1, total))
        keys.initialize(repeating: 0, count: max(1, total))
        values = .allocate(capacity: max(1, total))
        values.initialize(repeating: 0, count: max(1, total))
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes held (both caches).
    var byteCount: Int { 2 * elements * 2 }

    /// The cells of `layer`.
    func cells(layer: Int) -> Int { layerCells[layer] }

    /// The cell holding `position` in `layer`.
    func cell(layer: Int, position: Int) -> Int { position % layerCells[layer] }

    private func offset(layer: Int, head: Int, cell: Int) -> Int {
        layerOffsets[layer] + (head * layerCells[layer] + cell) * headDimension
    }

    /// Stores one position's keys and values for one layer (all KV heads, `kvHeads × headDimension`
    /// floats each), rounding to F16 as llama.cpp's cache copy does.
    func store(layer: Int, position: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>) {
        precondition(position < capacity, "KV cache position out of range")
        let cell = cell(layer: layer, position: position)
        for head in 0..<kvHeads {
            let at = offset(layer: layer, head: head, cell: cell)
            HalfPrecision.convert(k + head * headDimension, to: keys + at, count: headDimension)
            HalfPrecision.convert(v + head * headDimension, to: values + at, count: headDimension)
        }
    }

    /// The F16 keys of `head` in `layer`, cell `c` at `c * headDimension`.
    func keys(layer: Int, head: Int) -> UnsafePointer<UInt16> {
        UnsafePointer(keys + offset(layer: layer, head: head, cell: 0))
    }

    /// The F16 values of `head` in `layer`, laid out as the keys.
    func values(layer: Int, head: Int) -> UnsafePointer<UInt16> {
        UnsafePointer(values + offset(layer: layer, head: head, cell: 0))
    }
}
