// The parameter and reply types of io.brise.Inference (io.brise.Inference.varlink), in Swift.
// Property names are the wire's snake_case names in camelCase (the coders convert).
import Foundation

/// How to pick each token (absent fields: the daemon's defaults).
///
/// Decoding checks every number against `ParameterBounds` (NaN and ±∞ are refused) and the `stop`
/// list against its limits, so a decoded value is always in range.
public struct SamplingOptions: Codable, Sendable, Equatable {
    public var temperature: Double?
    public var topK: Int?
    public var topP: Double?
    public var minP: Double?
    public var repetitionPenalty: Double?
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    public var penaltyLastN: Int?
    /// The seed of the random draw (absent: a fresh random one).
    public var seed: UInt64?
    public var maxTokens: Int?
    public var stop: [String]?
    /// The answer's shape (text, any JSON object, or a JSON Schema).
    public var responseFormat: ResponseFormat?
    /// A GBNF grammar the answer must match.
    public var grammar: String?
    /// How the daemon guesses tokens ahead (absent: its default). The text is the same either way.
    public var speculative: Speculative?
    /// Whether a reasoning model may think (absent: the model decides).
    public var reasoning: Reasoning?
    /// The most tokens the model may think for; then the thinking is closed (implies `on`).
    public var reasoningBudget: Int?

    public init(
        temperature: Double? = nil, topK: Int? = nil, topP: Double? = nil, minP: Double? = nil,
        repetitionPenalty: Double? = nil, presencePenalty: Double? = nil, frequencyPenalty: Double? = nil,
        penaltyLastN: Int? = nil, seed: UInt64? = nil, maxTokens: Int? = nil, stop: [String]? = nil,
        responseFormat: ResponseFormat? = nil, grammar: String? = nil, speculative: Speculative? = nil,
        reasoning: Reasoning? = nil, reasoningBudget: Int? = nil
    ) {
        self.reasoning = reasoning
        self.reasoningBudget = reasoningBudget
        self.speculative = speculative
        self.responseFormat = responseFormat
        self.grammar = grammar
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.penaltyLastN = penaltyLastN
        self.seed = seed
        self.maxTokens = maxTokens
        self.stop = stop
    }

    private enum CodingKeys: String, CodingKey {
        case temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, penaltyLastN, seed, maxTokens, stop
        case responseFormat, grammar, speculative, reasoning, reasoningBudget
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let bounds = ParameterBounds.self
        temperature = try c.decodeIfPresent(.temperature, within: bounds.temperature)
        topK = try c.decodeIfPresent(.topK, within: bounds.topK)
        topP = try c.decodeIfPresent(.topP, within: bounds.topP)
        minP = try c.decodeIfPresent(.minP, within: bounds.minP)
        repetitionPenalty = try c.decodeIfPresent(.repetitionPenalty, within: bounds.repetitionPenalty)
        presencePenalty = try c.decodeIfPresent(.presencePenalty, within: bounds.penalty)
        frequencyPenalty = try c.decodeIfPresent(.frequencyPenalty, within: bounds.penalty)
        penaltyLastN = try c.decodeIfPresent(.penaltyLastN, within: bounds.penaltyLastN)
        maxTokens = try c.decodeIfPresent(.maxTokens, within: bounds.maxTokens)
        seed = try Self.decodeSeed(c)
        stop = try c.decodeIfPresent([String].self, forKey: .stop)
        responseFormat = try c.decodeIfPresent(ResponseFormat.self, forKey: .responseFormat)
        grammar = try c.decodeIfPresent(String.self, forKey: .grammar)
        speculative = try c.decodeIfPresent(Speculative.self, forKey: .speculative)
        reasoning = try c.decodeIfPresent(Reasoning.self, forKey: .reasoning)
        reasoningBudget = try c.decodeIfPresent(.reasoningBudget, within: bounds.reasoningBudget)
        if reasoning == .off, reasoningBudget != nil {
            throw DecodingError.dataCorruptedError(
                forKey: .reasoningBudget, in: c, debugDescription: "a reasoning budget and reasoning \"off\" cannot be used together")
        }
        if let grammar, grammar.utf8.count > bounds.grammarBytes {
            throw DecodingError.dataCorruptedError(
                forKey: .grammar, in: c, debugDescription: "the grammar has \(grammar.utf8.count) bytes; at most \(bounds.grammarBytes)")
        }
        if let stop {
            guard stop.count <= bounds.stopStrings else {
                throw DecodingError.dataCorruptedError(
                    forKey: .stop, in: c, debugDescription: "\(stop.count) stop strings; at most \(bounds.stopStrings)")
            }
            if let bad = stop.firstIndex(where: { $0.isEmpty || $0.utf8.count > bounds.stopStringBytes }) {
                throw DecodingError.dataCorruptedError(
                    forKey: .stop, in: c,
                    debugDescription: "stop[\(bad)] has \(stop[bad].utf8.count) bytes; each must have 1…\(bounds.stopStringBytes)")
            }
        }
    }

