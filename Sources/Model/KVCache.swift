import Kernels

/// The key/value cache: for each layer, keys and values of every cached position, stored as F16
/// (llama.cpp's default `type_k`/`type_v`), laid out `[layer][kv head][position][head dim]` so one
/// head's positions are contiguous for the attention dot products.
///
/// Sized once for `capacity` positions; nothing grows during generation.
final class KVCache {
    let layers: Int
    let kvHeads: Int
    let headDimension: Int
    let capacity: Int
    /// The number of positions filled.
    var count = 0
    private let keys: UnsafeMutablePointer<UInt16>
    private let values: UnsafeMutablePointer<UInt16>

    init(layers: Int, kvHeads: Int, headDimension: Int, capacity: Int) {
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDimension = headDimension
        self.capacity = capacity
        let elements = layers * kvHeads * capacity * headDimension
        keys = .allocate(capacity: elements)
        keys.initialize(repeating: 0, count: elements)
        values = .allocate(capacity: elements)
        values.initialize(repeating: 0, count: elements)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes held (both caches).
    var byteCount: Int { 2 * layers * kvHeads * capacity * headDimension * 2 }

    private func offset(layer: Int, head: Int, position: Int) -> Int {
        ((layer * kvHeads + head) * capacity + position) * headDimension
    }

    /// Stores one position's keys and values for one layer (all KV heads, `kvHeads × headDimension`
    /// floats each), rounding to F16 as llama.cpp's cache copy does.
    func store(layer: Int, position: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>) {
        precondition(position < capacity, "KV cache position out of range")
        for head in 0..<kvHeads {
            let at = offset(layer: layer, head: head, position: position)
            HalfPrecision.convert(k + head * headDimension, to: keys + at, count: headDimension)
            HalfPrecision.convert(v + head * headDimension, to: values + at, count: headDimension)
        }
    }

    /// The F16 keys of `head` in `layer`, positions `0..<count` (row `p` at `p * headDimension`).
    func keys(layer: Int, head: Int) -> UnsafePointer<UInt16> {
        UnsafePointer(keys + offset(layer: layer, head: head, position: 0))
    }

    /// The F16 values of `head` in `layer`.
    func values(layer: Int, head: Int) -> UnsafePointer<UInt16> {
        UnsafePointer(values + offset(layer: layer, head: head, position: 0))
    }
}
