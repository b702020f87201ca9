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
/// must come.
public struct ToolCallConstraint: Sendable {
    enum Phase: Sendable {
        /// Before the `[TOOL_CALLS]` token (the only one allowed).
        case marker
        /// Inside a grammar; its end tokens are the tokens that leave it.
        case grammar(GrammarConstraint)
        /// Inside a function name (v11/v13), with its bytes so far.
        case name(GrammarConstraint, [UInt8])
        /// Inside a call id (v11), for the function named.
        case callID(GrammarConstraint, String)
        /// Inside the arguments (v11/v13).
        case arguments(GrammarConstraint)
    }

    let plan: CompiledToolCalls
    let endTokens: [Int32]
    private(set) var phase: Phase

    init(plan: CompiledToolCalls, endTokens: [Int32]) {
        self.plan = plan
        self.endTokens = endTokens
        switch plan.layout {
        case .text(let grammar): phase = .grammar(grammar.makeConstraint(endTokens: endTokens))
        case .array, .named: phase = .marker
        }
    }

    /// Whether nothing but the end may follow.
    public var mustEnd: Bool {
        switch phase {
        case .grammar(let g): return g.mustEnd
        case .arguments(let g): return g.mustEnd && !plan.repeats
        case .marker, .name, .callID: return false
        }
    }

    /// The allowed tokens as a bitset over token ids (`words` words).
    public mutating func allowedTokens(words: Int) -> [UInt64] {
        switch phase {
        case .marker:
            var mask = [UInt64](repeating: 0, count: words)
            if let marker = marker, Int(marker) >> 6 < words { mask[Int(marker) >> 6] |= 1 << UInt64(marker & 63) }
            return mask
        case .grammar(var g):
            defer { phase = .grammar(g) }
            return g.allowedTokens()
        case .name(var g, let bytes):
            defer { phase = .name(g, bytes) }
            return g.allowedTokens()
        case .callID(var g, let name):
            defer { phase = .callID(g, name) }
            return g.allowedTokens()
        case .arguments(var g):
            defer { phase = .arguments(g) }
            return g.allowedTokens()
        }
    }

    /// Moves past token `id`; false when it is not allowed here (the state is unchanged).
    public mutating func accept(token id: Int32) -> Bool {
        switch (phase, plan.layout) {
        case (.marker, .array(let marker, let calls)):
            guard id == marker else { return false }
            phase = .grammar(calls.makeConstraint(endTokens: endTokens))
            return true
        case (.marker, .named(let marker, let arguments, let callID, let names, _, _)):
            guard id == marker else { return false }
            phase = .name(names.makeConstraint(endTokens: [arguments] + (callID.map { [$0] } ?? [])), [])
            return true
        case (.grammar(var g), _):
            guard g.accept(token: id) else { return false }
            phase = .grammar(g)
            return true
        case (.name(var g, let bytes), .named(_, let arguments, let callID, _, let callIDs, let parameters)):
            let name = String(decoding: bytes, as: UTF8.self)
            if id == arguments || id == callID {
                guard g.isComplete, let tool = parameters[name] else { return false }
                if id == arguments {
                    phase = .arguments(tool.makeConstraint(endTokens: argumentEnds))
                } else {
                    guard let callIDs else { return false }
                    phase = .callID(callIDs.makeConstraint(endTokens: [arguments]), name)
                }
                return true
            }
            guard g.accept(token: id) else { return false }
            phase = .name(g, bytes + g.cache.trie.bytes(of: id))
            return true
        case (.callID(var g, let name), .named(_, let arguments, _, _, _, let parameters)):
            if id == arguments {
                guard g.isComplete, let tool = parameters[name] else { return false }
                phase = .arguments(tool.makeConstraint(endTokens: argumentEnds))
                return true
            }
            guard g.accept(token: id) else { return false }
            phase = .callID(g, name)
            return true
        case (.arguments(var g), .named(let marker, let arguments, let callID, let names, _, _)):
            if id == marker, plan.repeats {
                guard g.isComplete else { return false }
                phase = .name(names.makeConstraint(endTokens: [arguments] + (callID.map { [$0] } ?? [])), [])
                return true
            }
            guard g.accept(token: id) else { return false }
            phase = .arguments(g)
            return true
        default:
            return false
        }
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