    /// 0…2⁶⁴−1, or -1 (llama.cpp's "random") as absent.
    private static func decodeSeed(_ c: KeyedDecodingContainer<CodingKeys>) throws -> UInt64? {
        guard c.contains(.seed), try !c.decodeNil(forKey: .seed) else { return nil }
        if let value = try? c.decode(UInt64.self, forKey: .seed) { return value }
        if let value = try? c.decode(Int64.self, forKey: .seed), value == -1 { return nil }
        throw DecodingError.dataCorruptedError(
            forKey: .seed, in: c,
            debugDescription: "\(KeyedDecodingContainer<CodingKeys>.sent(c, .seed)) is not in \(ParameterBounds.seed)")
    }
}

/// A closed set of names on the wire: an unknown name fails to decode with the names allowed (the
/// sent one cut to 64 characters), which the server reports as an InvalidParameter naming the field.
public protocol WireName: RawRepresentable, CaseIterable, Decodable where RawValue == String {}

extension WireName {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let name = try c.decode(String.self)
        guard let value = Self(rawValue: name) else {
            throw DecodingError.dataCorruptedError(
                in: c, debugDescription: "\"\(name.prefix(64))\" is not one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = value
    }
}

/// How tokens are guessed ahead for the model to verify (speculative decoding).
public enum Speculative: String, Codable, Sendable, Equatable, CaseIterable, WireName {
    case off, ngram, draft, auto
}

/// Whether a reasoning model may think.
public enum Reasoning: String, Codable, Sendable, Equatable, CaseIterable, WireName {
    case on, off
}

/// The shape of an answer: La Plateforme's and OpenAI's `response_format`.
public struct ResponseFormat: Codable, Sendable, Equatable {
    /// `text`, `json_object` or `json_schema`.
    public var type: String
    /// The schema, for `json_schema`.
    public var jsonSchema: JSONSchemaFormat?

    public init(type: String, jsonSchema: JSONSchemaFormat? = nil) {
        self.type = type
        self.jsonSchema = jsonSchema
    }
}

/// A JSON Schema an answer must validate against.
public struct JSONSchemaFormat: Codable, Sendable, Equatable {
    public var name: String?
    public var description: String?
    public var schema: WireJSON
    public var strict: Bool?

    public init(name: String? = nil, description: String? = nil, schema: WireJSON, strict: Bool? = nil) {
        self.name = name
        self.description = description
        self.schema = schema
        self.strict = strict
    }
}

/// Token counts and timings of a finished request.
public struct Usage: Codable, Sendable, Equatable {
    public var promptTokens: Int
    public var cachedTokens: Int
    public var generatedTokens: Int
    public var promptSeconds: Double
    public var generationSeconds: Double
    /// Tokens guessed ahead and verified (absent: no speculation).
    public var draftedTokens: Int?
    /// Guessed tokens that were right.
    public var acceptedTokens: Int?
    /// Generated tokens that were thinking, its markers included (absent: the model has no thinking
    /// tokens, or the method does not split).
    public var reasoningTokens: Int?

    public init(
        promptTokens: Int, cachedTokens: Int, generatedTokens: Int, promptSeconds: Double, generationSeconds: Double,
        draftedTokens: Int? = nil, acceptedTokens: Int? = nil, reasoningTokens: Int? = nil
    ) {
        self.reasoningTokens = reasoningTokens
        self.draftedTokens = draftedTokens
        self.acceptedTokens = acceptedTokens
        self.promptTokens = promptTokens
        self.cachedTokens = cachedTokens
        self.generatedTokens = generatedTokens
        self.promptSeconds = promptSeconds
        self.generationSeconds = generationSeconds
    }
}

/// A function the model may call.
public struct ToolDefinition: Codable, Sendable, Equatable {
    public var name: String
    public var description: String
    public var parameters: WireJSON

