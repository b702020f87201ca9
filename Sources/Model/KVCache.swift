#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Kernels

/// The key/value cache: for each layer, keys and values of the cached positions, stored as F16
/// (llama.cpp's default `type_k`/`type_v`) or Q8_0 (`KVCacheType`), laid out
/// `[layer][kv head][cell][head dim]` so one head's positions are contiguous for the attention dot
/// products (a Q8_0 head row is `headDimension / 32` blocks).
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
    /// The element type.
    let type: KVCacheType
    /// Bytes of one head's row (one position).
    let rowBytes: Int
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
    /// Rows (head × cell) over all layers, per cache (K or V).
    private let rows: Int
    private let keys: UnsafeMutableRawPointer
    private let values: UnsafeMutableRawPointer

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
    static func byteCount(
        windows: [Int?], kvHeads: Int, headDimension: Int, type: KVCacheType = .f16, capacity: Int, maximumBatch: Int
    ) -> (bytes: Int, overflow: Bool) {
        let rowBytes = type.rowByteCount(elements: headDimension) ?? headDimension * 2
        var total = 0
        for window in windows {
            let cells = Self.cells(window: window, capacity: capacity, maximumBatch: maximumBatch)
            let (layer, o1) = (2 * kvHeads * rowBytes).multipliedReportingOverflow(by: cells)
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
    ///   - headDimension: Floats per head (a multiple of 32 for Q8_0).
    ///   - type: The element type.
    ///   - capacity: Positions.
    ///   - maximumBatch: The most tokens a batch stores at once.
    /// - Throws: `ModelError` `.contextOverflow` when the memory cannot be mapped.
    init(windows: [Int?], kvHeads: Int, headDimension: Int, type: KVCacheType = .f16, capacity: Int, maximumBatch: Int) throws {
        precondition(type.rowByteCount(elements: headDimension) != nil, "a Q8_0 cache needs whole 32-blocks per head")
        layers = windows.count
        self.kvHeads = kvHeads
        self.headDimension = headDimension
        self.type = type
        rowBytes = type.rowByteCount(elements: headDimension)!
        self.capacity = capacity
        self.maximumBatch = maximumBatch
        self.windows = windows
        layerCells = windows.map { Self.cells(window: $0, capacity: capacity, maximumBatch: maximumBatch) }
        var offsets: [Int] = []
        var total = 0
        for cells in layerCells {
            offsets.append(total)
            total += kvHeads * cells
        }
        layerOffsets = offsets
        rows = total
        mappedBytes = max(1, total * rowBytes)
        keys = try Self.zeroedPages(mappedBytes)
        do {
            values = try Self.zeroedPages(mappedBytes)
        } catch {
            munmap(keys, mappedBytes)
            throw error
        }
    }

    deinit {
        munmap(keys, mappedBytes)
        munmap(values, mappedBytes)
    }

    /// Bytes of each mapping.
    private let mappedBytes: Int

    /// Anonymous zeroed memory, resident only once touched: a slot's cache costs RAM as its
    /// positions fill, not when it is created (the memory plan still counts all of it). Cells are
    /// zero until written (the attention's padded lanes multiply them by 0, so they must be finite).
    private static func zeroedPages(_ bytes: Int) throws -> UnsafeMutableRawPointer {
        let pointer = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let pointer, pointer != MAP_FAILED else {
            throw ModelError(.contextOverflow, "cannot map \(bytes) bytes for the KV cache: \(String(cString: strerror(errno)))")
        }
        return pointer
    }

    /// Bytes held (both caches).
    var byteCount: Int { 2 * rows * rowBytes }

    /// The cells of `layer`.
    func cells(layer: Int) -> Int { layerCells[layer] }

    /// The cell holding `position` in `layer`.
    func cell(layer: Int, position: Int) -> Int { position % layerCells[layer] }

    /// Byte offset of a head's row.
    private func offset(layer: Int, head: Int, cell: Int) -> Int {
        (layerOffsets[layer] + head * layerCells[layer] + cell) * rowBytes
    }

    /// Stores one position's keys and values for one layer (all KV heads, `kvHeads × headDimension`
    /// floats each), rounding to F16 or quantizing to Q8_0 as llama.cpp's cache copy does.
    func store(layer: Int, position: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>) {
        precondition(position < capacity, "KV cache position out of range")
        let cell = cell(layer: layer, position: position)
        for head in 0..<kvHeads {
            let at = offset(layer: layer, head: head, cell: cell)
            switch type {
            case .f16:
                HalfPrecision.convert(
                    k + head * headDimension, to: (keys + at).assumingMemoryBound(to: UInt16.self), count: headDimension)
                HalfPrecision.convert(
                    v + head * headDimension, to: (values + at).assumingMemoryBound(to: UInt16.self), count: headDimension)
            case .q8_0:
                Q8_0Rows.quantize(k + head * headDimension, into: keys + at, count: headDimension)
                Q8_0Rows.quantize(v + head * headDimension, into: values + at, count: headDimension)
            }
        }
    }

    /// The keys of `head` in `layer` (F16 values or Q8_0 blocks), cell `c` at `c * rowBytes`.
    func keys(layer: Int, head: Int) -> UnsafeRawPointer {
        UnsafeRawPointer(keys + offset(layer: layer, head: head, cell: 0))
    }

    /// The values of `head` in `layer`, laid out as the keys.
    func values(layer: Int, head: Int) -> UnsafeRawPointer {
        UnsafeRawPointer(values + offset(layer: layer, head: head, cell: 0))
    }
}
