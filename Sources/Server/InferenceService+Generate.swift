import Engine
import Foundation
import Logging
import Model
import Sampling
import Synchronization
import Tokenization
import WireProtocol

extension InferenceService {
    /// `Generate`: the prompt as plain text (BOS added as the model wants), continued.
    func generate(_ call: VarlinkCall, hungUp: Flag, send: @escaping Send) async throws {
        let parameters = try call.parameters(GenerateParameters.self)
        let tokenizer = try requireTokenizerForGeneration()
        let prompt = tokenizer.encode(parameters.prompt, addSpecial: true)
        let (sampling, maxTokens, stop) = try sampling(parameters.options, promptTokens: prompt.count)
        let request = GenerationRequest(prompt: prompt, sampling: sampling, maxTokens: maxTokens, stop: stop)
        let result = try await run(request, method: "Generate", hungUp: hungUp) { chunk in
            call.more ? await send(VarlinkReply.encode(GenerateReply(text: chunk), continues: true)) : true
        }
        guard let (outcome, usage, text) = result else { return }
        let final = GenerateReply(text: call.more ? "" : text, finishReason: outcome.finishReason.rawValue, usage: usage)
        _ = await send(VarlinkReply.encode(final))
    }

    /// `Chat`: the messages through the model's chat template; tool calls parsed from the answer.
    func chat(_ call: VarlinkCall, hungUp: Flag, send: @escaping Send) async throws {
        let parameters = try call.parameters(ChatParameters.self)
        _ = try requireTokenizerForGeneration()
        guard let encoder = chatEncoder else {
            throw WireError.invalidParameter(parameter: "messages", reason: "the model has no chat format Brise knows; use Generate")
        }
        guard !parameters.messages.isEmpty else {
            throw WireError.invalidParameter(parameter: "messages", reason: "at least one message is needed")
        }
        // Codable loses the order of keys in JSON objects; tool schemas and arguments are rendered into
        // the prompt, so take them from an order-keeping parse of the same message.
        let ordered = try? ChatJSON(parsing: String(decoding: call.bytes, as: UTF8.self))
        let orderedParameters = ordered?["parameters"]
        var messages: [ChatMessage] = []
        for (index, message) in parameters.messages.enumerated() {
            guard let role = ChatMessage.Role(rawValue: message.role) else {
                throw WireError.invalidParameter(
                    parameter: "messages[\(index)].role", reason: "\"\(message.role)\" is not system, user, assistant or tool")
            }
            let orderedCalls = Self.element(orderedParameters?["messages"], index)?["tool_calls"]
            let calls = (message.toolCalls ?? []).enumerated().map { callIndex, toolCall in
                ToolCall(
                    name: toolCall.name,
                    arguments: Self.element(orderedCalls, callIndex)?["arguments"] ?? Self.chatJSON(toolCall.arguments),
                    id: toolCall.id)
            }
            messages.append(ChatMessage(role, message.content, toolCalls: calls, toolCallID: message.toolCallId))
        }
        let tools = (parameters.tools ?? []).enumerated().map { index, tool in
            Tokenization.ToolDefinition(
                name: tool.name, description: tool.description,
                parameters: Self.element(orderedParameters?["tools"], index)?["parameters"] ?? Self.chatJSON(tool.parameters))
        }
        let prompt: [TokenID]
        do {
            prompt = try encoder.encode(messages, tools: tools)
        } catch let error as TokenizerError {
            throw WireError.invalidParameter(parameter: "messages", reason: error.message)
        }
        let (sampling, maxTokens, stop) = try sampling(parameters.options, promptTokens: prompt.count)
        let request = GenerationRequest(prompt: prompt, sampling: sampling, maxTokens: maxTokens, stop: stop)
        let result = try await run(request, method: "Chat", hungUp: hungUp) { chunk in
            call.more ? await send(VarlinkReply.encode(WireProtocol.ChatReply(text: chunk), continues: true)) : true
        }
        guard let (outcome, usage, text) = result else { return }
        var reply = WireProtocol.ChatReply(text: call.more ? "" : text, finishReason: outcome.finishReason.rawValue, usage: usage)
        if !tools.isEmpty, let parsed = Self.toolCalls(in: outcome.generated, text: text, encoder: encoder, tools: tools) {
            reply.toolCalls = parsed.calls.map {
                WireProtocol.ToolCall(id: $0.id, name: $0.name, arguments: Self.wireJSON($0.arguments))
            }
            reply.finishReason = "tool_calls"
            if !call.more { reply.text = parsed.content }
        }
        _ = await send(VarlinkReply.encode(reply))
    }

    private func requireTokenizerForGeneration() throws(WireError) -> Tokenizer {
        guard state.phase != .stopping else { throw .shuttingDown }
        guard let tokenizer = context.loaded.tokenizer else {
            throw WireError.invalidParameter(parameter: "model", reason: "the model file has no vocabulary")
        }
        return tokenizer
    }