    public init(name: String, description: String, parameters: WireJSON) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}

/// A call the model made.
public struct ToolCall: Codable, Sendable, Equatable {
    public var id: String?
    public var name: String
    public var arguments: WireJSON

    public init(id: String? = nil, name: String, arguments: WireJSON) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// One message of a conversation.
public struct Message: Codable, Sendable, Equatable {
    public var role: String
    public var content: String
    public var toolCalls: [ToolCall]?
    public var toolCallId: String?
    /// An assistant message's thinking, before its content (OpenAI's `reasoning_content`).
    public var reasoning: String?
    /// The content as text and thinking chunks in order, instead of `content` (mistral-common's
    /// `TextChunk`/`ThinkChunk`); at most `ParameterBounds.contentChunks`.
    public var chunks: [ContentChunk]?
    /// The last message, an assistant's, is continued by the model.
    public var prefix: Bool?

    public init(
        role: String, content: String, toolCalls: [ToolCall]? = nil, toolCallId: String? = nil, reasoning: String? = nil,
        chunks: [ContentChunk]? = nil, prefix: Bool? = nil
    ) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallId = toolCallId
        self.reasoning = reasoning
        self.chunks = chunks
        self.prefix = prefix
    }

    private enum CodingKeys: String, CodingKey {
        case role, content, toolCalls, toolCallId, reasoning, chunks, prefix
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        role = try c.decode(String.self, forKey: .role)
        content = try c.decode(String.self, forKey: .content)
        toolCalls = try c.decodeIfPresent([ToolCall].self, forKey: .toolCalls)
        toolCallId = try c.decodeIfPresent(String.self, forKey: .toolCallId)
        reasoning = try c.decodeIfPresent(String.self, forKey: .reasoning)
        chunks = try c.decodeIfPresent([ContentChunk].self, forKey: .chunks)
        prefix = try c.decodeIfPresent(Bool.self, forKey: .prefix)
        if let chunks, chunks.count > ParameterBounds.contentChunks {
            throw DecodingError.dataCorruptedError(
                forKey: .chunks, in: c, debugDescription: "\(chunks.count) chunks; at most \(ParameterBounds.contentChunks)")
        }
    }
}

/// A piece of a message's content: `{"type": "text", "text": …}`, `{"type": "thinking", "thinking":
/// …, "closed": bool}` (closed unless false: an open thought is continued by the model), or
/// `{"type": "image", "data": base64}` (a PNG or JPEG file's bytes; user messages).
public struct ContentChunk: Codable, Sendable, Equatable {
    /// `text`, `thinking` or `image`.
    public var type: String
    public var text: String?
    public var thinking: String?
    public var closed: Bool?
    /// An image's file bytes, base64 (RFC 4648, padded).
    public var data: String?

    public init(type: String, text: String? = nil, thinking: String? = nil, closed: Bool? = nil, data: String? = nil) {
        self.type = type
        self.text = text
        self.thinking = thinking
        self.closed = closed
        self.data = data
    }

    /// An image chunk carrying a file's bytes.
    public static func image(_ bytes: some Collection<UInt8>) -> ContentChunk {
        ContentChunk(type: "image", data: Data(bytes).base64EncodedString())
    }

    /// An image chunk's bytes (nil: not an image chunk, or not base64).
    public var imageBytes: [UInt8]? {
        guard type == "image", let data, let decoded = Data(base64Encoded: data) else { return nil }
        return [UInt8](decoded)
    }

    /// A text chunk.
    public static func text(_ text: String) -> ContentChunk { ContentChunk(type: "text", text: text) }

    /// A thinking chunk.
    public static func thinking(_ thinking: String, closed: Bool = true) -> ContentChunk {
        ContentChunk(type: "thinking", thinking: thinking, closed: closed ? nil : false)
    }

