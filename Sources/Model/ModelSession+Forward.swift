import GGUF
import Kernels

extension ModelSession {
    /// The forward pass over a batch of tokens, each at its own slot and position (MODEL-SPEC §4), leaving
    /// logits in `buffers.logits` for the rows `batch.logitRows` names, in that order.
    ///
    /// Matches llama.cpp's CPU graph operation by operation: get_rows of the embedding (times √n_embd
    /// for Gemma 3), RMSNorm × weight, Q/K/V projections (+ Qwen2's biases), Gemma 3's per-head Q/K
    /// RMS norms, RoPE (NORM or NEOX, YaRN; per-layer θ for Gemma 3's sliding-window layers),
    /// Ministral 3's query temperature or Gemma 3's query scale, attention over the F16 cache (Q rounded
    /// to F16 for K·Q, softmax in F32, probabilities rounded to F16 for ·V, as llama.cpp's non-flash
    /// path does; causal, or through the layer's sliding window), output projection, Gemma 3's
    /// post-attention norm, residual, RMSNorm, SwiGLU or GeGLU FFN, Gemma 3's post-FFN norm, residual;
    /// final RMSNorm and the output projection.
    func forward(_ batch: Batch) {
        let c = model.configuration
        let tokens = batch.tokens
        let count = tokens.count
        let hidden = c.embeddingLength
        let heads = c.headCount[0]
        let kvHeads = c.headCountKV[0]
        let qDim = heads * c.keyLength
        let kvDim = kvHeads * c.keyLength
        let b = buffers

        for (t, token) in tokens.enumerated() {
            multiplier.dequantizeRow(
                model.embedding, row: Int(token), into: UnsafeMutableBufferPointer(start: b.x + t * hidden, count: hidden))
        }
        if let scale = model.embeddingScale {
            let x = UnsafeMutableBufferPointer(start: b.x, count: count * hidden)
            ops.scale(UnsafeBufferPointer(x), by: scale, into: x)
        }
        // Image positions take the projector's embeddings as they are (llama.cpp's batch.embd).
        for input in batch.embedded {
            input.embeddings.values.withUnsafeBufferPointer { values in
                (b.x + input.row * hidden).update(from: values.baseAddress! + input.index * hidden, count: hidden)
            }
        }

        let ropeCache = UnsafeMutableBufferPointer<Float>.allocate(capacity: c.ropeDimensionCount)
        defer { ropeCache.deallocate() }

        // The last layer's attention output, projection and FFN matter only for the rows that want
        // logits (llama.cpp's graph selects them there too, `inp_out_ids`): those rows are moved to the
        // front and the rest of that layer runs on them alone. Every op is per row, so their bits do
        // not change; their keys and values are stored first, as for every layer.
        let outputRows = batch.logitRows
        let trimLast = outputRows.count < count && zip(outputRows, outputRows.dropFirst()).allSatisfy { $0 < $1 }
        var live = count
        for (index, layer) in model.layers.enumerated() {
            normalize(rows: count, width: hidden, from: b.x, weight: layer.attentionNorm, into: b.h)
            project(
                [(layer.query, b.q, layer.queryBias), (layer.key, b.k, layer.keyBias), (layer.value, b.v, layer.valueBias)],
                b.h, rows: count)
            // Gemma 3: RMSNorm of every head (ggml_rms_norm over the head dimension), before RoPE.
            if let norm = layer.queryNorm {
                normalize(rows: count * heads, width: c.keyLength, from: b.q, weight: norm, into: b.q)
            }
            if let norm = layer.keyNorm {
                normalize(rows: count * kvHeads, width: c.keyLength, from: b.k, weight: norm, into: b.k)
            }

            for t in 0..<count {
                let at = batch.positions[t]
                ops.ropeCache(layer.rope, position: at, into: ropeCache)
                let rotation = UnsafeBufferPointer(ropeCache)
                let query = UnsafeMutableBufferPointer(start: b.q + t * qDim, count: qDim)
                ops.rope(model.ropeOrdering, cache: rotation, dimensions: c.ropeDimensionCount, headDimension: c.keyLength, query)
                ops.rope(
                    model.ropeOrdering, cache: rotation, dimensions: c.ropeDimensionCount, headDimension: c.keyLength,
                    UnsafeMutableBufferPointer(start: b.k + t * kvDim, count: kvDim))
                let temperature = model.queryTemperature(position: at)
                if temperature != 1 {
                    ops.scale(UnsafeBufferPointer(query), by: temperature, into: query)
                }
                if let scale = model.queryScale {
                    ops.scale(UnsafeBufferPointer(query), by: scale, into: query)
                }
                caches[batch.slots[t]].store(layer: index, position: at, keys: b.k + t * kvDim, values: b.v + t * kvDim)
            }

            if trimLast, index == model.layers.count - 1 {
                attend(layer: index, batch: batch, window: layer.slidingWindow, rows: outputRows)
                for (i, t) in outputRows.enumerated() where i != t {
                    (b.attention + i * qDim).update(from: b.attention + t * qDim, count: qDim)
                    (b.x + i * hidden).update(from: b.x + t * hidden, count: hidden)
                }
                live = outputRows.count
                if live == 0 { break }
            } else {
                attend(layer: index, batch: batch, window: layer.slidingWindow)
            }
            project(layer.attentionOutput, b.attention, rows: live, into: b.projected)
            if let norm = layer.postAttentionNorm {
                normalize(rows: live, width: hidden, from: b.projected, weight: norm, into: b.projected)
            }
            add(b.projected, into: b.x, count: live * hidden)

            normalize(rows: live, width: hidden, from: b.x, weight: layer.ffnNorm, into: b.h)
            switch layer.feedForward {
            case .dense(let gate, let up, let down):
                feedForward(gate: gate, up: up, down: down, input: b.h, rows: live, into: b.projected)
            case .experts(let experts):
                mixture(experts, rows: live)
            }
            if let norm = layer.postFeedForwardNorm {
                normalize(rows: live, width: hidden, from: b.projected, weight: norm, into: b.projected)
            }
            add(b.projected, into: b.x, count: live * hidden)
        }

        // The rows that want logits, gathered (normalized) into consecutive rows of h (already at the
        // front when the last layer ran on them alone).
        for (i, t) in outputRows.enumerated() {
            let row = trimLast ? i : t
            normalize(rows: 1, width: hidden, from: b.x + row * hidden, weight: model.outputNorm, into: b.h + i * hidden)
        }
        if !outputRows.isEmpty { project(model.output, b.h, rows: outputRows.count, into: b.logits) }
    }

