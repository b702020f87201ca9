public import GGUF

extension Vocabulary {
    /// The tokens that end a generation, as llama.cpp decides (`llama_vocab::is_eog`): the EOS, EOT and
    /// EOM ids from the metadata, the fill-in-the-middle pad/repo/separator tokens, and every token
    /// whose text is one of the end-of-turn markers llama.cpp knows (`<|im_end|>`, `<end_of_turn>`,
    /// `<|endoftext|>`, `</s>`, …). Instruct models end their answer with one of these, which is not
    /// always the file's EOS (Qwen2.5 stores `<|endoftext|>` as EOS and answers end with `<|im_end|>`).
    ///
    /// - Parameter metadata: The model file's metadata (for the EOT/EOM/FIM keys).
    /// - Returns: The ids.
    public func endOfGeneration(metadata: GGUFMetadata) -> Set<TokenID> {
        var ids = Set<TokenID>()
        func add(_ id: TokenID?) {
            if let id, id >= 0, Int(id) < count { ids.insert(id) }
        }
        add(eos)
        for key in [
            "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id", "tokenizer.ggml.fim_pad_token_id",
            "tokenizer.ggml.fim_rep_token_id", "tokenizer.ggml.fim_sep_token_id",
        ] {
            if let value = try? metadata.integer(key), let id = TokenID(exactly: value) { add(id) }
        }
        for (keys, texts) in Self.llamaCppDetectedTexts
        where keys.contains(where: { $0.hasSuffix("fim_pad_token_id") || $0.hasSuffix("fim_rep_token_id") || $0.hasSuffix("fim_sep_token_id") })
            && !keys.contains(where: metadata.contains)
        {
            for text in texts { add(id(forText: text)) }
        }
        for text in Self.llamaCppEndOfGenerationTexts { add(id(forText: text)) }
        return ids
    }
}