    private enum CodingKeys: String, CodingKey {
        case type, text, thinking, closed, data
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        text = try c.decodeIfPresent(String.self, forKey: .text)
        thinking = try c.decodeIfPresent(String.self, forKey: .thinking)
        closed = try c.decodeIfPresent(Bool.self, forKey: .closed)
        data = try c.decodeIfPresent(String.self, forKey: .data)
        switch type {
        case "image":
            guard let data, text == nil, thinking == nil, closed == nil else {
                throw DecodingError.dataCorruptedError(forKey: .data, in: c, debugDescription: "an image chunk has data (and no text or thinking)")
            }
            guard Data(base64Encoded: data) != nil else {
                throw DecodingError.dataCorruptedError(forKey: .data, in: c, debugDescription: "an image chunk's data is not base64")
            }
        case "text":
            guard text != nil, thinking == nil, closed == nil, data == nil else {
                throw DecodingError.dataCorruptedError(forKey: .text, in: c, debugDescription: "a text chunk has text (and no thinking or closed)")
            }
        case "thinking":
            guard thinking != nil, text == nil, data == nil else {
                throw DecodingError.dataCorruptedError(forKey: .thinking, in: c, debugDescription: "a thinking chunk has thinking (and no text)")
            }
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "\"\(type.prefix(64))\" is not text, thinking or image")
        }
    }
}

/// `Generate` parameters.
public struct GenerateParameters: Codable, Sendable, Equatable {
    public var prompt: String
    public var options: SamplingOptions?

    public init(prompt: String, options: SamplingOptions? = nil) {
        self.prompt = prompt
        self.options = options
    }
}

/// `Complete` parameters: the text before the gap (`prompt`) and after it (`suffix`).
public struct CompleteParameters: Codable, Sendable, Equatable {
    public var prompt: String
    public var suffix: String?
    public var options: SamplingOptions?

    public init(prompt: String, suffix: String? = nil, options: SamplingOptions? = nil) {
        self.prompt = prompt
        self.suffix = suffix
        self.options = options
    }
}

/// A `Generate` reply: a chunk of text, or (last) the finish reason and usage.
public struct GenerateReply: Codable, Sendable, Equatable {
    public var text: String
    public var finishReason: String?
    public var usage: Usage?

    public init(text: String, finishReason: String? = nil, usage: Usage? = nil) {
        self.text = text
        self.finishReason = finishReason
        self.usage = usage
    }
}

/// `Chat` parameters.
public struct ChatParameters: Codable, Sendable, Equatable {
    public var messages: [Message]
    public var tools: [ToolDefinition]?
    public var options: SamplingOptions?
    /// "auto" (the default), "none", "required" (also La Plateforme's "any"), or a tool's name.
    public var toolChoice: String?

    public init(messages: [Message], tools: [ToolDefinition]? = nil, options: SamplingOptions? = nil, toolChoice: String? = nil) {
        self.messages = messages
        self.tools = tools
        self.options = options
        self.toolChoice = toolChoice
    }
}

/// A `Chat` reply.
public struct ChatReply: Codable, Sendable, Equatable {
    public var text: String
    /// The thinking (a streamed chunk of it, or all of it in a reply without `more`).
    public var reasoning: String?
    public var toolCalls: [ToolCall]?
    public var finishReason: String?
    public var usage: Usage?

    public init(text: String, reasoning: String? = nil, toolCalls: [ToolCall]? = nil, finishReason: String? = nil, usage: Usage? = nil) {
        self.text = text
        self.reasoning = reasoning
        self.toolCalls = toolCalls
        self.finishReason = finishReason
        self.usage = usage
    }
}

/// `Tokenize` parameters and reply.
public struct TokenizeParameters: Codable, Sendable, Equatable {
    public var text: String
    public var addSpecial: Bool?
    public var parseSpecial: Bool?

    public init(text: String, addSpecial: Bool? = nil, parseSpecial: Bool? = nil) {
        self.text = text
        self.addSpecial = addSpecial
        self.parseSpecial = parseSpecial
    }
}

public struct TokenizeReply: Codable, Sendable, Equatable {
    public var tokens: [Int]

    public init(tokens: [Int]) {
        self.tokens = tokens
    }
}

/// `Detokenize` parameters and reply.
public struct DetokenizeParameters: Codable, Sendable, Equatable {
    /// Token ids, each in `ParameterBounds.tokenID` once decoded.
    public var tokens: [Int]

    public init(tokens: [Int]) {
        self.tokens = tokens
    }

