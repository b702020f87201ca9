import StructuredOutput
public import Tokenization

extension GrammarCompiler {
    /// The forced call `choice` asks for (`required` or a named function), in `format`'s tool-call
    /// layout, each call's arguments constrained to its tool's `parameters` schema (a schema without a
    /// `type` is taken as an object's; arguments are always an object).
    ///
    /// - Returns: Nil for `auto` and `none` (nothing is forced).
    /// - Throws: `EngineError` `.invalidRequest` naming `tool_choice` (no tools, an unknown function, a
    ///   model without a tool-call format) or `tools[i].parameters` (a schema that cannot be compiled).
    public func compileToolCalls(
        _ tools: [ToolDefinition], choice: ToolChoice, format: ChatFormat
    ) throws(EngineError) -> CompiledToolCalls? {
        let offered: [(index: Int, tool: ToolDefinition)]
        switch choice {
        case .auto, .none:
            return nil
        case .required:
            guard !tools.isEmpty else { throw EngineError(.invalidRequest, "tool_choice \"required\" needs tools", parameter: "tool_choice") }
            offered = Array(tools.enumerated()).map { ($0.offset, $0.element) }
        case .function(let name):
            guard let index = tools.firstIndex(where: { $0.name == name }) else {
                throw EngineError(.invalidRequest, "tool_choice names \"\(name)\", which is not one of the tools", parameter: "tool_choice")
            }
            offered = [(index, tools[index])]
        }
        let repeats = choice == .required
        // The same name twice would make the call ambiguous.
        var seen = Set<String>()
        for (index, tool) in offered {
            guard !tool.name.isEmpty, seen.insert(tool.name).inserted else {
                throw EngineError(.invalidRequest, "tools need distinct, non-empty names", parameter: "tools[\(index)].name")
            }
        }
        let vocabulary = tokenizer.vocabulary
        func control(_ text: String) throws(EngineError) -> Int32 {
            guard let id = vocabulary.id(forText: text) else {
                throw EngineError(.invalidRequest, "the model's vocabulary has no \(text) token to call a tool with", parameter: "tool_choice")
            }
            return id
        }
        let key = offered.map { "\($0.tool.name)\u{0}\(Self.parametersSchema($0.tool.parameters))" }.joined(separator: "\u{1}")
        switch format {
        case .gemma:
            throw EngineError(.invalidRequest, "the model's chat format (gemma) has no tool calls", parameter: "tool_choice")
        case .chatML:
            let calls = try compiled(.derived("chatml\(repeats)\u{2}\(key)"), format: .jsonObject) { () throws(EngineError) in
                try Self.framing(try callObjects(offered)) { grammar throws(GrammarError) in
                    try grammar.framed(
                        prefix: "<tool_call>\n", suffix: "\n</tool_call>",
                        repeatedWith: repeats ? "\n</tool_call>\n<tool_call>\n" : nil, limits: limits)
                }
            }
            return CompiledToolCalls(layout: .text(calls), repeats: repeats)
        default:
            let marker = try control("[TOOL_CALLS]")
            if (format.mistralVersion ?? 3) < 11 {
                let calls = try compiled(.derived("array\(repeats)\u{2}\(key)"), format: .jsonObject) { () throws(EngineError) in
                    try Self.framing(try callObjects(offered)) { grammar throws(GrammarError) in
                        try grammar.framed(prefix: "[", suffix: "]", repeatedWith: repeats ? ", " : nil, limits: limits)
                    }
                }
                return CompiledToolCalls(layout: .array(marker: marker, calls: calls), repeats: repeats)
            }
            let arguments = try control("[ARGS]")
            let callID = format.mistralVersion == 11 ? vocabulary.id(forText: "[CALL_ID]") : nil
            let names = try compiled(.derived("names\u{2}\(offered.map(\.tool.name).joined(separator: "\u{1}"))"), format: .jsonObject) {
                () throws(EngineError) in
                try Self.grammarOf(index: nil) { () throws(GrammarError) in try Grammar.choice(of: offered.map(\.tool.name)) }
            }
            var parameters: [String: CompiledGrammar] = [:]
            for (index, tool) in offered {
                parameters[tool.name] = try compile(parametersOf: tool, index: index)
            }
            let callIDs = try callID.map { _ throws(EngineError) in
                try compiled(.derived("call-id"), format: .jsonObject) { () throws(EngineError) in
                    try Self.grammarOf(index: nil) { () throws(GrammarError) in
                        try GBNFParser(limits: limits).parse("root ::= " + String(repeating: "[a-zA-Z0-9] ", count: 9))
                    }
                }
            }
            return CompiledToolCalls(
                layout: .named(
                    marker: marker, arguments: arguments, callID: callID, names: names, callIDs: callIDs, parameters: parameters),
                repeats: repeats)
        }
    }