    /// Runs a generation when it is this request's turn, passing text chunks to `emit` as they come.
    ///
    /// - Returns: The outcome and usage, or nil when the client hung up (nothing more to send).
    /// - Throws: `WireError`: `.contextOverflow` (before queueing), `.busy`, `.timeout`, `.shuttingDown`.
    private func run(
        _ request: GenerationRequest, method: String, hungUp: Flag, emit: @escaping @Sendable (String) async -> Bool
    ) async throws -> (GenerationOutcome, Usage, String)? {
        let contextLength = context.contextLength
        guard request.prompt.count + request.maxTokens <= contextLength else {
            throw WireError.contextOverflow(promptTokens: request.prompt.count, maxTokens: request.maxTokens, contextLength: contextLength)
        }
        let queueWait = Duration.milliseconds(Int64(configuration.maxQueueWaitSeconds * 1000))
        let requestLimit = Duration.milliseconds(Int64(configuration.maxRequestSeconds * 1000))
        return try await queue.withTurn(timeout: queueWait) { () async throws -> (GenerationOutcome, Usage, String)? in
            guard state.phase != .stopping else { throw WireError.shuttingDown }
            if hungUp.isSet { return nil }
            let deadline = ContinuousClock.now.advanced(by: requestLimit)
            let timedOut = Flag()
            let (chunks, continuation) = AsyncStream<String>.makeStream()
            let context = self.context
            let pacer = self.pacer
            let state = self.state
            let modelThread = self.modelThread
            state.setGenerating(true)
            defer { state.setGenerating(false) }
            let (outcome, text) = try await Self.mappingErrors(thermalWait: configuration.thermalMaxWaitSeconds) {
              try await withThrowingTaskGroup(of: Part.self) { group in
                group.addTask {
                    defer { continuation.finish() }
                    return .outcome(try await modelThread.run {
                        try context.generate(
                            request, pacer: pacer,
                            shouldStop: {
                                modelThread.beat()
                                if hungUp.isSet || state.shutdownDeadlinePassed { return true }
                                if ContinuousClock.now >= deadline {
                                    timedOut.set()
                                    return true
                                }
                                return false
                            },
                            emit: { output in
                                if case .text(let text) = output { continuation.yield(text) }
                            })
                    })
                }
                group.addTask {
                    var text = ""
                    for await chunk in chunks {
                        text += chunk
                        // A failed write means the client is gone: stop generating.
                        if !(await emit(chunk)) { hungUp.set() }
                    }
                    return .text(text)
                }
                var outcome: GenerationOutcome?
                var text = ""
                for try await part in group {
                    switch part {
                    case .outcome(let value): outcome = value
                    case .text(let value): text = value
                    }
                }
                guard let outcome else { throw CancellationError() }
                return (outcome, text)
              }
            }
            let tokensPerSecond = outcome.generated.count > 1 && outcome.generationSeconds > 0
                ? Double(outcome.generated.count) / outcome.generationSeconds : nil
            state.recordFinished(tokensPerSecond: tokensPerSecond)
            logger.info(
                "\(method) finished",
                metadata: [
                    "finish": "\(outcome.finishReason.rawValue)", "prompt_tokens": "\(outcome.promptTokens)",
                    "cached_tokens": "\(outcome.cachedTokens)", "generated_tokens": "\(outcome.generated.count)",
                    "tokens_per_second": "\(tokensPerSecond.map { String(format: "%.2f", $0) } ?? "-")",
                    "hung_up": "\(hungUp.isSet)",
                ])
            if hungUp.isSet { return nil }
            if outcome.finishReason == .cancelled {
                if timedOut.isSet {
                    throw WireError.timeout(seconds: configuration.maxRequestSeconds, reason: "the request ran longer than allowed")
                }
                throw WireError.shuttingDown
            }
            let usage = Usage(
                promptTokens: outcome.promptTokens, cachedTokens: outcome.cachedTokens, generatedTokens: outcome.generated.count,
                promptSeconds: outcome.promptSeconds, generationSeconds: outcome.generationSeconds)
            return (outcome, usage, text)
        }
    }

    /// Engine errors as the wire's: a thermal pause that lasted too long is a `Timeout`; a bad token
    /// or a context problem an `InvalidParameter`.
    private static func mappingErrors<T>(thermalWait: Double, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ThermalError {
            throw WireError.timeout(seconds: thermalWait, reason: error.description)
        } catch let error as ModelError {
            throw WireError.invalidParameter(parameter: "prompt", reason: error.description)
        }
    }

    private enum Part: Sendable {
        case outcome(GenerationOutcome)
        case text(String)
    }

    /// The calls in an answer: the format's own markers (ToolCallParser), or — small models often
    /// drop ChatML's `<tool_call>` tags — an answer that is nothing but `{"name": <one of the tools>,
    /// "arguments": {…}}`.
    static func toolCalls(in ids: [TokenID], text: String, encoder: ChatEncoder, tools: [Tokenization.ToolDefinition])
        -> ToolCallParser.Result?
    {
        if let parsed = try? ToolCallParser(encoder: encoder).parse(ids), !parsed.calls.isEmpty { return parsed }
        guard encoder.format == .chatML, let json = try? ChatJSON(parsing: text),
            case .string(let name)? = json["name"], tools.contains(where: { $0.name == name }),
            let arguments = json["arguments"], case .object = arguments
        else { return nil }
        return ToolCallParser.Result(content: "", calls: [ToolCall(name: name, arguments: arguments)])
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

    static func wireJSON(_ value: ChatJSON) -> WireJSON {
        switch value {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int(let i): .int(Int64(i))
        case .double(let d): .double(d)
        case .string(let s): .string(s)
        case .array(let items): .array(items.map(wireJSON))
        case .object(let pairs): .object(Dictionary(pairs.map { ($0.key, wireJSON($0.value)) }, uniquingKeysWith: { $1 }))
        }
    }
}
