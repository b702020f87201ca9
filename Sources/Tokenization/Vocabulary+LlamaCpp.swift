import GGUF

// MARK: - llama.cpp's attribute fix-ups

/// llama.cpp does not take `tokenizer.ggml.token_type` as final: at load time it promotes tokens that
/// look like end-of-generation or fill-in-the-middle markers to `CONTROL` (so user text can no longer
/// produce them), and marks control tokens named "unused" as `UNUSED` (`llama_vocab::impl::load`,
/// "auto-detect special tokens by text"). Parity with its tokenizer needs the same fix-ups: Qwen2.5
/// stores `<|fim_prefix|>` and friends with their own types, and a text containing one must split
/// the same way.
extension Vocabulary {
    /// Texts llama.cpp always treats as end-of-generation, hence control tokens.
    static let llamaCppEndOfGenerationTexts: [String] = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<｜end▁of▁sentence｜>", "[e~[",
    ]

    /// Texts llama.cpp promotes to control when the matching `tokenizer.ggml.*_token_id` key is absent.
    static let llamaCppDetectedTexts: [(keys: [String], texts: [String])] = [
        (["tokenizer.ggml.eom_token_id"], ["<|eom_id|>"]),
        (
            ["tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.prefix_token_id"],
            ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"]
        ),
        (
            ["tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.suffix_token_id"],
            ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"]
        ),
        (
            ["tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.middle_token_id"],
            ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"]
        ),
        (["tokenizer.ggml.fim_pad_token_id"], ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]),
        (["tokenizer.ggml.fim_rep_token_id"], ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"]),
        (["tokenizer.ggml.fim_sep_token_id"], ["<|file_sep|>"]),
    ]

    /// Texts llama.cpp forces to `USER_DEFINED` (gpt-oss channel markers, always rendered).
    static let llamaCppUserDefinedTexts: [String] = ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"]

    static func applyLlamaCppOverrides(_ attributes: inout [TokenAttributes], table: ByteStringTable, metadata: GGUFMetadata) {
        func id(_ text: String) -> Int? {
            var text = text
            return text.withUTF8 { table.lookup(UnsafeRawBufferPointer($0)) }.map(Int.init)
        }
        for (keys, texts) in llamaCppDetectedTexts where !keys.contains(where: metadata.contains) {
            for text in texts {
                if let id = id(text) { attributes[id].insert(.control) }
            }
        }
        for text in llamaCppEndOfGenerationTexts {
            if let id = id(text) { attributes[id].insert(.control) }
        }
        for text in llamaCppUserDefinedTexts {
            if let id = id(text) { attributes[id] = .userDefined }
        }
    }
}