    /// `{"name": "…", "arguments": …}` for each offered tool, as one grammar (any of them), spaced
    /// as the chat templates write calls.
    private func callObjects(_ offered: [(index: Int, tool: ToolDefinition)]) throws(EngineError) -> Grammar {
        var calls: [Grammar] = []
        for (index, tool) in offered {
            let arguments = try Self.grammarOf(index: index) { () throws(GrammarError) in
                try JSONSchemaCompiler(limits: limits).compile(text: Array(Self.parametersSchema(tool.parameters).utf8))
            }
            calls.append(
                try Self.grammarOf(index: index) { () throws(GrammarError) in
                    try arguments.framed(
                        prefix: "{\"name\": \(ChatJSON.string(tool.name).serialized), \"arguments\": ", suffix: "}", limits: limits)
                })
        }
        return try Self.grammarOf(index: nil) { () throws(GrammarError) in try Grammar.alternatives(calls, limits: limits) }
    }

    /// The compiled grammar of one tool's arguments (kept like a client's schema).
    private func compile(parametersOf tool: ToolDefinition, index: Int) throws(EngineError) -> CompiledGrammar {
        let schema = Self.parametersSchema(tool.parameters)
        return try compiled(.format(.jsonSchema(schema)), format: .jsonSchema(schema)) { () throws(EngineError) in
            try Self.grammarOf(index: index) { () throws(GrammarError) in
                try JSONSchemaCompiler(limits: limits).compile(text: Array(schema.utf8))
            }
        }
    }

    /// A tool's `parameters` as schema text: an object schema without `type` gets `"type": "object"`
    /// first (its other keys, `$defs` and references unchanged, since the root stays the root); a
    /// missing or empty one is any object.
    static func parametersSchema(_ parameters: ChatJSON) -> String {
        guard case .object(let pairs) = parameters else {
            return parameters == .null ? #"{"type":"object"}"# : parameters.serialized
        }
        if pairs.contains(where: { $0.key == "type" }) { return parameters.serialized }
        return ChatJSON.object([("type", .string("object"))] + pairs).serialized
    }

    private static func framing(_ grammar: Grammar, _ frame: (Grammar) throws(GrammarError) -> Grammar) throws(EngineError) -> Grammar {
        try grammarOf(index: nil) { () throws(GrammarError) in try frame(grammar) }
    }

    /// Runs a grammar construction, its error named after the tool's parameters (or tool_choice).
    private static func grammarOf(index: Int?, _ make: () throws(GrammarError) -> Grammar) throws(EngineError) -> Grammar {
        do {
            return try make()
        } catch {
            var message = error.message
            if let keyword = error.keyword, !message.contains(keyword) { message += " (\(keyword))" }
            if let location = error.location, !location.isEmpty { message += " at \(location) in the schema" }
            throw EngineError(.invalidRequest, message, parameter: index.map { "tools[\($0)].parameters" } ?? "tool_choice")
        }
    }
}