    private enum CodingKeys: String, CodingKey { case tokens }
    private struct Index: CodingKey {
        var intValue: Int?
        var stringValue: String { "\(intValue ?? 0)" }
        init(intValue: Int) { self.intValue = intValue }
        init?(stringValue: String) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var items = try c.nestedUnkeyedContainer(forKey: .tokens)
        var tokens: [Int] = []
        while !items.isAtEnd {
            let index = items.currentIndex
            let bounds = ParameterBounds.tokenID
            guard let value = try? items.decode(Int64.self), value >= Int64(bounds.lower), value <= Int64(bounds.upper) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: c.codingPath + [CodingKeys.tokens, Index(intValue: index)], debugDescription: "not a token id in \(bounds)"))
            }
            tokens.append(Int(value))
        }
        self.tokens = tokens
    }
}

public struct DetokenizeReply: Codable, Sendable, Equatable {
    public var text: String

    public init(text: String) {
        self.text = text
    }
}

/// `GetModel` reply.
public struct ModelReply: Codable, Sendable, Equatable {
    public var name: String
    public var architecture: String
    public var file: String
    public var fileBytes: Int
    public var contextLength: Int
    public var vocabularySize: Int
    public var chatFormat: String?
    /// Whether `Complete` works (the model has fill-in-the-middle tokens).
    public var fillInTheMiddle: Bool?
    /// The model's thinking tokens (`[THINK]`, `<think>`), if it has them: `Chat` splits its replies.
    public var reasoning: String?
    /// The vision projector's file, when one is loaded: `Chat` user messages may carry images.
    public var vision: String?

    public init(
        name: String, architecture: String, file: String, fileBytes: Int, contextLength: Int, vocabularySize: Int,
        chatFormat: String? = nil, fillInTheMiddle: Bool? = nil, reasoning: String? = nil, vision: String? = nil
    ) {
        self.vision = vision
        self.reasoning = reasoning
        self.name = name
        self.architecture = architecture
        self.file = file
        self.fileBytes = fileBytes
        self.contextLength = contextLength
        self.vocabularySize = vocabularySize
        self.chatFormat = chatFormat
        self.fillInTheMiddle = fillInTheMiddle
    }
}

/// `GetStatus` reply.
public struct StatusReply: Codable, Sendable, Equatable {
    public var state: String
    public var activeRequests: Int
    public var queuedRequests: Int
    /// Slots in all (sequences decoded side by side); `activeRequests` of them are busy.
    public var slots: Int?
    public var threads: Int
    public var memoryPlanBytes: Int
    public var memoryBudgetBytes: Int
    public var residentBytes: Int
    public var thermal: String?
    public var tokensPerSecond: Double?
    /// The share of tokens guessed ahead that were right, since the start (absent: none guessed).
    public var speculativeAcceptance: Double?
    /// A mixture of experts' expert weights, and how many of those bytes are resident now (absent for
    /// a dense model).
    public var expertBytes: Int?
    public var expertResidentBytes: Int?

    public init(state: String, activeRequests: Int, queuedRequests: Int, slots: Int? = nil, threads: Int, memoryPlanBytes: Int, memoryBudgetBytes: Int, residentBytes: Int, thermal: String? = nil, tokensPerSecond: Double? = nil, speculativeAcceptance: Double? = nil, expertBytes: Int? = nil, expertResidentBytes: Int? = nil) {
        self.expertBytes = expertBytes
        self.expertResidentBytes = expertResidentBytes
        self.speculativeAcceptance = speculativeAcceptance
        self.state = state
        self.slots = slots
        self.activeRequests = activeRequests
        self.queuedRequests = queuedRequests
        self.threads = threads
        self.memoryPlanBytes = memoryPlanBytes
        self.memoryBudgetBytes = memoryBudgetBytes
        self.residentBytes = residentBytes
        self.thermal = thermal
        self.tokensPerSecond = tokensPerSecond
    }
}

/// `org.varlink.service.GetInfo` reply.
public struct ServiceInfo: Codable, Sendable, Equatable {
    public var vendor: String
    public var product: String
    public var version: String
    public var url: String
    public var interfaces: [String]

    public init(vendor: String, product: String, version: String, url: String, interfaces: [String]) {
        self.vendor = vendor
        self.product = product
        self.version = version
        self.url = url
        self.interfaces = interfaces
    }
}

/// `org.varlink.service.GetInterfaceDescription` parameters and reply.
public struct InterfaceDescriptionParameters: Codable, Sendable, Equatable {
    public var interface: String

    public init(interface: String) {
        self.interface = interface
    }
}

public struct InterfaceDescriptionReply: Codable, Sendable, Equatable {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}
