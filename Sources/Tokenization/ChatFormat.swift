/// A model's chat format: how a conversation becomes token ids.
public enum ChatFormat: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Mistral instruct v3, SentencePiece (Mistral 7B v0.3): system prompt before the last user turn.
    case mistralV3 = "mistral-v3"
    /// Mistral instruct v3 on Tekken (Nemo, Ministral-8B-2410): the same layout without spaces.
    case mistralV3Tekken = "mistral-v3-tekken"
    /// Mistral v7: `[SYSTEM_PROMPT]…[/SYSTEM_PROMPT]`, tool results with `[TOOL_CONTENT]`.
    case mistralV7 = "mistral-v7"
    /// Mistral v7 on Tekken.
    case mistralV7Tekken = "mistral-v7-tekken"
    /// Mistral v11: tool calls as `[TOOL_CALLS]name[CALL_ID]id[ARGS]{…}`.
    case mistralV11 = "mistral-v11"
    /// Mistral v13 (Ministral 3): tools before the first user turn, calls `[TOOL_CALLS]name[ARGS]{…}`.
    case mistralV13 = "mistral-v13"
    /// ChatML (Qwen2.5): `<|im_start|>role\n…<|im_end|>\n`.
    case chatML = "chatml"
    /// Gemma: `<start_of_turn>user\n…<end_of_turn>\n`, system text folded into the first user turn.
    case gemma

    public var description: String { rawValue }

    /// Whether the format is one of Mistral's.
    public var isMistral: Bool { mistralVersion != nil }

    /// Mistral's instruct version number (3, 7, 11, 13), or `nil`.
    public var mistralVersion: Int? {
        switch self {
        case .mistralV3, .mistralV3Tekken: 3
        case .mistralV7, .mistralV7Tekken: 7
        case .mistralV11: 11
        case .mistralV13: 13
        case .chatML, .gemma: nil
        }
    }

    /// The format with this name (`mistral-v7`, `chatml`, …; also `qwen`, `ministral3`).
    ///
    /// - Parameter name: The name.
    /// - Throws: `TokenizerError` `.unknownChatFormat`.
    public init(named name: String) throws {
        if let format = ChatFormat(rawValue: name.lowercased()) {
            self = format
            return
        }
        switch name.lowercased() {
        case "qwen", "qwen2", "im_start": self = .chatML
        case "gemma3", "gemma-3": self = .gemma
        case "ministral3", "ministral-3", "v13": self = .mistralV13
        default:
            let names = ChatFormat.allCases.map(\.rawValue).joined(separator: ", ")
            throw TokenizerError(.unknownChatFormat, "unknown chat format \"\(name)\" (known: \(names))")
        }
    }

    /// The format a model's GGUF chat template (Jinja text or llama.cpp's bare name) and vocabulary
    /// call for, or `nil` when nothing matches.
    ///
    /// Bare names (`mistral-v3-tekken`, …) are what llama.cpp's Mistral converter writes. For Jinja,
    /// the markers decide, as llama.cpp's `llm_chat_detect_template` does, refined by the control
    /// tokens the vocabulary has (`[ARGS]`, `[CALL_ID]` distinguish v11 and v13 from v7).
    ///
    /// - Parameters:
    ///   - template: `tokenizer.chat_template`, if any.
    ///   - vocabulary: The vocabulary.
    /// - Returns: The format, or `nil`.
    public static func detect(template: String?, vocabulary: Vocabulary) -> ChatFormat? {
        let isTekken = vocabulary.model == .bytePairEncoding
        let has = { (text: String) in vocabulary.id(forText: text).map(vocabulary.isControl) ?? false }
        if let template {
            if let format = ChatFormat(rawValue: template.trimmingWhitespace()) { return format }
            if template.contains("<|im_start|>") { return .chatML }
            if template.contains("<start_of_turn>") { return .gemma }
            if template.contains("[SYSTEM_PROMPT]") || template.contains("[ARGS]") {
                if template.contains("[CALL_ID]") && has("[CALL_ID]") { return .mistralV11 }
                if template.contains("[ARGS]") || has("[ARGS]") { return has("[CALL_ID]") ? .mistralV11 : .mistralV13 }
                return isTekken ? .mistralV7Tekken : .mistralV7
            }
            if template.contains("[INST]") || template.contains("[AVAILABLE_TOOLS]") {
                return isTekken ? .mistralV3Tekken : .mistralV3
            }
        }
        // No template (or an unknown one): the vocabulary's control tokens.
        if has("<|im_start|>") { return .chatML }
        if has("<start_of_turn>") { return .gemma }
        if has("[ARGS]") { return has("[CALL_ID]") ? .mistralV11 : .mistralV13 }
        if has("[SYSTEM_PROMPT]") && !isTekken { return .mistralV7 }
        if has("[INST]") { return isTekken ? .mistralV3Tekken : .mistralV3 }
        return nil
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars.drop { $0.properties.isWhitespace }
        var end = scalars.endIndex
        while end > scalars.startIndex, scalars[scalars.index(before: end)].properties.isWhitespace {
            end = scalars.index(before: end)
        }
        return String(String.UnicodeScalarView(scalars[..<end]))
    }
}
