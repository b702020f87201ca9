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
    ///
    /// - Parameter limit: The most tokens the prompt may have. A longer one keeps what is nearest the
    ///   gap, as llama.cpp's `/infill` does: the end of the prefix (three quarters of the room, or
    ///   more when the suffix needs less) and the start of the suffix.
    public func encode(prefix: String, suffix: String, tokenizer: Tokenizer, limit: Int = .max) -> [TokenID] {
        var prefixTokens: [TokenID]
        var suffixTokens: [TokenID]
        let frame: Int
        switch layout {
        case .mistral:
            prefixTokens = tokenizer.encode(prefix)
            suffixTokens = suffix.isEmpty ? [] : Array(tokenizer.encode("☺" + suffix).dropFirst(2))
            frame = 2 + (tokenizer.vocabulary.bos == nil ? 0 : 1)
        case .prefixSuffixMiddle:
            prefixTokens = tokenizer.encode(prefix)
            suffixTokens = tokenizer.encode(suffix)
            frame = 3 + (tokenizer.vocabulary.addBOS && tokenizer.vocabulary.bos != nil ? 1 : 0)
        }
        let room = max(0, limit - frame)
        if prefixTokens.count + suffixTokens.count > room {
            let suffixKeep = min(suffixTokens.count, max(room / 4, room - prefixTokens.count))
            let prefixKeep = min(prefixTokens.count, room - suffixKeep)
            prefixTokens = Array(prefixTokens.suffix(prefixKeep))
            suffixTokens = Array(suffixTokens.prefix(suffixKeep))
        }
        switch layout {
        case .mistral(let prefixToken, let suffixToken):
            return (tokenizer.vocabulary.bos.map { [$0] } ?? []) + [suffixToken] + suffixTokens + [prefixToken] + prefixTokens
        case .prefixSuffixMiddle(let prefixToken, let suffixToken, let middleToken):
            let bos = tokenizer.vocabulary.addBOS ? tokenizer.vocabulary.bos.map { [$0] } ?? [] : []
            return bos + [prefixToken] + prefixTokens + [suffixToken] + suffixTokens + [middleToken]
        }
    }
}
