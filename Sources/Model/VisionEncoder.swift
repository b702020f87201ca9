public import Kernels
import Foundation
import GGUF

/// Where an image's tokens go in a prompt: `columns` image tokens per row, `rows` rows, an
/// `[IMG_BREAK]` after every row but the last (Mistral's layout; `[IMG_END]`, a text token, follows).
public struct ImageTokenGrid: Sendable, Hashable {
    /// Image tokens per row.
    public var columns: Int
    /// Rows of image tokens.
    public var rows: Int

    /// Creates a grid.
    public init(columns: Int, rows: Int) {
        self.columns = columns
        self.rows = rows
    }

    /// Prompt positions the image takes: its tokens and the breaks between rows.
    public var tokenCount: Int { columns * rows + max(0, rows - 1) }

    /// Whether position `index` of the image's run is a row break.
    public func isBreak(_ index: Int) -> Bool { (index + 1) % (columns + 1) == 0 }
}

/// One image's embeddings, one per prompt position of its grid (breaks included), ready to stand
/// for those positions' token embeddings in the text model.
public struct ImageEmbeddings: Sendable {
    /// The layout.
    public let grid: ImageTokenGrid
    /// Floats per embedding (the text model's width).
    public let width: Int
    /// `grid.tokenCount × width` floats, row-major.
    public let values: [Float]

    /// Creates embeddings.
    public init(grid: ImageTokenGrid, width: Int, values: [Float]) {
        self.grid = grid
        self.width = width
        self.values = values
    }
}

/// Runs a `VisionModel` over preprocessed images, on the text model's kernels and worker pool (one
/// image at a time; not reentrant, as the session it shares them with).
///
/// Numerics follow llama.cpp's CPU graph: the convolution as a matrix product over F16-rounded patch
/// pixels (ggml's im2col into F16 for an F16 kernel), RMSNorm × weight, the projections on the
/// weight type's kernels, 2-D RoPE (the first half of each head rotated by the patch's row with the
/// even frequencies, the second half by its column with the odd ones), attention over every patch
/// with keys and values in F16 (the flash-attention path's casts), SwiGLU, the merger's unfold in
/// ggml's im2col order (channel, then row, then column of the 2×2 group), the GELU projector.
public final class VisionEncoder: @unchecked Sendable {
    // @unchecked Sendable: the weights are immutable; calls are one at a time, on the model thread.

    /// The projector.
    public let model: VisionModel
    let multiplier: MatrixMultiplier
    let ops: FloatOps

    /// The most rows per band of the FFN's gate and up projections (bounds the FFN's working memory).
    public static let ffnBand = 512

    /// Rows per FFN band for `patches` rows: equal bands of at most `ffnBand`, so no band is left
    /// too small for SGEMM (each band dequantizes the FFN's weights again, so fewer, larger bands
    /// pay).
    public static func ffnBandRows(patches: Int) -> Int {
        let bands = max(1, (patches + ffnBand - 1) / ffnBand)
        return (patches + bands - 1) / bands
    }

    /// The bytes one encode of `patches` patches allocates at its peak with `threads` pool workers:
    /// the encoding's buffers (activations, Q/K/V, the FFN's bands, the convolution's input, the
    /// rotation caches, the merger's input, the projector's hidden and output rows), the largest
    /// product's rounded activations and each worker's block of dequantized weight rows (SGEMM), and
    /// each worker's attention scores.
    public static func workingBytes(_ model: VisionModel, patches: Int, threads: Int) -> Int {
        let c = model.configuration
        let d = c.embeddingLength
        let qDim = c.headCount * c.headDimension
        let kvDim = c.headCountKV * c.headDimension
        let band = ffnBandRows(patches: patches)
        let conv = 3 * c.patchSize * c.patchSize
        let tokens = patches / max(1, c.mergeSize * c.mergeSize)
        let merged = d * c.mergeSize * c.mergeSize
        let buffers =
            patches * (2 * d + qDim + 2 * kvDim + conv + c.headDimension) + 2 * band * c.feedForwardLength
            + tokens * (merged + model.projection1Rows + 2 * model.outputWidth)  // and the embeddings returned
        let rounded = max(patches * max(d, conv), band * c.feedForwardLength, tokens * merged)
        let widest = max(d, conv, merged, c.feedForwardLength, model.projection1Rows)
        let block = min(patches, attentionBlock)
        let perWorker = MatrixMultiplier.blasBlockRows * widest + block * (patches + c.headDimension)
        return (buffers + rounded + max(1, threads) * perWorker) * MemoryLayout<Float>.size
    }