    /// A gated FFN of `count` rows of `input` into `output` (which may be `input`: the gate and up
    /// projections have consumed it before the down projection writes): the gate and up projections,
    /// SwiGLU or GeGLU into `gate`, the down projection.
    func feedForward(
        gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix, input: UnsafeMutablePointer<Float>, rows count: Int,
        into output: UnsafeMutablePointer<Float>
    ) {
        let b = buffers
        let hidden = model.configuration.embeddingLength
        let ffn = gate.rows
        // Row by row: the exp-based ops give each element the same algorithm as llama.cpp only
        // when a call starts at a row's start -- or, within a row, at a multiple of the vector width
        // (16, 8 or 4 floats), as band starts (multiples of 1024) are.
        let feedForward = model.feedForward
        let ops = ops
        func combine(_ band: Range<Int>, gate: UnsafeMutablePointer<Float>, gateRow: Int, up: UnsafeMutablePointer<Float>, upRow: Int) {
            for t in 0..<count {
                let gate = UnsafeMutableBufferPointer(start: gate + t * gateRow, count: band.count)
                let up = UnsafeBufferPointer(start: up + t * upRow, count: band.count)
                switch feedForward {
                case .swiglu: ops.swiglu(gate: UnsafeBufferPointer(gate), up: up, into: gate)
                case .geglu: ops.geglu(gate: UnsafeBufferPointer(gate), up: up, into: gate)
                }
            }
        }
        let x = UnsafeBufferPointer(start: input, count: count * hidden)
        if count > 1, let downInput = b.downInput {
            // Only a band of the gate's outputs at a time; the down projection's input is quantized
            // band by band into downInput.
            multiplier.feedForwardInBands(
                gate: gate, up: up, down: down, batch: x, count: count, bandRows: Buffers.ffnBand, gateBand: b.gate,
                upBand: b.up, activations: downInput,
                combine: { band in combine(band, gate: b.gate, gateRow: band.count, up: b.up, upRow: band.count) },
                into: output)
            return
        }
        if count > 1 {
            multiplier.multiplyInBands(
                gate, up, batch: x, count: count, bandRows: Buffers.ffnBand, first: b.gate, secondBand: b.up
            ) { band in combine(band, gate: b.gate + band.lowerBound, gateRow: ffn, up: b.up, upRow: band.count) }
        } else {
            project([(gate, b.gate, nil), (up, b.up, nil)], input, rows: count)
            combine(0..<ffn, gate: b.gate, gateRow: ffn, up: b.up, upRow: ffn)
        }
        project(down, b.gate, rows: count, into: output)
    }

