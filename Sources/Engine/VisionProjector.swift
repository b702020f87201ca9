import Foundation
public import GGUF
import Kernels
public import Model
import Tokenization
public import Vision

/// A vision projector (`mmproj`) loaded for a text model: the encoder on the text model's kernels and
/// workers, the preprocessing its metadata asks for, and the image tokens of the text model's
/// vocabulary. Mapped in place like the text model and planned in what the memory budget leaves.
///
/// Preparing an image (decoding, resizing, normalizing) is thread-safe and runs where the request is
/// decoded; encoding runs on the engine's thread, one image at a time.
public final class VisionProjector: @unchecked Sendable {
    // @unchecked Sendable: the preprocessor and ids are immutable; `encoder` is used by the engine's
    // thread only (or by one CLI thread).

    /// The projector file.
    public let file: GGUFFile
    /// The bound weights.
    public let model: VisionModel
    /// Resizes and normalizes images as llama.cpp's Pixtral preprocessor does.
    public let preprocessor: ImagePreprocessor
    /// The bounds on an image a request may carry.
    public let limits: ImageLimits
    /// The ids of `[IMG]`, `[IMG_BREAK]` and `[IMG_END]` in the text model's vocabulary.
    public let imageToken: Int32
    public let breakToken: Int32
    public let endToken: Int32
    /// Bytes the encoder allocates while it encodes the largest image the preprocessor makes.
    public let workingBytes: Int
    let encoder: VisionEncoder

    /// Loads the projector at `path` for `target`.
    ///
    /// - Throws: `EngineError` `.invalidRequest` (parameter `visionModel`) when it does not belong to
    ///   the target (embedding width, a vocabulary without `[IMG]`, `[IMG_BREAK]`, `[IMG_END]`) or does
    ///   not fit what the memory budget leaves; `GGUFError`/`ModelError` for the file itself.
    public init(path: String, target: LoadedModel, lockWeights: Bool = false, limits: ImageLimits = ImageLimits()) throws {
        file = try GGUFFile(path: path)
        model = try VisionModel(file: file)
        func refuse(_ message: String) -> EngineError {
            EngineError(.invalidRequest, "the vision model \(path) \(message)", parameter: "visionModel")
        }
        do {
            try model.check(feeds: target.model)
        } catch let error as ModelError {
            throw refuse("does not fit \(target.filePath): \(error.message)")
        }
        guard let vocabulary = target.tokenizer?.vocabulary else {
            throw refuse("needs a text model with a vocabulary")
        }
        func id(_ text: String) throws -> Int32 {
            guard let id = vocabulary.id(forText: text) else {
                throw refuse("needs a \(text) token, and the vocabulary of \(target.filePath) has none")
            }
            return Int32(id)
        }
        imageToken = try id("[IMG]")
        breakToken = try id("[IMG_BREAK]")
        endToken = try id("[IMG_END]")
        let c = model.configuration
        preprocessor = ImagePreprocessor.pixtral(
            patchSize: c.patchSize, mergeSize: c.mergeSize, mean: c.imageMean, std: c.imageStandardDeviation)
        self.limits = limits
        workingBytes = Self.encodeBytes(model, threads: target.pool.threadCount)
        let remaining = max(0, target.plan.budget - target.plan.totalBytes)
        let needed = file.fileSize + workingBytes
        guard needed <= remaining else {
            throw refuse(
                "needs \(MemoryPlan.formatted(needed)) (\(MemoryPlan.formatted(file.fileSize)) of weights, "
                    + "\(MemoryPlan.formatted(workingBytes)) to encode an image) and the memory budget leaves "
                    + "\(MemoryPlan.formatted(remaining)) beside the text model")
        }
        if lockWeights {
            let data = min(file.dataOffset, file.fileSize)..<file.fileSize
            try file.file.lock(range: data)
        }
        let multiplier = try MatrixMultiplier(path: target.path, pool: target.pool, choice: KernelChoice(base: target.path))
        encoder = VisionEncoder(model: model, multiplier: multiplier, ops: try FloatOps(path: target.path))
    }