    /// Rows from which a product goes through SGEMM (`multiplyThroughBLAS`) rather than the
    /// vec-dot-ordered mat-mat kernels.
    static let blasRows = 32
    /// Query rows per block of attention scores (bounds the scores to `block × patches` floats per worker).
    static let attentionBlock = 96

    /// The most patches one image may have (llama.cpp's Pixtral limit is 1024 tokens, so 4096 patches
    /// with a 2×2 merge).
    public static let maximumPatches = 16_384

    /// Creates an encoder.
    ///
    /// - Parameters:
    ///   - model: The projector.
    ///   - multiplier: The matrix kernels and worker pool (the text model's).
    ///   - ops: The float ops on the same path.
    public init(model: VisionModel, multiplier: MatrixMultiplier, ops: FloatOps) {
        self.model = model
        self.multiplier = multiplier
        self.ops = ops
    }

    /// The token grid of a preprocessed image of `width × height` pixels.
    ///
    /// - Throws: `ModelError` `.wrongShape` when a side is not a whole number of merged patches, or the
    ///   image has more than `maximumPatches` patches.
    public func grid(width: Int, height: Int) throws -> ImageTokenGrid {
        let c = model.configuration
        let unit = c.patchSize * c.mergeSize
        guard width >= unit, height >= unit, width % unit == 0, height % unit == 0 else {
            throw ModelError(.wrongShape, "an image of \(width)×\(height) pixels is not a whole number of \(unit)-pixel cells")
        }
        let patches = (width / c.patchSize).multipliedReportingOverflow(by: height / c.patchSize)
        guard !patches.overflow, patches.partialValue <= Self.maximumPatches else {
            throw ModelError(.wrongShape, "an image of \(width)×\(height) pixels has more than \(Self.maximumPatches) patches")
        }
        return ImageTokenGrid(columns: width / unit, rows: height / unit)
    }

    /// Encodes one preprocessed image (`start`, every layer, `finish`).
    ///
    /// - Parameters:
    ///   - width: Pixels per row (a multiple of patch × merge).
    ///   - height: Rows (a multiple of patch × merge).
    ///   - pixels: `width × height × 3` normalized floats, RGB interleaved, row-major.
    /// - Returns: The embeddings of the image's prompt positions.
    /// - Throws: `ModelError` `.wrongShape` for a bad size or pixel count.
    public func encode(width: Int, height: Int, pixels: UnsafeBufferPointer<Float>) throws -> ImageEmbeddings {
        let encoding = try start(width: width, height: height, pixels: pixels)
        encoding.advance(layers: encoding.layerCount)
        return encoding.finish()
    }

    /// Starts encoding one preprocessed image: allocates the encode's buffers and runs the patch
    /// embedding; the transformer's layers then run a few at a time (`ImageEncoding.advance`), so a
    /// caller can interleave other work, and `finish` gives the same embeddings `encode` does.
    ///
    /// - Parameters: As `encode(width:height:pixels:)`.
    /// - Returns: The encoding, its layers not yet run.
    /// - Throws: `ModelError` `.wrongShape` for a bad size or pixel count.
    public func start(width: Int, height: Int, pixels: UnsafeBufferPointer<Float>) throws -> ImageEncoding {
        let grid = try self.grid(width: width, height: height)
        guard pixels.count == width * height * 3 else {
            throw ModelError(.wrongShape, "\(pixels.count) floats for a \(width)×\(height) RGB image")
        }
        let encoding = ImageEncoding(encoder: self, grid: grid, width: width, height: height)
        let c = model.configuration
        let p = c.patchSize
        let across = encoding.across
        let patch = encoding.storage.make(encoding.count * 3 * p * p)
        // The convolution: each patch's pixels as one row, channel-major (the kernel's layout).
        for py in 0..<encoding.down {
            for px in 0..<across {
                var out = patch + (py * across + px) * 3 * p * p
                for channel in 0..<3 {
                    for ky in 0..<p {
                        let row = (py * p + ky) * width + px * p
                        for kx in 0..<p {
                            out.pointee = pixels[(row + kx) * 3 + channel]
                            out += 1
                        }
                    }
                }
            }
        }
        multiply(model.patchEmbedding, patch, rows: encoding.count, bias: model.patchBias, into: encoding.x)
        if let norm = model.preNorm {
            normalize(encoding.x, rows: encoding.count, width: c.embeddingLength, weight: norm, into: encoding.x)
        }
        return encoding
    }

