/// The pair of tokens that opens and closes a model's thinking, found in its vocabulary.
///
/// Mistral's reasoning models (Magistral, Ministral 3 Reasoning; tokenizer v13) think between the
/// control tokens `[THINK]` and `[/THINK]`; Qwen3 and DeepSeek-R1 style vocabularies between
/// `<think>` and `</think>` (stored there as user-defined tokens, which plain text never becomes
/// either: the tokenizer splits them out of text only when special tokens are parsed). A reply is
/// split into its reasoning and its answer at these ids, never by matching their text.
public struct ThinkingTokens: Sendable, Equatable {
    /// How the model marks its thinking.
    public enum Style: String, Sendable, Equatable {
        /// `[THINK]` … `[/THINK]` (Mistral v13).
        case mistral
        /// `<think>` … `</think>` (Qwen3, DeepSeek-R1).
        case angle
    }

    /// The token that opens the thinking.
    public let open: TokenID
    /// The token that closes it.
    public let close: TokenID
    /// Which pair.
    public let style: Style

    /// Creates a pair from known ids.
    public init(open: TokenID, close: TokenID, style: Style) {
        self.open = open
        self.close = close
        self.style = style
    }

    /// The pair `vocabulary` has, or nil: `[THINK]`/`[/THINK]` as control tokens, else
    /// `<think>`/`</think>` as control or user-defined tokens.
    ///
    /// - Parameter vocabulary: The model's vocabulary.
    public init?(vocabulary: Vocabulary) {
        func marker(_ text: String, allowUserDefined: Bool) -> TokenID? {
            guard let id = vocabulary.id(forText: text) else { return nil }
            if vocabulary.isControl(id) { return id }
            guard allowUserDefined, vocabulary.attributes[Int(id)].contains(.userDefined) else { return nil }
            return id
        }
        if let open = marker("[THINK]", allowUserDefined: false), let close = marker("[/THINK]", allowUserDefined: false) {
            self.init(open: open, close: close, style: .mistral)
        } else if let open = marker("<think>", allowUserDefined: true), let close = marker("</think>", allowUserDefined: true) {
            self.init(open: open, close: close, style: .angle)
        } else {
            return nil
        }
    }

    /// Whether generation after `prompt` begins inside the thinking: the prompt's last thinking
    /// marker is an opening one and no other control token follows it (the template, or an assistant
    /// prefix with an open thought, opened `[THINK]` for the model). An open thought earlier in the
    /// conversation (a system prompt's, closed by `[/SYSTEM_PROMPT]`) does not count.
    ///
    /// - Parameters:
    ///   - prompt: The prompt's ids.
    ///   - vocabulary: The vocabulary, to tell control tokens.
    public func promptEndsInside(_ prompt: [TokenID], vocabulary: Vocabulary) -> Bool {
        for id in prompt.reversed() {
            if id == open { return true }
            if id == close || vocabulary.isControl(id) { return false }
        }
        return false
    }
}
