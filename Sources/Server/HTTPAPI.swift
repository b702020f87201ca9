import Engine
import Foundation
import Logging
import Tokenization
import WireProtocol

/// The HTTP face's endpoints (OpenAI / La Plateforme shapes) over the same `InferenceService` as
/// Varlink: requests become Varlink calls (`OpenAIRequest`), so bounds, errors and the scheduler are
/// shared; answers go back as JSON or as server-sent events, one per detokenized chunk.
struct HTTPAPI: Sendable {
    let service: InferenceService
    let state: DaemonState

    /// How a response goes out: the head (status, content type), body pieces, the end. Each returns
    /// false once the client is gone.
    struct Writer: Sendable {
        var head: @Sendable (_ status: Int, _ contentType: String) async -> Bool
        var body: @Sendable (_ bytes: [UInt8]) async -> Bool
        var end: @Sendable () async -> Void
    }

    /// Answers one request.
    func handle(method: String, path: String, body: [UInt8], hungUp: Flag, writer: Writer) async {
        let route = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        do {
            switch (method, route) {
            case ("GET", "/health"), ("GET", "/v1/health"):
                let serving = state.phase == .serving
                await Self.json(writer, status: serving ? 200 : 503, .object(["status": .string(serving ? "ok" : state.phase.rawValue)]))
            case ("GET", "/v1/models"):
                let model = service.modelReply
                await Self.json(
                    writer, status: 200,
                    .object([
                        "object": "list",
                        "data": .array([
                            .object([
                                "id": .string(model.name), "object": "model", "created": 0, "owned_by": "brise",
                                "max_context_length": .int(Int64(model.contextLength)),
                            ])
                        ]),
                    ]))
            case ("POST", "/v1/chat/completions"):
                try await answer(OpenAIRequest(.chat, body: body), hungUp: hungUp, writer: writer)
            case ("POST", "/v1/completions"):
                try await answer(OpenAIRequest(.completion, body: body), hungUp: hungUp, writer: writer)
            case ("POST", "/v1/fim/completions"):
                try await answer(OpenAIRequest(.fim, body: body), hungUp: hungUp, writer: writer)
            case ("GET", "/metrics"):
                let status = service.status
                let body = service.metrics.scrape(status: status, contextLength: service.modelReply.contextLength, pacer: service.pacer)
                guard await writer.head(200, "text/plain; version=0.0.4; charset=utf-8") else { return }
                _ = await writer.body(body)
                await writer.end()
            case ("POST", "/tokenize"):
                // llama-server's shape: {"content", "add_special"} → {"tokens"}.
                let call = try Self.call(.tokenize, body, rename: ["content": "text"], allowed: ["content", "add_special", "parse_special"])
                await Self.json(writer, status: 200, .object(["tokens": .array(try service.builder.tokenize(call).tokens.map { .int(Int64($0)) })]))
            case ("POST", "/detokenize"):
                // {"tokens"} → {"content"}.
                let call = try Self.call(.detokenize, body, rename: [:], allowed: ["tokens"])
                await Self.json(writer, status: 200, .object(["content": .string(try service.builder.detokenize(call).text)]))
            case (_, "/health"), (_, "/v1/health"), (_, "/v1/models"), (_, "/v1/chat/completions"), (_, "/v1/completions"),
                (_, "/v1/fim/completions"), (_, "/tokenize"), (_, "/detokenize"), (_, "/metrics"):
                throw HTTPError(status: 405, type: "invalid_request_error", message: "\(method) is not allowed on \(route)", code: "method_not_allowed")
            default:
                throw HTTPError(status: 404, type: "invalid_request_error", message: "no endpoint \(route)", code: "not_found")
            }
        } catch let error as HTTPError {
            if route.hasPrefix("/v1/") && method == "POST" { service.metrics.request(method: "http.\(route)", result: error.code ?? "http_\(error.status)") }
            await Self.json(writer, status: error.status, error.body)
        } catch let error as WireError {
            if route.hasPrefix("/v1/") { service.metrics.request(method: "http.\(route)", result: HTTPError(error).code ?? "error") }
            await Self.json(writer, status: HTTPError(error).status, HTTPError(error).body)
        } catch {
            await Self.json(writer, status: 500, HTTPError(status: 500, type: "server_error", message: "\(error)").body)
        }
    }