    /// Runs transformer layer `block` over an encoding's patches.
    fileprivate func layer(_ block: VisionModel.Block, of e: ImageEncoding) {
        let c = model.configuration
        let count = e.count
        let d = c.embeddingLength
        let (x, h, q, k, v, gate, up) = (e.x, e.h, e.q, e.k, e.v, e.gate, e.up)
        normalize(x, rows: count, width: d, weight: block.attentionNorm, into: h)
        multiply(block.query, h, rows: count, bias: block.queryBias, into: q)
        multiply(block.key, h, rows: count, bias: block.keyBias, into: k)
        multiply(block.value, h, rows: count, bias: block.valueBias, into: v)
        rotate(q, heads: c.headCount, rows: count, rotations: e.rotations)
        rotate(k, heads: c.headCountKV, rows: count, rotations: e.rotations)
        attend(q, k, v, rows: count)  // the output over q
        multiply(block.output, q, rows: count, bias: block.outputBias, into: h)
        ops.add(x, h, into: x, count: count * d)

        normalize(x, rows: count, width: d, weight: block.ffnNorm, into: h)
        let ff = c.feedForwardLength
        var start = 0
        while start < count {
            let rows = min(e.band, count - start)
            let input = h + start * d
            multiply(block.up, input, rows: rows, bias: block.upBias, into: up)
            if let gateWeights = block.gate {
                multiply(gateWeights, input, rows: rows, bias: block.gateBias, into: gate)
                switch c.activation {
                case .silu: ops.swiglu(gate: gate, up: up, into: gate, count: rows * ff)
                case .gelu, .geluQuick: ops.geglu(gate: gate, up: up, into: gate, count: rows * ff)
                }
            } else {
                switch c.activation {
                case .silu: ops.silu(up, into: gate, count: rows * ff)
                case .gelu, .geluQuick: ops.gelu(up, into: gate, count: rows * ff)
                }
            }
            // The down projection overwrites this band of h, whose rows the projections above consumed.
            multiply(block.down, gate, rows: rows, bias: block.downBias, into: input)
            start += rows
        }
        ops.add(x, h, into: x, count: count * d)
    }

    /// The post-norm, patch merger and projector over an encoding whose layers have all run.
    fileprivate func finish(_ e: ImageEncoding) -> ImageEmbeddings {
        let c = model.configuration
        let grid = e.grid
        let (x, h, count, across) = (e.x, e.h, e.count, e.across)
        let d = c.embeddingLength
        if let norm = model.postNorm {
            normalize(x, rows: count, width: d, weight: norm, into: x)
        }

        // The patch merger: RMSNorm, then each merge × merge group unfolded (channel, row, column) and projected.
        var tokens = count
        var features = x
        if let merger = model.merger, let norm = model.mergerNorm {
            let m = c.mergeSize
            normalize(x, rows: count, width: d, weight: norm, into: x)
            tokens = grid.columns * grid.rows
            let unfolded = e.storage.make(tokens * d * m * m)
            for gy in 0..<grid.rows {
                for gx in 0..<grid.columns {
                    var out = unfolded + (gy * grid.columns + gx) * d * m * m
                    for channel in 0..<d {
                        for ky in 0..<m {
                            for kx in 0..<m {
                                out.pointee = x[((gy * m + ky) * across + gx * m + kx) * d + channel]
                                out += 1
                            }
                        }
                    }
                }
            }
            multiply(merger, unfolded, rows: tokens, bias: nil, into: h)
            features = h
        }

        // The projector: linear, GELU, linear, written with a break row after each token row but the last.
        let inner = model.projection1.rows
        let hidden = e.storage.make(tokens * inner)
        multiply(model.projection1, features, rows: tokens, bias: model.projection1Bias, into: hidden)
        ops.gelu(hidden, into: hidden, count: tokens * inner)
        let outWidth = model.outputWidth
        let projected = e.storage.make(tokens * outWidth)
        multiply(model.projection2, hidden, rows: tokens, bias: model.projection2Bias, into: projected)

        var values = [Float](repeating: 0, count: grid.tokenCount * outWidth)
        values.withUnsafeMutableBufferPointer { out in
            var at = 0
            for row in 0..<grid.rows {
                (out.baseAddress! + at * outWidth).update(from: projected + row * grid.columns * outWidth, count: grid.columns * outWidth)
                at += grid.columns
                if row < grid.rows - 1 {
                    model.rowBreak.withUnsafeBufferPointer { (out.baseAddress! + at * outWidth).update(from: $0.baseAddress!, count: outWidth) }
                    at += 1
                }
            }
        }
        return ImageEmbeddings(grid: grid, width: outWidth, values: values)
    }

