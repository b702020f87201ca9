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
        try requireServing()
        let request = try builder.generate(call, randomSeed: randomSeed)
        let result = try await run(request, method: "Generate", hungUp: hungUp) { chunk in
            call.more ? await send(VarlinkReply.encode(GenerateReply(text: chunk), continues: true)) : true
        }
        guard let (outcome, usage, text) = result else { return }
        let final = GenerateReply(text: call.more ? "" : text, finishReason: outcome.finishReason.rawValue, usage: usage)
        _ = await send(VarlinkReply.encode(final))
    }

    /// `Chat`: the messages through the model's chat template; tool calls parsed from the answer.
    func chat(_ call: VarlinkCall, hungUp: Flag, send: @escaping Send) async throws {
        try requireServing()
        let built = try builder.chat(call, randomSeed: randomSeed)
        let tools = built.tools
        let result = try await run(built.request, method: "Chat", hungUp: hungUp) { chunk in
            call.more ? await send(VarlinkReply.encode(WireProtocol.ChatReply(text: chunk), continues: true)) : true
        }
        guard let (outcome, usage, text) = result else { return }
        var reply = WireProtocol.ChatReply(text: call.more ? "" : text, finishReason: outcome.finishReason.rawValue, usage: usage)
        if !tools.isEmpty, let encoder = chatEncoder, let parsed = Self.toolCalls(in: outcome.generated, text: text, encoder: encoder, tools: tools) {
            reply.toolCalls = parsed.calls.map {
                WireProtocol.ToolCall(id: $0.id, name: $0.name, arguments: Self.wireJSON($0.arguments))
            }
            reply.finishReason = "tool_calls"
            if !call.more { reply.text = parsed.content }
        }
        _ = await send(VarlinkReply.encode(reply))
    }

    private func requireServing() throws(WireError) {
        guard state.phase != .stopping else { throw .shuttingDown }
    }

    /// Runs a generation when it is this request's turn, passing text chunks to `emit` as they come.
    ///
    /// - Returns: The outcome and usage, or nil when the client hung up (nothing more to send).
    /// - Throws: `WireError`: `.busy`, `.timeout`, `.shuttingDown` (the builder checked the context).
    private func run(
        _ request: GenerationRequest, method: String, hungUp: Flag, emit: @escaping @Sendable (String) async -> Bool
    ) async throws -> (GenerationOutcome, Usage, String)? {
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
