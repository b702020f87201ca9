import GGUF
import TestSupport

/// Writes model-shaped files of the real Ministral 3 sizes (zero weights, sparse on disk).
enum MinistralShape {
    /// Ministral 3 3B as a Q4_K_M file: 26 layers, 3072 wide, 32/8 heads of 128, FFN 9216, tied
    /// embeddings (Q6_K), llama.cpp's Q4_K_M type choices per layer, a 131 072-token vocabulary
    /// with 269 443 merges.
    static func writeSparse3B(to path: String) throws {
        let layers = 26, embedding = 3072, heads = 32, kvHeads = 8, headDimension = 128, ffn = 9216
        let vocabulary = 131_072
        var writer = GGUFWriter()
        let a = "mistral3"
        writer.add("general.architecture", .string(a))
        writer.add("general.name", .string("Ministral 3 3B shape"))
        writer.add("general.file_type", .uint32(15))
        writer.add("\(a).context_length", .uint32(262_144))
        writer.add("\(a).embedding_length", .uint32(UInt32(embedding)))
        writer.add("\(a).block_count", .uint32(UInt32(layers)))
        writer.add("\(a).feed_forward_length", .uint32(UInt32(ffn)))
        writer.add("\(a).attention.head_count", .uint32(UInt32(heads)))
        writer.add("\(a).attention.head_count_kv", .uint32(UInt32(kvHeads)))
        writer.add("\(a).attention.key_length", .uint32(UInt32(headDimension)))
        writer.add("\(a).attention.value_length", .uint32(UInt32(headDimension)))
        writer.add("\(a).rope.freq_base", .float32(1_000_000))
        writer.add("\(a).attention.layer_norm_rms_epsilon", .float32(1e-5))
        writer.add("\(a).rope.scaling.type", .string("yarn"))
        writer.add("\(a).rope.scaling.factor", .float32(16))
        writer.add("\(a).rope.scaling.original_context_length", .uint32(16384))
        writer.add("\(a).attention.temperature_scale", .float32(0.1))
        writer.add("tokenizer.ggml.model", .string("gpt2"))
        writer.add("tokenizer.ggml.pre", .string("tekken"))
        writer.add("tokenizer.ggml.tokens", .strings((0..<vocabulary).map { "tok\($0)" }))
        writer.add("tokenizer.ggml.token_type", .int32s([Int32](repeating: 1, count: vocabulary)))
        writer.add("tokenizer.ggml.merges", .strings((0..<269_443).map { "m\($0 % 9973) n\($0)" }))

        // llama.cpp's use_more_bits: these layers get Q6_K for attn_v and ffn_down.
        func moreBits(_ i: Int) -> Bool { i < layers / 8 || i >= 7 * layers / 8 || (i - layers / 8) % 3 == 2 }
        try writer.addTensor(name: "token_embd.weight", dimensions: [embedding, vocabulary], type: .q6_K)
        for i in 0..<layers {
            let v: GGMLType = moreBits(i) ? .q6_K : .q4_K
            try writer.addTensor(name: "blk.\(i).attn_norm.weight", dimensions: [embedding], type: .f32)
            try writer.addTensor(name: "blk.\(i).attn_q.weight", dimensions: [embedding, heads * headDimension], type: .q4_K)
            try writer.addTensor(name: "blk.\(i).attn_k.weight", dimensions: [embedding, kvHeads * headDimension], type: .q4_K)
            try writer.addTensor(name: "blk.\(i).attn_v.weight", dimensions: [embedding, kvHeads * headDimension], type: v)
            try writer.addTensor(name: "blk.\(i).attn_output.weight", dimensions: [heads * headDimension, embedding], type: .q4_K)
            try writer.addTensor(name: "blk.\(i).ffn_norm.weight", dimensions: [embedding], type: .f32)
            try writer.addTensor(name: "blk.\(i).ffn_gate.weight", dimensions: [embedding, ffn], type: .q4_K)
            try writer.addTensor(name: "blk.\(i).ffn_up.weight", dimensions: [embedding, ffn], type: .q4_K)
            try writer.addTensor(name: "blk.\(i).ffn_down.weight", dimensions: [ffn, embedding], type: v)
        }
        try writer.addTensor(name: "output_norm.weight", dimensions: [embedding], type: .f32)
        try writer.write(to: path)
    }
}