    // MARK: - Steps

    /// `rows` products of `w` (+ bias) from `x` into `y`.
    private func multiply(
        _ w: WeightMatrix, _ x: UnsafeMutablePointer<Float>, rows: Int, bias: FloatVector?, into y: UnsafeMutablePointer<Float>
    ) {
        let input = UnsafeBufferPointer(start: x, count: rows * w.columns)
        let output = UnsafeMutableBufferPointer(start: y, count: rows * w.rows)
        if rows >= Self.blasRows {
            multiplier.multiplyThroughBLAS(w, batch: input, count: rows, into: output)
        } else {
            multiplier.multiply(w, batch: input, count: rows, into: output)
        }
        if let bias {
            for r in 0..<rows {
                ops.add(y + r * w.rows, bias.base, into: y + r * w.rows, count: w.rows)
            }
        }
    }

    private func normalize(
        _ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, weight: FloatVector, into y: UnsafeMutablePointer<Float>
    ) {
        let epsilon = model.configuration.normEpsilon
        let ops = ops
        multiplier.pool.parallelFor(count: rows, chunk: max(1, rows / (multiplier.pool.threadCount * 4))) { range in
            for r in range {
                ops.rmsNorm(x + r * width, weight: weight.base, count: width, epsilon: epsilon, into: y + r * width)
            }
        }
    }

    /// The rotation caches of the patches' rows and columns: for each patch, a row cache (even
    /// frequencies) then a column cache (odd frequencies), `headDimension / 2` floats each.
    fileprivate func rotations(across: Int, down: Int, into caches: UnsafeMutablePointer<Float>) {
        let c = model.configuration
        let half = c.headDimension / 2
        // ggml_rope_ext over half the head, θ_i = p · base^(−2i/half); the second half's frequency
        // scale base^(−2/headDimension) shifts it to the odd frequencies.
        let even = RoPEConfiguration(dimensions: half, base: c.ropeBase, scale: 1)
        let odd = RoPEConfiguration(dimensions: half, base: c.ropeBase, scale: powf(c.ropeBase, -2 / Float(c.headDimension)))
        let rowCaches = UnsafeMutablePointer<Float>.allocate(capacity: down * half)
        let columnCaches = UnsafeMutablePointer<Float>.allocate(capacity: across * half)
        defer {
            rowCaches.deallocate()
            columnCaches.deallocate()
        }
        for y in 0..<down { ops.ropeCache(even, position: y, into: rowCaches + y * half) }
        for x in 0..<across { ops.ropeCache(odd, position: x, into: columnCaches + x * half) }
        for y in 0..<down {
            for x in 0..<across {
                let at = caches + (y * across + x) * 2 * half
                at.update(from: rowCaches + y * half, count: half)
                (at + half).update(from: columnCaches + x * half, count: half)
            }
        }
    }

    private func rotate(_ values: UnsafeMutablePointer<Float>, heads: Int, rows: Int, rotations: UnsafeMutablePointer<Float>) {
        let dimension = model.configuration.headDimension
        let half = dimension / 2
        let ops = ops
        multiplier.pool.parallelFor(count: rows, chunk: max(1, rows / (multiplier.pool.threadCount * 4))) { range in
            for r in range {
                let row = values + r * heads * dimension
                let cache = rotations + r * 2 * half
                ops.rope(.norm, cache: cache, dimensions: half, headDimension: dimension, heads: heads, values: row)
                // The second half: the same pairs, offset by half a head (ggml_rope_set_offset).
                ops.rope(.norm, cache: cache + half, dimensions: half, headDimension: dimension, heads: heads, values: row + half)
            }
        }
    }

