import StructuredOutput
import Tokenization

/// Whether and which tool the model must call (`tool_choice`).
public enum ToolChoice: Sendable, Equatable {
    /// The model decides (free text or calls).
    case auto
    /// No call: the tools are not offered.
    case none
    /// One or more calls, to any of the tools.
    case required
    /// Exactly one call, to this tool.
    case function(String)
}

/// A forced tool call compiled for one model: how the model's format marks a call (control tokens or
/// text) and the grammars of the function names and of each tool's arguments, so that the answer is
/// a call, in that format, whose arguments match the tool's `parameters` schema.
///
/// - ChatML (Qwen): `<tool_call>\n{"name": "…", "arguments": {…}}\n</tool_call>`, all text (the tags
///   are ordinary tokens): one grammar over the whole answer.
/// - Mistral v3/v7: the `[TOOL_CALLS]` control token, then `[{"name": "…", "arguments": {…}}, …]`.
/// - Mistral v11/v13: `[TOOL_CALLS]` name (`[CALL_ID]` id, v11) `[ARGS]` {…}, repeated for more calls:
///   the control tokens between the grammars decide which tool's arguments follow.
public final class CompiledToolCalls: Sendable {
    enum Layout: Sendable {
        case text(CompiledGrammar)
        case array(marker: Int32, calls: CompiledGrammar)
        case named(marker: Int32, arguments: Int32, callID: Int32?, names: CompiledGrammar, callIDs: CompiledGrammar?, parameters: [String: CompiledGrammar])
    }

    let layout: Layout
    /// Whether more than one call may be made (`required`), or exactly one (a named function).
    let repeats: Bool

    init(layout: Layout, repeats: Bool) {
        self.layout = layout
        self.repeats = repeats
    }

    /// A fresh decoding state at the start of the answer; `endTokens` end it once a call is complete.
    public func makeConstraint(endTokens: some Collection<Int32>) -> ToolCallConstraint {
        ToolCallConstraint(plan: self, endTokens: endTokens.sorted())
    }
}

/// One sequence's state through a forced tool call: the allowed tokens at each step, as
/// `GrammarConstraint` gives them inside a grammar, and exactly the format's control token where one
/// must come. The current grammar's state is kept apart from the stage and advanced in place (its
/// stack arena grows over an answer; a copy per token would cost as much).
public struct ToolCallConstraint: Sendable {
    enum Stage: Sendable {
        /// Before the `[TOOL_CALLS]` token (the only one allowed); no grammar yet.
        case marker
        /// Inside the one grammar of the answer (ChatML, or the array of v3/v7).
        case whole
        /// Inside a function name (v11/v13), with its bytes so far.
        case name([UInt8])
        /// Inside a call id (v11), for the function named.
        case callID(String)
        /// Inside a call's arguments (v11/v13).
        case arguments
    }

    let plan: CompiledToolCalls
    let endTokens: [Int32]
    private(set) var stage: Stage
    /// The grammar of the current stage (nil at the marker); its end tokens are the tokens that
    /// leave it.
    private var grammar: GrammarConstraint?

    init(plan: CompiledToolCalls, endTokens: [Int32]) {
        self.plan = plan
        self.endTokens = endTokens
        switch plan.layout {
        case .text(let whole):
            stage = .whole
            grammar = whole.makeConstraint(endTokens: endTokens)
        case .array, .named:
            stage = .marker
        }
    }

    /// Whether nothing but the end may follow.
    public var mustEnd: Bool {
        switch stage {
        case .whole: return grammar?.mustEnd ?? false
        case .arguments: return (grammar?.mustEnd ?? false) && !plan.repeats
        case .marker, .name, .callID: return false
        }
    }

    /// The allowed tokens as a bitset over token ids (`words` words).
    public mutating func allowedTokens(words: Int) -> [UInt64] {
        if let mask = grammar?.allowedTokens() { return mask }
        var mask = [UInt64](repeating: 0, count: words)
        if let marker, Int(marker) >> 6 < words { mask[Int(marker) >> 6] |= 1 << UInt64(marker & 63) }
        return mask
    }

    /// Moves past token `id`; false when it is not allowed here (the state is unchanged).
    public mutating func accept(token id: Int32) -> Bool {
        switch (stage, plan.layout) {
        case (.marker, .array(let marker, let calls)):
            guard id == marker else { return false }
            enter(.whole, calls)
            return true
        case (.marker, .named(let marker, _, _, let names, _, _)):
            guard id == marker else { return false }
            enter(.name([]), names)
            return true
        case (.whole, _):
            return grammar?.accept(token: id) ?? false
        case (.name(let bytes), .named(_, let arguments, let callID, _, let callIDs, let parameters)):
            if id == arguments || id == callID {
                guard grammar?.isComplete == true, let tool = parameters[String(decoding: bytes, as: UTF8.self)] else { return false }
                if id == arguments {
                    enter(.arguments, tool, ends: argumentEnds)
                } else {
                    guard let callIDs else { return false }
                    enter(.callID(String(decoding: bytes, as: UTF8.self)), callIDs, ends: [arguments])
                }
                return true
            }
            guard grammar?.accept(token: id) == true, let piece = grammar?.cache.trie.bytes(of: id) else { return false }
            stage = .name(bytes + piece)
            return true
        case (.callID(let name), .named(_, let arguments, _, _, _, let parameters)):
            if id == arguments {
                guard grammar?.isComplete == true, let tool = parameters[name] else { return false }
                enter(.arguments, tool, ends: argumentEnds)
                return true
            }
            return grammar?.accept(token: id) ?? false
        case (.arguments, .named(let marker, _, _, let names, _, _)):
            if id == marker, plan.repeats {
                guard grammar?.isComplete == true else { return false }
                enter(.name([]), names)
                return true
            }
            return grammar?.accept(token: id) ?? false
        default:
            return false
        }
    }

    /// Starts `stage` under a fresh state of `compiled` (a name's grammar ends at `[ARGS]`, or
    /// `[CALL_ID]` in v11).
    private mutating func enter(_ stage: Stage, _ compiled: CompiledGrammar, ends: [Int32]? = nil) {
        var exits = ends ?? endTokens
        if case .name = stage, case .named(_, let arguments, let callID, _, _, _) = plan.layout {
            exits = [arguments] + (callID.map { [$0] } ?? [])
        }
        self.stage = stage
        grammar = compiled.makeConstraint(endTokens: exits)
    }

    /// The tokens allowed once a call's arguments are complete: the end, and another call's marker
    /// when more calls may follow.
    private var argumentEnds: [Int32] {
        guard plan.repeats, let marker else { return endTokens }
        return endTokens + [marker]
    }

    private var marker: Int32? {
        switch plan.layout {
        case .text: nil
        case .array(let marker, _), .named(let marker, _, _, _, _, _): marker
        }
    }
}
