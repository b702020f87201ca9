package import Engine
import Foundation
package import Tokenization
package import WireProtocol

/// Turns decoded calls into engine requests and replies: everything a call goes through before the
/// forward pass (parameter decoding, the model-dependent bounds, prompt encoding, the chat template,
/// the sampler's parameters). Synchronous and free of sockets, so the request fuzz target runs it in
/// process.
///
/// The wire types already bound every number (`ParameterBounds`); this narrows the bounds that
/// depend on the model: `max_tokens` ≤ the context length, `top_k` ≤ the vocabulary, `penalty_last_n`
/// ≤ the context length, token ids below the vocabulary size.
package struct RequestBuilder: Sendable {
    /// The model's tokenizer (nil: the file has no vocabulary).
    package let tokenizer: Tokenizer?
    /// The model's chat encoder (nil: no vocabulary, or a template Brise does not know).
    package let chatEncoder: ChatEncoder?
    /// The session's context length.
    package let contextLength: Int
    /// Rows of the output matrix.
    package let vocabularySize: Int
    /// `max_tokens` when a request gives none (cut to what the context has left).
    package let defaultMaxTokens: Int
    /// The model's fill-in-the-middle layout (nil: `Complete` is refused).
    package let fillInTheMiddle: FillInTheMiddle?
    /// Compiles `response_format` and `grammar` against the vocabulary (nil: no vocabulary).
    package let grammars: GrammarCompiler?
    /// `speculative` when a request gives none.
    package let defaultSpeculative: SpeculativeMode
    /// Prepares a Chat's images (nil: no vision model, image chunks are refused).
    package let vision: VisionProjector?

    package init(
        tokenizer: Tokenizer?, chatEncoder: ChatEncoder?, contextLength: Int, vocabularySize: Int, defaultMaxTokens: Int,
        fillInTheMiddle: FillInTheMiddle? = nil, defaultSpeculative: SpeculativeMode = .off, vision: VisionProjector? = nil
    ) {
        self.vision = vision
        self.defaultSpeculative = defaultSpeculative
        self.fillInTheMiddle = fillInTheMiddle
        self.tokenizer = tokenizer
        grammars = tokenizer.map { GrammarCompiler(tokenizer: $0) }
        self.chatEncoder = chatEncoder
        self.contextLength = contextLength
        self.vocabularySize = vocabularySize
        self.defaultMaxTokens = defaultMaxTokens
    }

    /// A `Chat` request and the tools it offered (to parse calls out of the answer).
    package struct ChatRequest: Sendable {
        package var request: GenerationRequest
        package var tools: [Tokenization.ToolDefinition]
    }

    // MARK: - Methods

    /// `Generate`: the prompt as plain text (BOS added as the model wants).
    ///
    /// - Throws: `WireError` `.invalidParameter` or `.contextOverflow`.
    package func generate(_ call: VarlinkCall, randomSeed: () -> UInt64) throws(WireError) -> GenerationRequest {
        let parameters = try call.parameters(GenerateParameters.self)
        try Self.refuseReasoning(parameters.options)
        let tokenizer = try requireTokenizer()
        let prompt = tokenizer.encode(parameters.prompt, addSpecial: true)
        return try request(prompt, parameters.options, call: call, randomSeed: randomSeed)
    }

    /// `Complete`: the code between `prompt` and `suffix`, through the model's fill-in-the-middle
    /// tokens. A prompt too long for the context keeps what is nearest the gap, leaving the answer
    /// `max_tokens` (or, absent, the default up to a quarter of the context).
    ///
    /// - Throws: `WireError` `.invalidParameter` (also for a model without FIM tokens) or `.contextOverflow`.
    package func complete(_ call: VarlinkCall, randomSeed: () -> UInt64) throws(WireError) -> GenerationRequest {
        let parameters = try call.parameters(CompleteParameters.self)
        try Self.refuseReasoning(parameters.options)
        let tokenizer = try requireTokenizer()
        guard let fillInTheMiddle else {
            throw .invalidParameter(
                parameter: "prompt",
                reason: "the model has no fill-in-the-middle tokens ([PREFIX]/[SUFFIX], <|fim_prefix|>…); use Generate")
        }
        let answerRoom = parameters.options?.maxTokens ?? min(defaultMaxTokens, max(1, contextLength / 4))
        let suffix = parameters.suffix ?? ""
        let prompt = fillInTheMiddle.encode(
            prefix: parameters.prompt, suffix: suffix, tokenizer: tokenizer, limit: contextLength - min(answerRoom, contextLength - 1))
        var options = parameters.options ?? SamplingOptions()
        if let line = Self.suffixStop(suffix), (options.stop ?? []).count < ParameterBounds.stopStrings, !(options.stop ?? []).contains(line) {
            options.stop = (options.stop ?? []) + [line]
        }
        return try request(prompt, options, call: call, randomSeed: randomSeed)
    }

    /// Refuses the reasoning options outside Chat: a plain continuation has no template to think in,
    /// and its text is not split.
    static func refuseReasoning(_ options: SamplingOptions?) throws(WireError) {
        if options?.reasoning != nil || options?.reasoningBudget != nil {
            let name = options?.reasoning != nil ? "options.reasoning" : "options.reasoning_budget"
            throw .invalidParameter(parameter: name, reason: "reasoning applies to Chat only")
        }
    }

    /// Where a fill-in-the-middle answer ends when the model writes on past the gap: the suffix's first
    /// non-blank line (without its indentation), once it appears in the answer — the middle is done
    /// when what follows it begins. Only a line of at least 4 characters other than brackets and
    /// punctuation (a lone `}` or `)` would end answers that merely close a block), at most 256 bytes.
    static func suffixStop(_ suffix: String) -> String? {
        guard let line = suffix.split(separator: "\n", omittingEmptySubsequences: true)
            .map({ $0.trimmingCharacters(in: .whitespaces) }).first(where: { !$0.isEmpty })
        else { return nil }
        guard line.filter({ $0.isLetter || $0.isNumber }).count >= 4, line.utf8.count <= ParameterBounds.stopStringBytes else { return nil }
        return line
    }

    /// `Chat`: the messages through the model's chat template.
    ///
    /// - Throws: `WireError` `.invalidParameter` or `.contextOverflow`.
    package func chat(_ call: VarlinkCall, randomSeed: () -> UInt64) throws(WireError) -> ChatRequest {
        let parameters = try call.parameters(ChatParameters.self)
        _ = try requireTokenizer()
        guard let encoder = chatEncoder else {
            throw .invalidParameter(parameter: "messages", reason: "the model has no chat format Brise knows; use Generate")
        }
        guard !parameters.messages.isEmpty else {
            throw .invalidParameter(parameter: "messages", reason: "at least one message is needed")
        }
        // Codable loses the order of keys in JSON objects; tool schemas and arguments are rendered into
        // the prompt, so take them from an order-keeping parse of the same message.
        let ordered = try? ChatJSON(parsing: String(decoding: call.bytes, as: UTF8.self))
        let orderedParameters = ordered?["parameters"]
        var messages: [ChatMessage] = []
        var images: [PreparedImage] = []
        for (index, message) in parameters.messages.enumerated() {
            guard let role = ChatMessage.Role(rawValue: message.role) else {
                throw .invalidParameter(
                    parameter: "messages[\(index)].role", reason: "\"\(message.role)\" is not system, user, assistant or tool")
            }
            let orderedCalls = Self.element(orderedParameters?["messages"], index)?["tool_calls"]
            let calls = (message.toolCalls ?? []).enumerated().map { callIndex, toolCall in
                Tokenization.ToolCall(
                    name: toolCall.name,
                    arguments: Self.element(orderedCalls, callIndex)?["arguments"] ?? Self.chatJSON(toolCall.arguments),
                    id: toolCall.id)
            }
            messages.append(try Self.chatMessage(message, role: role, calls: calls, index: index, vision: vision, images: &images))
        }
        let choice = try Self.toolChoice(parameters.toolChoice)
        let tools = choice == .none ? [] : (parameters.tools ?? []).enumerated().map { index, tool in
            Tokenization.ToolDefinition(
                name: tool.name, description: tool.description,
                parameters: Self.element(orderedParameters?["tools"], index)?["parameters"] ?? Self.chatJSON(tool.parameters))
        }
        var toolCalls: CompiledToolCalls?
        if choice != .auto, choice != .none {
            guard let grammars else { throw .invalidParameter(parameter: "tool_choice", reason: "the model file has no vocabulary") }
            if parameters.options?.responseFormat.map({ $0.type != "text" }) == true || parameters.options?.grammar != nil {
                throw .invalidParameter(
                    parameter: "tool_choice", reason: "a forced tool call and a response_format or grammar cannot be used together")
            }
            do {
                toolCalls = try grammars.compileToolCalls(tools, choice: choice, format: encoder.format)
            } catch {
                throw .invalidParameter(parameter: VarlinkCall.wireName(error.parameter ?? "tool_choice"), reason: error.message)
            }
        }
        let prompt: [TokenID]
        do {
            prompt = try encoder.encode(messages, tools: tools)
        } catch let error as TokenizerError {
            throw .invalidParameter(parameter: "messages", reason: error.message)
        } catch {
            throw .invalidParameter(parameter: "messages", reason: "\(error)")
        }
        var built = try request(prompt, parameters.options, call: call, ordered: ordered, randomSeed: randomSeed)
        if !images.isEmpty {
            let positions = encoder.imagePositions(in: prompt)
            guard positions.count == images.count else {
                throw .invalidParameter(parameter: "messages", reason: "the chat format placed \(positions.count) of \(images.count) images")
            }
            built.images = zip(images, positions).map { $0.placed(at: $1) }
        }
        built.toolCalls = toolCalls
        built.reasoning = try reasoning(parameters.options, encoder: encoder, prompt: prompt, constrained: toolCalls != nil || built.grammar != nil)
        return ChatRequest(request: built, tools: tools)
    }

    /// A wire message as a chat message: `reasoning` (an assistant's) becomes a closed think chunk
    /// before the content, `chunks` replace `content`.
    static func chatMessage(
        _ message: Message, role: ChatMessage.Role, calls: [Tokenization.ToolCall], index: Int, vision: VisionProjector? = nil,
        images: inout [PreparedImage]
    ) throws(WireError) -> ChatMessage {
        let at = "messages[\(index)]"
        if message.reasoning != nil, role != .assistant {
            throw .invalidParameter(parameter: "\(at).reasoning", reason: "only an assistant message has reasoning")
        }
        guard let chunks = message.chunks else {
            return ChatMessage(
                role, message.content, reasoning: message.reasoning, toolCalls: calls, toolCallID: message.toolCallId, prefix: message.prefix ?? false)
        }
        guard message.content.isEmpty, message.reasoning == nil else {
            throw .invalidParameter(parameter: "\(at).chunks", reason: "chunks replace content and reasoning: leave those empty")
        }
        var converted: [ChatMessage.ContentChunk] = []
        for (chunkIndex, chunk) in chunks.enumerated() {
            switch chunk.type {
            case "text": converted.append(.text(chunk.text ?? ""))
            case "image":
                let parameter = "\(at).chunks[\(chunkIndex)]"
                guard let vision else {
                    throw .invalidParameter(parameter: parameter, reason: "the daemon has no vision model (vision_model) to read images with")
                }
                guard role == .user else { throw .invalidParameter(parameter: parameter, reason: "only user messages may hold images") }
                guard let bytes = chunk.imageBytes else { throw .invalidParameter(parameter: parameter, reason: "the image data is not base64") }
                do {
                    let image = try vision.prepare(bytes)
                    images.append(image)
                    converted.append(.image(columns: image.columns, rows: image.rows))
                } catch {
                    throw .invalidParameter(parameter: parameter, reason: "\(error)")
                }
            default: converted.append(.thinking(chunk.thinking ?? "", closed: chunk.closed ?? true))
            }
        }
        return ChatMessage(role, chunks: converted, toolCalls: calls, toolCallID: message.toolCallId, prefix: message.prefix ?? false)
    }

    /// How a Chat request treats the model's thinking (nil: the model has no thinking tokens, so the
    /// reply is all answer).
    ///
    /// - Throws: `WireError` `.invalidParameter` for `on` or a budget with a model that cannot think,
    ///   or together with an answer held to a grammar (which has no room for thinking).
    func reasoning(_ options: SamplingOptions?, encoder: ChatEncoder, prompt: [TokenID], constrained: Bool) throws(WireError)
        -> ReasoningControl?
    {
        let asked = options?.reasoningBudget != nil || options?.reasoning == .on
        let parameter = options?.reasoningBudget != nil && options?.reasoning == nil ? "options.reasoning_budget" : "options.reasoning"
        guard let tokens = encoder.thinking else {
            if asked {
                throw .invalidParameter(
                    parameter: parameter, reason: "the model has no thinking tokens ([THINK]/[/THINK] or <think>/</think>); it cannot reason")
            }
            return nil  // "off" on a model that cannot think: nothing to do.
        }
        if asked && constrained {
            throw .invalidParameter(
                parameter: parameter, reason: "thinking and a response_format, grammar or forced tool call cannot be used together")
        }
        let mode: ReasoningControl.Mode
        if let budget = options?.reasoningBudget {
            mode = .budget(budget)
        } else if options?.reasoning == .off || constrained {
            mode = .off
        } else {
            mode = .auto
        }
        return ReasoningControl(tokens: tokens, mode: mode, startsInside: tokens.promptEndsInside(prompt, vocabulary: encoder.tokenizer.vocabulary))
    }

    /// `tool_choice` as sent: "auto" (or absent), "none", "required" (La Plateforme's "any"), or a
    /// tool's name (checked against the tools when the call is compiled).
    static func toolChoice(_ text: String?) throws(WireError) -> ToolChoice {
        switch text {
        case nil, "auto": return .auto
        case "none": return .none
        case "required", "any": return .required
        case let name?:
            guard !name.isEmpty else { throw .invalidParameter(parameter: "tool_choice", reason: "expected auto, none, required or a tool's name") }
            return .function(name)
        }
    }

    /// `Tokenize`.
    package func tokenize(_ call: VarlinkCall) throws(WireError) -> TokenizeReply {
        let parameters = try call.parameters(TokenizeParameters.self)
        let ids = try requireTokenizer().encode(
            parameters.text, addSpecial: parameters.addSpecial ?? true, parseSpecial: parameters.parseSpecial ?? false)
        return TokenizeReply(tokens: ids.map(Int.init))
    }

    /// `Detokenize`: every id must be below the vocabulary size.
    package func detokenize(_ call: VarlinkCall) throws(WireError) -> DetokenizeReply {
        let parameters = try call.parameters(DetokenizeParameters.self)
        let tokenizer = try requireTokenizer()
        let count = tokenizer.vocabulary.count
        var ids: [TokenID] = []
        ids.reserveCapacity(parameters.tokens.count)
        for (index, token) in parameters.tokens.enumerated() {
            // Decoding bounded each id to 0…2³¹−1, so the conversion is exact.
            guard token < count, let id = TokenID(exactly: token) else {
                throw .invalidParameter(parameter: "tokens[\(index)]", reason: "\(token) is not a token id (0…\(count - 1))")
            }
            ids.append(id)
        }
        return DetokenizeReply(text: (try? tokenizer.decode(ids)) ?? "")
    }

    // MARK: - Requests

    /// A request for `prompt` with the client's options, every value checked against the model.
    ///
    /// - Throws: `WireError` `.invalidParameter` naming the field and its range, or `.contextOverflow`.
    package func request(
        _ prompt: [TokenID], _ options: SamplingOptions?, call: VarlinkCall? = nil, ordered: ChatJSON? = nil,
        randomSeed: () -> UInt64
    ) throws(WireError) -> GenerationRequest {
        let (settings, maxTokens, stop) = try self.sampling(options, promptTokens: prompt.count)
        var grammar: CompiledGrammar?
        if let format = try outputFormat(options, call: call, ordered: ordered) {
            guard let grammars else {
                throw .invalidParameter(parameter: "options.\(VarlinkCall.wireName(format.parameter))", reason: "the model file has no vocabulary")
            }
            do {
                grammar = try grammars.compile(format)
            } catch {
                throw .invalidParameter(parameter: "options.\(VarlinkCall.wireName(error.parameter ?? format.parameter))", reason: error.message)
            }
        }
        guard !prompt.isEmpty else { throw .invalidParameter(parameter: "prompt", reason: "the prompt has no tokens") }
        // Both are bounded (the prompt by the message size, maxTokens by type): the sum cannot overflow.
        guard prompt.count + maxTokens.value <= contextLength else {
            throw .contextOverflow(promptTokens: prompt.count, maxTokens: maxTokens.value, contextLength: contextLength)
        }
        do {
            var request = try GenerationRequest(
                prompt: prompt, settings: settings, seed: options?.seed ?? randomSeed(), maxTokens: maxTokens, stop: stop,
                grammar: grammar)
            request.speculative = options?.speculative.flatMap { SpeculativeMode(rawValue: $0.rawValue) } ?? defaultSpeculative
            return request
        } catch {
            throw .invalidParameter(parameter: "options.\(VarlinkCall.wireName(error.parameter ?? "options"))", reason: error.message)
        }
    }

    /// The answer's required shape from `response_format` and `grammar` (nil: free text). A JSON
    /// Schema is taken from the call's own bytes when it has them, so its keys keep their order.
    ///
    /// - Throws: `WireError` `.invalidParameter` for an unknown type, a missing schema, or a grammar
    ///   together with a JSON format.
    package func outputFormat(_ options: SamplingOptions?, call: VarlinkCall?, ordered: ChatJSON? = nil) throws(WireError) -> OutputFormat? {
        guard let options else { return nil }
        var format: OutputFormat?
        if let responseFormat = options.responseFormat {
            switch responseFormat.type {
            case "text":
                break
            case "json_object":
                format = .jsonObject
            case "json_schema":
                guard let jsonSchema = responseFormat.jsonSchema else {
                    throw .invalidParameter(
                        parameter: "options.response_format.json_schema", reason: "a json_schema response format needs json_schema.schema")
                }
                // Chat has parsed the call already (for its tools); the others parse it here.
                let ordered = ordered ?? call.flatMap { try? ChatJSON(parsing: String(decoding: $0.bytes, as: UTF8.self)) }
                let schema = ordered?["parameters"]?["options"]?["response_format"]?["json_schema"]?["schema"]
                format = .jsonSchema(schema?.serialized ?? Self.chatJSON(jsonSchema.schema).serialized)
            default:
                throw .invalidParameter(
                    parameter: "options.response_format.type", reason: "\"\(responseFormat.type)\" is not text, json_object or json_schema")
            }
        }
        if let grammar = options.grammar {
            guard format == nil else {
                throw .invalidParameter(parameter: "options.grammar", reason: "a grammar and a JSON response_format cannot be used together")
            }
            format = .grammar(grammar)
        }
        return format
    }

    /// The request's sampling choices (llama.cpp's defaults for the rest). Without `max_tokens`, the
    /// configured default, cut to what the context has left after the prompt.
    package func sampling(_ options: SamplingOptions?, promptTokens: Int) throws(WireError)
        -> (SamplingSettings, maxTokens: TokenCount, stop: [String])
    {
        let o = options ?? SamplingOptions()
        // The wire bounds hold already (decoding checked them); these depend on the model.
        let contextBounds = ParameterBounds.maxTokens.capped(at: contextLength)
        func within(_ value: Int?, _ bounds: IntegerBounds, _ name: String, _ why: String) throws(WireError) -> Int? {
            guard let value else { return nil }
            guard bounds.contains(value) else {
                throw .invalidParameter(parameter: "options.\(name)", reason: "\(value) is not in \(bounds) (\(why))")
            }
            return value
        }
        var p = SamplingSettings()
        p.temperature = o.temperature.map { Float($0) }
        p.topK = try within(o.topK, ParameterBounds.topK.capped(at: vocabularySize), "top_k", "the vocabulary size")
        p.topP = o.topP.map { Float($0) }
        p.minP = o.minP.map { Float($0) }
        p.repetitionPenalty = o.repetitionPenalty.map { Float($0) }
        p.presencePenalty = o.presencePenalty.map { Float($0) }
        p.frequencyPenalty = o.frequencyPenalty.map { Float($0) }
        p.penaltyLastN = try within(o.penaltyLastN, ParameterBounds.penaltyLastN.capped(at: contextLength), "penalty_last_n", "the context length")
        // Checked here too, so a bad value is named before the prompt is looked at.
        do {
            _ = try p.parameters(seed: 0)
        } catch {
            throw .invalidParameter(parameter: "options.\(VarlinkCall.wireName(error.parameter ?? "options"))", reason: error.message)
        }
        let maxTokens: Int
        if let requested = try within(o.maxTokens, contextBounds, "max_tokens", "the context length") {
            maxTokens = requested
        } else {
            // promptTokens ≤ the message size, contextLength ≤ 2²⁴: no overflow.
            maxTokens = max(1, min(defaultMaxTokens, contextLength - promptTokens))
        }
        return (p, TokenCount(clamping: maxTokens), o.stop ?? [])
    }

    private func requireTokenizer() throws(WireError) -> Tokenizer {
        guard let tokenizer else {
            throw .invalidParameter(parameter: "model", reason: "the model file has no vocabulary")
        }
        return tokenizer
    }

    // MARK: - JSON conversions

    static func element(_ value: ChatJSON?, _ index: Int) -> ChatJSON? {
        guard case .array(let items)? = value, items.indices.contains(index) else { return nil }
        return items[index]
    }

    static func chatJSON(_ value: WireJSON) -> ChatJSON {
        switch value {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int(let i): .int(Int(i))
        case .double(let d): .double(d)
        case .string(let s): .string(s)
        case .array(let items): .array(items.map(chatJSON))
        case .object(let pairs): .object(pairs.sorted { $0.key < $1.key }.map { ($0.key, chatJSON($0.value)) })
        }
    }
}
