public import GGUF

/// Builds small model-shaped GGUF files in memory, with seeded random weights.
public enum TinyGGUF {
    /// The shape of a llama-family model.
    public struct Shape: Sendable {
        public var embedding: Int
        public var layers: Int
        public var heads: Int
        public var kvHeads: Int
        public var headDimension: Int
        public var feedForward: Int
        public var vocabulary: Int
        public var context: Int
        /// Experts per FFN (0: a dense model) and experts each token goes through.
        public var experts: Int
        public var expertsUsed: Int

        public init(
            embedding: Int = 64, layers: Int = 2, heads: Int = 4, kvHeads: Int = 2, headDimension: Int = 32,
            feedForward: Int = 128, vocabulary: Int = 64, context: Int = 256, experts: Int = 0, expertsUsed: Int = 0
        ) {
            self.experts = experts
            self.expertsUsed = expertsUsed
            self.embedding = embedding
            self.layers = layers
            self.heads = heads
            self.kvHeads = kvHeads
            self.headDimension = headDimension
            self.feedForward = feedForward
            self.vocabulary = vocabulary
            self.context = context
        }
    }

    /// A writer holding a `llama`- or `mistral3`-architecture model of `shape`.
    ///
    /// - Parameters:
    ///   - architecture: `"llama"` or `"mistral3"` (any string, for negative tests).
    ///   - shape: The model's shape.
    ///   - weightType: The type of the 2-D weights (F32 gets random values; others zero blocks).
    ///   - seed: The seed for the weights.
    ///   - withData: When false, tensors are left zero (sparse when written to disk).
    ///   - expertPerTensor: Experts as one tensor each (`ffn_gate.E.weight`, the layout llama.cpp no
    ///     longer loads) instead of stacked (`ffn_gate_exps.weight`).
    /// - Returns: The writer, ready to serialize or to extend.
    public static func model(
        architecture: String = "llama", shape: Shape = .init(), weightType: GGMLType = .f32, seed: UInt64 = 1,
        withData: Bool = true, expertPerTensor: Bool = false
    ) throws -> GGUFWriter {
        var writer = GGUFWriter()
        let a = architecture
        writer.add("general.architecture", .string(a))
        writer.add("general.name", .string("tiny \(a)"))
        writer.add("\(a).context_length", .uint32(UInt32(shape.context)))
        writer.add("\(a).embedding_length", .uint32(UInt32(shape.embedding)))
        writer.add("\(a).block_count", .uint32(UInt32(shape.layers)))
        writer.add("\(a).feed_forward_length", .uint32(UInt32(shape.feedForward)))
        writer.add("\(a).attention.head_count", .uint32(UInt32(shape.heads)))
        writer.add("\(a).attention.head_count_kv", .uint32(UInt32(shape.kvHeads)))
        writer.add("\(a).attention.key_length", .uint32(UInt32(shape.headDimension)))
        writer.add("\(a).attention.value_length", .uint32(UInt32(shape.headDimension)))
        writer.add("\(a).rope.freq_base", .float32(1_000_000))
        writer.add("\(a).attention.layer_norm_rms_epsilon", .float32(1e-5))
        if shape.experts > 0 {
            writer.add("\(a).expert_count", .uint32(UInt32(shape.experts)))
            writer.add("\(a).expert_used_count", .uint32(UInt32(shape.expertsUsed)))
        }
        writer.add("tokenizer.ggml.model", .string("llama"))
        writer.add("tokenizer.ggml.tokens", .strings((0..<shape.vocabulary).map { "t\($0)" }))
        writer.add("tokenizer.ggml.scores", .float32s((0..<shape.vocabulary).map { -Float($0) }))
        writer.add("tokenizer.ggml.bos_token_id", .uint32(1))
        writer.add("tokenizer.ggml.eos_token_id", .uint32(2))

        var random = SeededRandom(seed: seed)
        func add(_ name: String, _ dims: [Int], _ type: GGMLType) throws {
            var data: [UInt8]? = nil
            if withData {
                let count = type.byteCount(forElements: dims.reduce(1, *)) ?? 0
                if type == .f32 {
                    data = (0..<(count / 4)).flatMap { _ -> [UInt8] in
                        let value = Float.random(in: -1...1, using: &random)
                        return withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }
                    }
                } else {
                    data = [UInt8](repeating: 0, count: count)
                }
            }
            try writer.addTensor(name: name, dimensions: dims, type: type, data: data)
        }
        let q = shape.heads * shape.headDimension
        let kv = shape.kvHeads * shape.headDimension
        try add("token_embd.weight", [shape.embedding, shape.vocabulary], weightType)
        for layer in 0..<shape.layers {
            try add("blk.\(layer).attn_norm.weight", [shape.embedding], .f32)
            try add("blk.\(layer).attn_q.weight", [shape.embedding, q], weightType)
            try add("blk.\(layer).attn_k.weight", [shape.embedding, kv], weightType)
            try add("blk.\(layer).attn_v.weight", [shape.embedding, kv], weightType)
            try add("blk.\(layer).attn_output.weight", [q, shape.embedding], weightType)
            try add("blk.\(layer).ffn_norm.weight", [shape.embedding], .f32)
            if shape.experts > 0 {
                let e = shape.experts
                try add("blk.\(layer).ffn_gate_inp.weight", [shape.embedding, e], .f32)
                if expertPerTensor {
                    for expert in 0..<e {
                        try add("blk.\(layer).ffn_gate.\(expert).weight", [shape.embedding, shape.feedForward], weightType)
                        try add("blk.\(layer).ffn_up.\(expert).weight", [shape.embedding, shape.feedForward], weightType)
                        try add("blk.\(layer).ffn_down.\(expert).weight", [shape.feedForward, shape.embedding], weightType)
                    }
                } else {
                    try add("blk.\(layer).ffn_gate_exps.weight", [shape.embedding, shape.feedForward, e], weightType)
                    try add("blk.\(layer).ffn_up_exps.weight", [shape.embedding, shape.feedForward, e], weightType)
                    try add("blk.\(layer).ffn_down_exps.weight", [shape.feedForward, shape.embedding, e], weightType)
                }
            } else {
                try add("blk.\(layer).ffn_gate.weight", [shape.embedding, shape.feedForward], weightType)
                try add("blk.\(layer).ffn_up.weight", [shape.embedding, shape.feedForward], weightType)
                try add("blk.\(layer).ffn_down.weight", [shape.feedForward, shape.embedding], weightType)
            }
        }
        try add("output_norm.weight", [shape.embedding], .f32)
        try add("output.weight", [shape.embedding, shape.vocabulary], weightType)
        return writer
    }

    /// Parses bytes held in memory.
    ///
    /// - Parameter bytes: A file's contents.
    /// - Returns: The parsed file.
    /// - Throws: `GGUFError`.
    public static func parse(_ bytes: [UInt8], limits: GGUFParsingLimits = .default) throws -> GGUFFile {
        try GGUFFile(file: MappedFile(copying: bytes), limits: limits)
    }
}

extension Array where Element == UInt8 {
    /// Overwrites a little-endian integer at `offset`.
    public mutating func patch<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        Swift.withUnsafeBytes(of: value.littleEndian) { raw in
            for (i, byte) in raw.enumerated() { self[offset + i] = byte }
        }
    }
}

extension FixedWidthInteger {
    /// The value's bytes, least significant first.
    public var leBytes: [UInt8] { withUnsafeBytes(of: littleEndian) { Array($0) } }
}
