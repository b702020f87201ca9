import Engine
import Foundation
import GGUF
import Testing
import TestSupport
import Tokenization

/// Forced tool calls (`tool_choice` "required" or a named function) on real vocabularies in every
/// tool-call layout: Mistral v3 and v7 (`[TOOL_CALLS]` then a JSON array), v13 (`[TOOL_CALLS]` name
/// `[ARGS]` arguments), ChatML (`<tool_call>` tags as text). Random walks through the masks — any
/// token the mask allows, chosen by a seeded generator — always end in calls the format's own parser
/// reads, to the offered tools only, with arguments inside the tool's schema.
@Suite struct ToolCallConstraintTests {
    static var directory: String {
        let environment = ProcessInfo.processInfo.environment
        return environment["BRISE_TOKENIZER_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/brise/tokenizers").path
    }

    /// Vocabularies and the chat format they are tested in.
    static var cases: [String] {
        let mistral = ["mistral-spm-v3.gguf", "mistral-spm-v7.gguf", "mistral-tekken-240718-v13-synthetic.gguf"].map { directory + "/" + $0 }
        let qwen = Fixtures.presentRealModels.filter { $0.contains("qwen") }
        return (mistral + qwen).filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Two tools whose arguments are finite (enums, bounded integers, booleans), so every walk ends.
    static let tools = [
        ToolDefinition(
            name: "get_weather", description: "The weather in a city.",
            parameters: try! ChatJSON(parsing: #"""
                {"type": "object", "properties": {"city": {"enum": ["Paris", "Oslo", "Zürich"]},
                 "days": {"type": "integer", "minimum": 1, "maximum": 7}, "metric": {"type": "boolean"}},
                 "required": ["city", "days"], "additionalProperties": false}
                """#)),
        ToolDefinition(
            name: "set_alarm", description: "Sets an alarm.",
            // No "type": taken as an object's schema; $defs resolve against the parameters' own root.
            parameters: try! ChatJSON(parsing: #"""
                {"$defs": {"hour": {"type": "integer", "minimum": 0, "maximum": 23}},
                 "properties": {"hour": {"$ref": "#/$defs/hour"}, "label": {"const": "wake up"}},
                 "required": ["hour"], "additionalProperties": false}
                """#)),
    ]

    /// A JSON Schema integer: any number with no fraction (`5.0` and `-0` are integers too).
    static func integer(_ value: ChatJSON?) -> Int? {
        switch value {
        case .int(let v)?: return v
        case .double(let v)? where v.rounded() == v && abs(v) < 1e15: return Int(v)
        default: return nil
        }
    }

    /// Checks one call against `tools` by hand (not through Brise's schema compiler).
    static func problems(_ call: ToolCall) -> [String] {
        guard case .object(let pairs) = call.arguments else { return ["arguments are not an object: \(call.arguments)"] }
        let arguments = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        var problems: [String] = []
        if pairs.count != arguments.count { problems.append("a key twice") }
        switch call.name {
        case "get_weather":
            if !Set(arguments.keys).isSubset(of: ["city", "days", "metric"]) { problems.append("keys \(arguments.keys.sorted())") }
            guard case .string(let city)? = arguments["city"], ["Paris", "Oslo", "Zürich"].contains(city) else { return problems + ["city"] }
            guard let days = integer(arguments["days"]), (1...7).contains(days) else { return problems + ["days"] }
            if let metric = arguments["metric"], case .bool = metric {} else if arguments["metric"] != nil { problems.append("metric") }
        case "set_alarm":
            if !Set(arguments.keys).isSubset(of: ["hour", "label"]) { problems.append("keys \(arguments.keys.sorted())") }
            guard let hour = integer(arguments["hour"]), (0...23).contains(hour) else { return problems + ["hour"] }
            if let label = arguments["label"], label != .string("wake up") { problems.append("label") }
        default:
            problems.append("unknown function \(call.name)")
        }
        return problems
    }

    static func bits(_ mask: [UInt64]) -> [Int32] {
        var ids: [Int32] = []
        for (w, word) in mask.enumerated() where word != 0 {
            for b in 0..<64 where word & (1 << UInt64(b)) != 0 { ids.append(Int32(w * 64 + b)) }
        }
        return ids
    }

    @Test(arguments: cases)
    func randomWalksAlwaysEndInValidCalls(path: String) throws {
        let file = try GGUFFile(path: path)
        let tokenizer = try Tokenizer(file: file)
        let detected = try ChatEncoder(tokenizer: tokenizer)
        // A v11 vocabulary also runs as v13 (the same tokens, no [CALL_ID]).
        for format in [detected.format] + (detected.format == .mistralV11 ? [.mistralV13] : []) {
            try walks(tokenizer: tokenizer, file: file, encoder: try ChatEncoder(tokenizer: tokenizer, format: format))
        }
    }

    func walks(tokenizer: Tokenizer, file: GGUFFile, encoder: ChatEncoder) throws {
        let compiler = GrammarCompiler(tokenizer: tokenizer)
        let end = tokenizer.vocabulary.endOfGeneration(metadata: file.metadata)
        let words = (tokenizer.vocabulary.count + 63) / 64
        let marker = tokenizer.vocabulary.id(forText: "[TOOL_CALLS]")
        var generator = SeededRandom(seed: 42)
        var counts: [Int: Int] = [:]
        for (choice, walks) in [(ToolChoice.required, 12), (.function("set_alarm"), 6)] {
            let plan = try #require(try compiler.compileToolCalls(Self.tools, choice: choice, format: encoder.format))
            for walk in 0..<walks {
                var constraint = plan.makeConstraint(endTokens: end)
                var ids: [Int32] = []
                var ended = false
                for step in 0..<400 {
                    let allowed = Self.bits(constraint.allowedTokens(words: words))
                    try #require(!allowed.isEmpty, "\(encoder.format) walk \(walk) step \(step): nothing allowed after \(ids)")
                    if step == 0, encoder.format != .chatML {
                        #expect(allowed == [marker!], "a Mistral call starts with [TOOL_CALLS] alone: \(allowed.prefix(5))")
                    }
                    // Half the time the end when it is allowed, so walks both stop and go on.
                    let endings = allowed.filter { end.contains($0) }
                    let next = !endings.isEmpty && generator.next() % 2 == 0
                        ? endings[Int(generator.next() % UInt64(endings.count))]
                        : allowed[Int(generator.next() % UInt64(allowed.count))]
                    let accepted = constraint.accept(token: next)
                    #expect(accepted, "an allowed token was refused")
                    if end.contains(next) {
                        ended = true
                        break
                    }
                    ids.append(next)
                    if constraint.mustEnd {
                        ended = true
                        break
                    }
                }
                let text = try tokenizer.decode(ids, renderSpecial: true)
                #expect(ended, "\(encoder.format) walk \(walk) did not end: \(text)")
                let parsed = try ToolCallParser(encoder: encoder).parse(ids)
                #expect(!parsed.calls.isEmpty, "\(encoder.format): no call in \(text)")
                for call in parsed.calls {
                    #expect(Self.problems(call).isEmpty, "\(encoder.format): \(call) — \(Self.problems(call))")
                }
                if case .function(let name) = choice {
                    #expect(parsed.calls.map(\.name) == [name], "\(parsed.calls)")
                }
                counts[parsed.calls.count, default: 0] += 1
            }
        }
        // "required" lets the walk make more than one call.
        #expect(counts.keys.contains { $0 > 1 }, "\(encoder.format): call counts \(counts)")
    }

    @Test func badChoicesAndSchemasAreClearErrors() throws {
        let path = Self.directory + "/mistral-tekken-240718-v13-synthetic.gguf"
        guard FileManager.default.fileExists(atPath: path) else { return }
        let tokenizer = try Tokenizer(file: try GGUFFile(path: path))
        let compiler = GrammarCompiler(tokenizer: tokenizer)
        func refusal(_ tools: [ToolDefinition], _ choice: ToolChoice, _ format: ChatFormat) -> EngineError? {
            do {
                _ = try compiler.compileToolCalls(tools, choice: choice, format: format)
                return nil
            } catch {
                return error
            }
        }
        #expect(try compiler.compileToolCalls(Self.tools, choice: .auto, format: .mistralV13) == nil)
        #expect(refusal(Self.tools, .function("nope"), .mistralV13)?.parameter == "tool_choice")
        #expect(refusal([], .required, .mistralV13)?.parameter == "tool_choice")
        #expect(refusal(Self.tools, .required, .gemma)?.message.contains("no tool calls") == true)
        var bad = Self.tools
        bad[1].parameters = try ChatJSON(parsing: #"{"type": "object", "properties": {"a": {"type": "strin"}}}"#)
        #expect(refusal(bad, .required, .mistralV13)?.parameter == "tools[1].parameters")
        var twice = Self.tools
        twice[1].name = "get_weather"
        #expect(refusal(twice, .required, .mistralV13)?.parameter == "tools[1].name")
    }
}