    private func normalize(
        rows: Int, width: Int, from x: UnsafeMutablePointer<Float>, weight: FloatVector, into y: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            ops.rmsNorm(
                UnsafeBufferPointer(start: x + r * width, count: width),
                weight: UnsafeBufferPointer(start: weight.base, count: width), epsilon: model.configuration.rmsNormEpsilon,
                into: UnsafeMutableBufferPointer(start: y + r * width, count: width))
        }
    }

    private func add(_ addend: UnsafeMutablePointer<Float>, into x: UnsafeMutablePointer<Float>, count: Int) {
        ops.add(
            UnsafeBufferPointer(start: x, count: count), UnsafeBufferPointer(start: addend, count: count),
            into: UnsafeMutableBufferPointer(start: x, count: count))
    }

    private func project(
        _ w: WeightMatrix, _ x: UnsafeMutablePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
        bias: FloatVector? = nil
    ) {
        multiplier.multiply(
            w, batch: UnsafeBufferPointer(start: x, count: rows * w.columns), count: rows,
            into: UnsafeMutableBufferPointer(start: y, count: rows * w.rows))
        guard let bias else { return }
        let b = UnsafeBufferPointer(start: bias.base, count: w.rows)
        for r in 0..<rows {
            let row = UnsafeMutableBufferPointer(start: y + r * w.rows, count: w.rows)
            ops.add(UnsafeBufferPointer(row), b, into: row)
        }
    }

    /// `project` for several matrices over the same input, in one pool dispatch with the input
    /// quantized once (bit-identical to separate calls; see `MatrixMultiplier.multiply(_:batch:count:into:)`).
    private func project(
        _ group: [(w: WeightMatrix, y: UnsafeMutablePointer<Float>, bias: FloatVector?)], _ x: UnsafeMutablePointer<Float>,
        rows: Int
    ) {
        let columns = group[0].w.columns
        multiplier.multiply(
            group.map(\.w), batch: UnsafeBufferPointer(start: x, count: rows * columns), count: rows,
            into: group.map { UnsafeMutableBufferPointer(start: $0.y, count: rows * $0.w.rows) })
        for (w, y, bias) in group {
            guard let bias else { continue }
            let b = UnsafeBufferPointer(start: bias.base, count: w.rows)
            for r in 0..<rows {
                let row = UnsafeMutableBufferPointer(start: y + r * w.rows, count: w.rows)
                ops.add(UnsafeBufferPointer(row), b, into: row)
            }
        }
    }

    /// Causal attention of the batch's queries, each over its own slot's cache up to its own position,
    /// one (token, head) pair per work item on the pool (all of the batch's keys are stored first, so a
    /// prompt's tokens see each other as they would one at a time). What follows is the F16 cache's arithmetic; a Q8_0 cache runs
    /// llama.cpp's flash-attention order instead (`FloatOps.attendQ8_0`). With a `window`, a query at `q` sees the keys at `p` with
    /// `q - p < window` (llama.cpp's `LLAMA_SWA_TYPE_STANDARD` mask), the others masked to -∞.
    ///
    /// Summation order is llama.cpp's non-flash decode path (one token at a time, which its prefill of
    /// the same tokens only approximates): K·Q is ggml_vec_dot_f16 over the head dimension; the score
    /// row is padded with -∞ to a multiple of 64 (llama.cpp pads its KV row to 256 and masks the
    /// unused cells; -∞ gives probability 0 and a 0 adds nothing, so only the lane structure matters),
    /// so softmax computes every visible score with the vector exp; P·V is ggml_vec_dot_f16 over the
    /// KV positions of the transposed V cache (position p in slot p mod 64, reduced as
    /// GGML_F32x16_REDUCE then _mm512_reduce_add_ps). `FloatOps.attendF16` does one (token, head) in
    /// one C call. A window's masked positions are -∞ scores (probability 0, adding nothing to a
    /// slot), so the softmax starts at the 64-aligned cell before the first visible one (llama.cpp's
    /// sliding-window cache then holds the same positions in the same lanes; entire masked lane groups
    /// only add zeros to its sum).
    private func attend(layer: Int, batch: Batch, window: Int?, rows selected: [Int]? = nil) {
        let c = model.configuration
        let heads = c.headCount[0]
        let group = heads / c.headCountKV[0]
        let dimension = c.keyLength
        let qDim = heads * dimension
        let tokens = batch.tokens.count
        let positions = batch.positions
        let slots = batch.slots
        let scale = model.attentionScale
        let b = buffers
        let caches = caches
        let ops = ops
        let cells = caches[0].cells(layer: layer)
        let type = caches[0].type
        let capacity =
            type == .f16
            ? FloatOps.attendF16ScratchCount(headDimension: dimension, visible: (positions.max() ?? 0) + 1)
            : FloatOps.attendQ8_0ScratchCount(headDimension: dimension)
        // An F16 cache's query heads go by KV head when that still leaves every worker at least 4
        // items (a prompt; a decode step too when there are 4 KV heads or more per worker): each K and
        // V row is then walked once for the group, the same bits as head by head
        // (FloatOps.attendF16Heads). Otherwise one item per query head keeps every worker busy.
        let rows = selected?.count ?? tokens
        let perItem =
            type == .f16 && group > 1 && group <= FloatOps.attendF16MaxHeads
                && rows * c.headCountKV[0] >= 4 * multiplier.pool.activeThreads ? group : 1
        let items = rows * heads / perItem
        multiplier.pool.parallelFor(count: items, chunk: 1) { items in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: capacity * perItem) { scratch in
                for item in items {
                    let t = selected.map { $0[item * perItem / heads] } ?? item * perItem / heads
                    let head = item * perItem % heads
                    let kvHead = head / group
                    let visible = positions[t] + 1
                    let cache = caches[slots[t]]
                    let first = window.map { max(0, visible - $0) } ?? 0
                    let query = b.q + t * qDim + head * dimension
                    let keys = cache.keys(layer: layer, head: kvHead)
                    let values = cache.values(layer: layer, head: kvHead)
                    let out = b.attention + t * qDim + head * dimension
                    switch type {
                    case .f16 where perItem > 1:
                        ops.attendF16Heads(
                            queries: query, count: perItem, keys: keys, values: values, headDimension: dimension,
                            cells: cells, positions: first..<visible, scale: scale, scratch: scratch.baseAddress!,
                            into: out)
                    case .f16:
                        ops.attendF16(
                            query: query, keys: keys, values: values, headDimension: dimension, cells: cells,
                            positions: first..<visible, scale: scale, scratch: scratch.baseAddress!, into: out)
                    case .q8_0:
                        ops.attendQ8_0(
                            query: query, keys: keys, values: values, headDimension: dimension, cells: cells,
                            positions: first..<visible, scale: scale, scratch: scratch.baseAddress!, into: out)
                    }
                }
            }
        }
    }
}