    /// The projector file's path.
    public var path: String { file.file.path }

    /// Bytes of the projector file (its weights, mapped).
    public var weightBytes: Int { file.fileSize }

    /// Bytes one encode of the largest image allocates with `threads` workers (llama.cpp's Pixtral
    /// limit: 1024 image tokens, each merge² patches).
    public static func encodeBytes(_ model: VisionModel, threads: Int) -> Int {
        let c = model.configuration
        return VisionEncoder.workingBytes(model, patches: 1024 * c.mergeSize * c.mergeSize, threads: threads)
    }

    /// Decodes and preprocesses one image (PNG or JPEG bytes) for a prompt.
    ///
    /// - Returns: The pixels, the token grid they make, and a digest of the decoded image.
    /// - Throws: `ImageError` for bytes that are not a readable image within `limits`.
    public func prepare(_ bytes: [UInt8]) throws -> PreparedImage {
        let image = try ImageDecoder.decode(bytes, limits: limits)
        let processed = preprocessor.preprocess(image)
        let grid = try encoder.grid(width: processed.width, height: processed.height)
        return PreparedImage(
            grid: grid, width: processed.width, height: processed.height, pixels: processed.pixels,
            digest: Self.digest(image))
    }

    /// The placeholder ids of an image of `grid`: `[IMG]` per token, `[IMG_BREAK]` after every row
    /// but the last (the `[IMG_END]` after it is the chat encoder's).
    public func placeholders(_ grid: ImageTokenGrid) -> [Int32] {
        (0..<grid.tokenCount).map { grid.isBreak($0) ? breakToken : imageToken }
    }

    /// The images of a prompt that `range` of its positions overlaps, placed for the forward pass;
    /// each is encoded the first time (kept in `encoded`, by its index in `images`).
    func placed(_ images: [PromptImage], overlapping range: Range<Int>, encoded: inout [Int: ImageEmbeddings]) throws
        -> [ModelSession.PlacedImage]
    {
        var placed: [ModelSession.PlacedImage] = []
        for (index, image) in images.enumerated() where image.positions.overlaps(range) {
            if encoded[index] == nil { encoded[index] = try encode(image) }
            placed.append(ModelSession.PlacedImage(position: image.position, embeddings: encoded[index]!))
        }
        return placed
    }

    /// Starts encoding one prompt image (on the engine's thread), its layers to run a slice at a time.
    func start(_ image: PromptImage) throws -> ImageEncoding {
        try image.pixels.withUnsafeBufferPointer { pixels in
            try encoder.start(width: image.width, height: image.height, pixels: pixels)
        }
    }

    /// Encodes one prompt image (on the engine's thread).
    func encode(_ image: PromptImage) throws -> ImageEmbeddings {
        try image.pixels.withUnsafeBufferPointer { pixels in
            try encoder.encode(width: image.width, height: image.height, pixels: pixels)
        }
    }

    /// Encodes one image, for `brise bench vision` (the engine encodes on its own thread).
    public func encodeForBenchmark(_ image: PromptImage) throws -> ImageEmbeddings { try encode(image) }

    /// FNV-1a over the size and pixels, 64 bits.
    static func digest(_ image: RGBImage) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        for value in [image.width, image.height] {
            for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8(truncatingIfNeeded: value >> shift)) }
        }
        for byte in image.pixels { mix(byte) }
        return hash
    }
}

/// An image ready for a prompt: its token grid, pixels and digest (the position comes when the chat is
/// encoded).
public struct PreparedImage: Sendable {
    public var grid: ImageTokenGrid
    public var width: Int
    public var height: Int
    public var pixels: [Float]
    public var digest: UInt64

    /// Image tokens per row, and rows (the chat encoder's `.image` chunk).
    public var columns: Int { grid.columns }
    public var rows: Int { grid.rows }

    /// The prompt image at `position`.
    public func placed(at position: Int) -> PromptImage {
        PromptImage(position: position, grid: grid, width: width, height: height, pixels: pixels, digest: digest)
    }
}
