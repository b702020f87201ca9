public import GGUF

/// How a model is asked for the code between a prefix and a suffix (fill in the middle), chosen from
/// its vocabulary: Mistral's control tokens, or the prefix/suffix/middle tokens llama.cpp recognises.
public struct FillInTheMiddle: Sendable, Equatable {
    /// The token layout of the prompt.
    public enum Layout: Sendable, Equatable {
        /// Mistral's (Codestral; mistral-common's `encode_fim`): `BOS [SUFFIX] suffix [PREFIX] prefix`,
        /// and the model continues the prefix. The suffix is encoded as mistral-common does, after a
        /// "☺" whose two tokens are dropped (no SentencePiece space before it).
        case mistral(prefix: TokenID, suffix: TokenID)
        /// llama.cpp's `/infill` order (prefix, suffix, middle), for Qwen2.5-Coder's `<|fim_prefix|>`,
        /// StarCoder's `<fim_prefix>`, CodeLlama's `<PRE>` and the rest:
        /// `[BOS] PRE prefix SUF suffix MID`, BOS only where the file adds one.
        case prefixSuffixMiddle(prefix: TokenID, suffix: TokenID, middle: TokenID)
    }

    public let layout: Layout

    public init(layout: Layout) { self.layout = layout }

    /// The model's layout, or nil when its vocabulary has no fill-in-the-middle tokens. Mistral's
    /// `[PREFIX]`/`[SUFFIX]` control tokens win; otherwise the `tokenizer.ggml.fim_{pre,suf,mid}_token_id`
    /// keys (or the older `prefix/suffix/middle_token_id`), else the lowest-id token with a text llama.cpp
    /// recognises for each.
    public init?(vocabulary: Vocabulary, metadata: GGUFMetadata) {
        if let prefix = vocabulary.id(forText: "[PREFIX]"), let suffix = vocabulary.id(forText: "[SUFFIX]"),
            vocabulary.isControl(prefix), vocabulary.isControl(suffix)
        {
            layout = .mistral(prefix: prefix, suffix: suffix)
            return
        }
        func find(_ role: String) -> TokenID? {
            guard let (keys, texts) = Vocabulary.llamaCppDetectedTexts.first(where: { $0.keys.first == "tokenizer.ggml.\(role)_token_id" })
            else { return nil }
            for key in keys {
                if let value = try? metadata.integer(key), let id = TokenID(exactly: value), id >= 0, Int(id) < vocabulary.count {
                    return id
                }
            }
            return texts.compactMap { vocabulary.id(forText: $0) }.min()
        }
        guard let prefix = find("fim_pre"), let suffix = find("fim_suf"), let middle = find("fim_mid") else { return nil }
        layout = .prefixSuffixMiddle(prefix: prefix, suffix: suffix, middle: middle)
    }

    /// The prompt for the code between `prefix` and `suffix` (either may be empty).
    public func encode(prefix: String, suffix: String, tokenizer: Tokenizer) -> [TokenID] {
        switch layout {
        case .mistral(let prefixToken, let suffixToken):
            let prefixTokens = tokenizer.encode(prefix)
            let suffixTokens = suffix.isEmpty ? [] : Array(tokenizer.encode("☺" + suffix).dropFirst(2))
            return (tokenizer.vocabulary.bos.map { [$0] } ?? []) + [suffixToken] + suffixTokens + [prefixToken] + prefixTokens
        case .prefixSuffixMiddle(let prefixToken, let suffixToken, let middleToken):
            let bos = tokenizer.vocabulary.addBOS ? tokenizer.vocabulary.bos.map { [$0] } ?? [] : []
            return bos + [prefixToken] + tokenizer.encode(prefix) + [suffixToken] + tokenizer.encode(suffix) + [middleToken]
        }
    }
}