    /// Attention of every patch over every patch, head by head, written over the queries, as
    /// llama.cpp's CPU flash-attention path computes it for a batch of queries (its tiled kernel):
    /// keys and values rounded to F16 (the graph's casts), queries and scores in F32, softmax in
    /// F32, the output accumulated in F32. Each worker takes whole heads, in blocks of query rows:
    /// scores `Q·Kᵀ` through SGEMM, a scaled softmax per row, then `P·V` through SGEMM.
    private func attend(_ q: UnsafeMutablePointer<Float>, _ k: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>, rows: Int) {
        let c = model.configuration
        let dimension = c.headDimension
        let heads = c.headCount
        let group = heads / c.headCountKV
        let qDim = heads * dimension
        let kvDim = c.headCountKV * dimension
        multiplier.roundToHalf(k, count: rows * kvDim)
        multiplier.roundToHalf(v, count: rows * kvDim)
        let scale = 1 / Float(dimension).squareRoot()
        let ops = ops
        let block = min(rows, Self.attentionBlock)
        // The output of a block goes to scratch first: its queries are still being read.
        multiplier.pool.parallelFor(count: heads, chunk: 1) { range in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: block * rows)
            let out = UnsafeMutablePointer<Float>.allocate(capacity: block * dimension)
            defer {
                scores.deallocate()
                out.deallocate()
            }
            for head in range {
                let kvHead = head / group
                var first = 0
                while first < rows {
                    let n = min(block, rows - first)
                    let queries = q + first * qDim + head * dimension
                    MatrixMultiplier.sgemm(
                        m: n, n: rows, k: dimension, a: queries, lda: qDim, b: k + kvHead * dimension, ldb: kvDim, transposeB: true,
                        c: scores, ldc: rows)
                    for r in 0..<n {
                        ops.softmax(scores + r * rows, count: rows, scale: scale, mask: nil)
                    }
                    MatrixMultiplier.sgemm(
                        m: n, n: dimension, k: rows, a: scores, lda: rows, b: v + kvHead * dimension, ldb: kvDim, transposeB: false,
                        c: out, ldc: dimension)
                    for r in 0..<n {
                        (queries + r * qDim).update(from: out + r * dimension, count: dimension)
                    }
                    first += n
                }
            }
        }
    }
}

/// Buffers of one encode, freed together when released.
fileprivate final class Scratch {
    private var pointers: [UnsafeMutablePointer<Float>] = []

    func make(_ count: Int) -> UnsafeMutablePointer<Float> {
        let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
        pointers.append(pointer)
        return pointer
    }

    deinit { pointers.forEach { $0.deallocate() } }
}

/// One image's encoding in progress (`VisionEncoder.start`): the patch embedding is done; `advance`
/// runs the transformer's layers a few at a time and `finish` the merger and projector. It holds the
/// encode's buffers (within `VisionEncoder.workingBytes`) until it is released. Used from one
/// thread at a time (the engine's model thread, or the caller of `encode`).
public final class ImageEncoding: @unchecked Sendable {
    // @unchecked Sendable: the buffers are touched only by the thread that advances the encoding;
    // the engine hands it from step to step on its model thread.
    fileprivate let encoder: VisionEncoder
    fileprivate let grid: ImageTokenGrid
    fileprivate let across: Int
    fileprivate let down: Int
    fileprivate let count: Int
    fileprivate let band: Int
    fileprivate let storage = Scratch()
    fileprivate let x, h, q, k, v, gate, up, rotations: UnsafeMutablePointer<Float>

    /// The transformer's layers.
    public var layerCount: Int { encoder.model.blocks.count }
    /// Layers run so far.
    public private(set) var layersDone = 0
    /// Whether every layer has run (`finish` may be called).
    public var isReadyToFinish: Bool { layersDone == layerCount }

    fileprivate init(encoder: VisionEncoder, grid: ImageTokenGrid, width: Int, height: Int) {
        let c = encoder.model.configuration
        self.encoder = encoder
        self.grid = grid
        across = width / c.patchSize
        down = height / c.patchSize
        count = across * down
        band = VisionEncoder.ffnBandRows(patches: count)
        let d = c.embeddingLength
        x = storage.make(count * d)
        h = storage.make(count * d)
        q = storage.make(count * c.headCount * c.headDimension)
        k = storage.make(count * c.headCountKV * c.headDimension)
        v = storage.make(count * c.headCountKV * c.headDimension)
        gate = storage.make(band * c.feedForwardLength)
        up = storage.make(band * c.feedForwardLength)
        rotations = storage.make(count * c.headDimension)
        encoder.rotations(across: across, down: down, into: rotations)
    }

    /// Runs up to `layers` more of the transformer's layers.
    public func advance(layers: Int) {
        let blocks = encoder.model.blocks
        let end = min(blocks.count, layersDone + max(0, layers))
        while layersDone < end {
            encoder.layer(blocks[layersDone], of: self)
            layersDone += 1
        }
    }

    /// The image's embeddings (every layer must have run).
    public func finish() -> ImageEmbeddings {
        precondition(isReadyToFinish, "ImageEncoding.finish before every layer ran")
        return encoder.finish(self)
    }
}
