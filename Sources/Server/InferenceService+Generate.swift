import Engine
import Foundation
import Logging
import Synchronization
import Tokenization
import WireProtocol

extension InferenceService {
    /// `Generate`: the prompt as plain text (BOS added as the model wants), continued.
    func generate(_ call: VarlinkCall, hungUp: Flag, send: @escaping Send) async throws {
        try requireServing()
        try await stream(builder.generate(call, randomSeed: randomSeed), call, method: "Generate", hungUp: hungUp, send: send)
    }

    /// `Complete`: the code between a prefix and a suffix (fill in the middle), streamed as Generate.
    func complete(_ call: VarlinkCall, hungUp: Flag, send: @escaping Send) async throws {
        try requireServing()
        try await stream(builder.complete(call, randomSeed: randomSeed), call, method: "Complete", hungUp: hungUp, send: send)
    }

    /// Runs a plain-text request and replies as `Generate` does: chunks with `more`, then the finish
    /// reason and usage (and the whole text without `more`).
    private func stream(_ request: GenerationRequest, _ call: VarlinkCall, method: String, hungUp: Flag, send: @escaping Send) async throws {
        let result = try await run(request, method: method, hungUp: hungUp) { output in
            guard call.more, case .text(let chunk) = output else { return true }
            return await send(VarlinkReply.encode(GenerateReply(text: chunk), continues: true))
        }
        guard let (outcome, usage, text, _) = result else { return }
        let final = GenerateReply(text: call.more ? "" : text, finishReason: outcome.finishReason.rawValue, usage: usage)
        _ = await send(VarlinkReply.encode(final))
    }

    /// `Chat`: the messages through the model's chat template; tool calls parsed from the answer.
    func chat(_ call: VarlinkCall, hungUp: Flag, send: @escaping Send) async throws {
        try requireServing()
        let built = try builder.chat(call, randomSeed: randomSeed)
        let tools = built.tools
        let result = try await run(built.request, method: "Chat", hungUp: hungUp) { output in
            guard call.more else { return true }
            switch output {
            case .text(let chunk): return await send(VarlinkReply.encode(WireProtocol.ChatReply(text: chunk), continues: true))
            case .reasoning(let chunk):
                return await send(VarlinkReply.encode(WireProtocol.ChatReply(text: "", reasoning: chunk), continues: true))
            case .token: return true
            }
        }
        guard let (outcome, usage, text, reasoning) = result else { return }
        let split = built.request.reasoning != nil
        var reply = WireProtocol.ChatReply(
            text: call.more ? "" : text, reasoning: call.more || !split ? nil : reasoning, finishReason: outcome.finishReason.rawValue,
            usage: usage)
        if !tools.isEmpty, let encoder = chatEncoder,
            let parsed = Self.toolCalls(
                in: outcome.generated, text: text, encoder: encoder, tools: tools, startsInThinking: built.request.reasoning?.startsInside ?? false)
        {
            reply.toolCalls = parsed.calls.map {
                WireProtocol.ToolCall(id: $0.id, name: $0.name, arguments: Self.wireJSON($0.arguments))
            }
            reply.finishReason = "tool_calls"
            if !call.more {
                reply.text = parsed.content
                if split { reply.reasoning = parsed.reasoning ?? "" }
            }
        }
        _ = await send(VarlinkReply.encode(reply))
    }

    private func requireServing() throws(WireError) {
        guard state.phase != .stopping else { throw .shuttingDown }
    }

    /// Submits a generation to the engine and passes its text chunks to `emit` as they come. A client
    /// that hangs up (a failed write, or the connection closing) cancels it: it leaves the queue, or
    /// its sequence ends within one step.
    ///
    /// - Returns: The outcome, usage, whole text and whole reasoning, or nil when the client hung up
    ///   (nothing more to send).
    /// - Throws: `WireError` mapped from the engine's `EngineError` (`Busy`, `Timeout`, `ShuttingDown`, …).
    func run(
        _ request: GenerationRequest, method: String, hungUp: Flag, emit: @escaping @Sendable (GenerationOutput) async -> Bool
    ) async throws -> (GenerationOutcome, Usage, String, String)? {
        let engine = self.engine
        let consumed: (GenerationOutcome?, String, String)
        do {
            consumed = try await withThrowingTaskGroup(of: (GenerationOutcome?, String, String)?.self) { group in
                group.addTask {
                    var text = ""
                    var reasoning = ""
                    var outcome: GenerationOutcome?
                    for try await event in engine.submit(request) {
                        switch event {
                        case .output(let output):
                            switch output {
                            case .text(let chunk): text += chunk
                            case .reasoning(let chunk): reasoning += chunk
                            case .token: continue
                            }
                            // A failed write means the client is gone: leaving the loop cancels the request.
                            if !(await emit(output)) {
                                hungUp.set()
                                return (nil, text, reasoning)
                            }
                        case .finished(let value):
                            outcome = value
                        }
                    }
                    return (outcome, text, reasoning)
                }
                // The connection sets the flag when the client closes it: stop waiting for (or
                // generating) an answer nobody reads.
                group.addTask {
                    while !hungUp.isSet { try await Task.sleep(for: .milliseconds(50)) }
                    return nil
                }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let next { return next }
                    return (nil, "", "")
                }
                return (nil, "", "")
            }
        } catch let error as EngineError {
            let wire = WireError(error)
            metrics.request(method: method, result: ServiceMetrics.result(wire))
            throw wire
        }
        guard let outcome = consumed.0, !hungUp.isSet else {
            logger.info("\(method) cancelled: the client hung up")
            metrics.request(method: method, result: "cancelled")
            return nil
        }
        let text = consumed.1
        let tokensPerSecond = outcome.generated.count > 1 && outcome.generationSeconds > 0
            ? Double(outcome.generated.count) / outcome.generationSeconds : nil
        state.recordFinished()
        logger.info(
            "\(method) finished",
            metadata: [
                "finish": "\(outcome.finishReason.rawValue)", "prompt_tokens": "\(outcome.promptTokens)",
                "cached_tokens": "\(outcome.cachedTokens)", "generated_tokens": "\(outcome.generated.count)",
                "tokens_per_second": "\(tokensPerSecond.map { String(format: "%.2f", $0) } ?? "-")",
                "drafted_tokens": "\(outcome.draftedTokens)", "accepted_tokens": "\(outcome.acceptedTokens)",
            ])
        let speculated = request.speculative != .off
        let usage = Usage(
            promptTokens: outcome.promptTokens, cachedTokens: outcome.cachedTokens, generatedTokens: outcome.generated.count,
            promptSeconds: outcome.promptSeconds, generationSeconds: outcome.generationSeconds,
            draftedTokens: speculated ? outcome.draftedTokens : nil, acceptedTokens: speculated ? outcome.acceptedTokens : nil,
            reasoningTokens: request.reasoning != nil ? outcome.reasoningTokens : nil)
        metrics.request(method: method, result: "ok")
        metrics.finished(usage)
        return (outcome, usage, text, consumed.2)
    }

    /// The calls in an answer: the format's own markers (ToolCallParser), or — small models often
    /// drop ChatML's `<tool_call>` tags — an answer that is nothing but `{"name": <one of the tools>,
    /// "arguments": {…}}`.
    static func toolCalls(
        in ids: [TokenID], text: String, encoder: ChatEncoder, tools: [Tokenization.ToolDefinition], startsInThinking: Bool = false
    ) -> ToolCallParser.Result? {
        if let parsed = try? ToolCallParser(encoder: encoder).parse(ids, startsInThinking: startsInThinking), !parsed.calls.isEmpty {
            return parsed
        }
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