    // MARK: - Generation

    /// Runs the request and answers it, whole or as events.
    private func answer(_ request: OpenAIRequest, hungUp: Flag, writer: Writer) async throws {
        guard state.phase != .stopping else { throw WireError.shuttingDown }
        let builder = service.builder
        let seed = { UInt64.random(in: 0...UInt64.max) }
        let generation: GenerationRequest
        var tools: [Tokenization.ToolDefinition] = []
        switch request.call.method {
        case InferenceInterface.Method.chat.qualifiedName:
            let built = try builder.chat(request.call, randomSeed: seed)
            generation = built.request
            tools = built.tools
        case InferenceInterface.Method.complete.qualifiedName:
            generation = try builder.complete(request.call, randomSeed: seed)
        default:
            generation = try builder.generate(request.call, randomSeed: seed)
        }
        let id = (request.endpoint == .completion ? "cmpl-" : "chatcmpl-") + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let created = Int64(Date().timeIntervalSince1970)
        let model = service.modelReply.name
        let chatShape = request.endpoint != .completion
        // A stream's head goes out before the first token, so a client sees the response start at once.
        var started = false
        if request.stream {
            started = true
            guard await writer.head(200, "text/event-stream") else { return hungUp.set() }
            if chatShape {
                let first = Self.chunk(id, created, model, delta: .object(["role": "assistant", "content": ""]), finish: nil)
                guard await writer.body(Self.event(first)) else { return hungUp.set() }
            }
        }
        let result: (GenerationOutcome, Usage, String, String)?
        do {
            result = try await service.run(generation, method: "http.\(request.call.method.split(separator: ".").last ?? "")", hungUp: hungUp) { output in
                guard request.stream else { return true }
                let chunk: WireJSON
                switch output {
                case .text(let text):
                    chunk = chatShape
                        ? Self.chunk(id, created, model, delta: .object(["content": .string(text)]), finish: nil)
                        : Self.completionChunk(id, created, model, text: text, finish: nil)
                case .reasoning(let text):
                    // llama-server's and vLLM's delta field for the thinking.
                    guard chatShape else { return true }
                    chunk = Self.chunk(id, created, model, delta: .object(["reasoning_content": .string(text)]), finish: nil)
                case .token:
                    return true
                }
                return await writer.body(Self.event(chunk))
            }
        } catch let error as WireError where started {
            // The head is sent: the error becomes the stream's last event.
            _ = await writer.body(Self.event(HTTPError(error).body))
            await writer.end()
            return
        }
        guard let (outcome, usage, text, thought) = result else { return }
        var content = text
        var reasoning: String? = generation.reasoning != nil && !thought.isEmpty ? thought : nil
        var finish = outcome.finishReason.rawValue
        var calls: [WireJSON] = []
        if !tools.isEmpty, let encoder = service.chatEncoder,
            let parsed = InferenceService.toolCalls(
                in: outcome.generated, text: text, encoder: encoder, tools: tools, startsInThinking: generation.reasoning?.startsInside ?? false)
        {
            content = parsed.content
            if generation.reasoning != nil { reasoning = parsed.reasoning.flatMap { $0.isEmpty ? nil : $0 } }
            finish = "tool_calls"
            calls = parsed.calls.enumerated().map { index, call in
                let arguments = (try? JSONEncoder().encode(InferenceService.wireJSON(call.arguments))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
                return .object([
                    "index": .int(Int64(index)), "id": .string(call.id ?? "call_\(index)"), "type": "function",
                    "function": .object(["name": .string(call.name), "arguments": .string(arguments)]),
                ])
            }
        }
        var usageFields: [String: WireJSON] = [
            "prompt_tokens": .int(Int64(usage.promptTokens)), "completion_tokens": .int(Int64(usage.generatedTokens)),
            "total_tokens": .int(Int64(usage.promptTokens + usage.generatedTokens)),
            "prompt_tokens_details": .object(["cached_tokens": .int(Int64(usage.cachedTokens))]),
        ]
        if let thinking = usage.reasoningTokens {
            usageFields["completion_tokens_details"] = .object(["reasoning_tokens": .int(Int64(thinking))])
        }
        let usageJSON: WireJSON = .object(usageFields)
        if request.stream {
            var delta: [String: WireJSON] = [:]
            if !calls.isEmpty { delta["tool_calls"] = .array(calls) }
            let last = chatShape
                ? Self.chunk(id, created, model, delta: .object(delta), finish: finish)
                : Self.completionChunk(id, created, model, text: "", finish: finish)
            _ = await writer.body(Self.event(last))
            if request.includeUsage {
                var usageChunk = chatShape ? Self.chunk(id, created, model, delta: nil, finish: nil) : Self.completionChunk(id, created, model, text: nil, finish: nil)
                if case .object(var o) = usageChunk {
                    o["choices"] = .array([])
                    o["usage"] = usageJSON
                    usageChunk = .object(o)
                }
                _ = await writer.body(Self.event(usageChunk))
            }
            _ = await writer.body(Array("data: [DONE]\n\n".utf8))
            await writer.end()
            return
        }
        let choice: WireJSON
        if chatShape {
            var message: [String: WireJSON] = ["role": "assistant", "content": .string(content)]
            if let reasoning { message["reasoning_content"] = .string(reasoning) }
            if !calls.isEmpty { message["tool_calls"] = .array(calls.map(Self.droppingIndex)) }
            choice = .object(["index": 0, "message": .object(message), "finish_reason": .string(finish), "logprobs": .null])
        } else {
            choice = .object(["index": 0, "text": .string(content), "finish_reason": .string(finish), "logprobs": .null])
        }
        await Self.json(
            writer, status: 200,
            .object([
                "id": .string(id), "object": .string(chatShape ? "chat.completion" : "text_completion"), "created": .int(created),
                "model": .string(model), "choices": .array([choice]), "usage": usageJSON,
            ]))
    }

    private static func droppingIndex(_ call: WireJSON) -> WireJSON {
        guard case .object(var o) = call else { return call }
        o.removeValue(forKey: "index")
        return .object(o)
    }

    private static func chunk(_ id: String, _ created: Int64, _ model: String, delta: WireJSON?, finish: String?) -> WireJSON {
        var choice: [String: WireJSON] = ["index": 0, "finish_reason": finish.map(WireJSON.string) ?? .null, "logprobs": .null]
        if let delta { choice["delta"] = delta }
        return .object([
            "id": .string(id), "object": "chat.completion.chunk", "created": .int(created), "model": .string(model),
            "choices": .array(delta == nil ? [] : [.object(choice)]),
        ])
    }

    private static func completionChunk(_ id: String, _ created: Int64, _ model: String, text: String?, finish: String?) -> WireJSON {
        .object([
            "id": .string(id), "object": "text_completion", "created": .int(created), "model": .string(model),
            "choices": .array(
                text.map { [.object(["index": 0, "text": .string($0), "finish_reason": finish.map(WireJSON.string) ?? .null, "logprobs": .null])] }
                    ?? []),
        ])
    }

    /// A body of plain fields as the Varlink call `method` (fields renamed to the wire's names);
    /// a field not in `allowed` is refused.
    private static func call(_ method: InferenceInterface.Method, _ body: [UInt8], rename: [String: String], allowed: Set<String>) throws -> VarlinkCall {
        guard case .object(let fields)? = try? JSONDecoder().decode(WireJSON.self, from: Data(body)) else {
            throw HTTPError.invalid(nil, "the body is not a JSON object")
        }
        var parameters: [String: WireJSON] = [:]
        for (key, value) in fields {
            guard allowed.contains(key) else { throw HTTPError.invalid(key, "\(key): not supported by brised") }
            parameters[rename[key] ?? key] = value
        }
        let envelope: WireJSON = .object(["method": .string(method.qualifiedName), "parameters": .object(parameters)])
        return try VarlinkCall(bytes: encode(envelope))
    }

    // MARK: - Encoding

    static func encode(_ value: WireJSON) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    private static func event(_ value: WireJSON) -> [UInt8] {
        Array("data: ".utf8) + encode(value) + Array("\n\n".utf8)
    }

    static func json(_ writer: Writer, status: Int, _ value: WireJSON) async {
        guard await writer.head(status, "application/json") else { return }
        _ = await writer.body(encode(value))
        await writer.end()
    }
}
