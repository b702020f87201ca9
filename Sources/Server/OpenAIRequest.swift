import Foundation
import Tokenization
package import WireProtocol

/// An HTTP error in the OpenAI / La Plateforme shape: `{"error": {"message", "type", "param", "code"}}`.
package struct HTTPError: Error, Sendable, Equatable {
    package var status: Int
    var type: String
    var message: String
    var param: String?
    var code: String?

    static func invalid(_ param: String?, _ message: String) -> HTTPError {
        HTTPError(status: 400, type: "invalid_request_error", message: message, param: param, code: "invalid_parameter")
    }

    /// The Varlink error, as the HTTP face reports it (one mapping for every endpoint).
    init(_ error: WireError) {
        switch error {
        case .invalidParameter(let parameter, let reason):
            // The HTTP bodies put the sampling options at the top level.
            let param = parameter.hasPrefix("options.") ? String(parameter.dropFirst("options.".count)) : parameter
            self = .invalid(param, "\(param): \(reason)")
        case .contextOverflow(let prompt, let maxTokens, let context):
            self = HTTPError(
                status: 400, type: "invalid_request_error",
                message: "the prompt (\(prompt) tokens) and max_tokens (\(maxTokens)) exceed the context of \(context) tokens",
                param: "max_tokens", code: "context_length_exceeded")
        case .busy(let queued, let limit):
            self = HTTPError(status: 429, type: "rate_limit_error", message: "brised is busy: \(queued) requests waiting (limit \(limit))", code: "busy")
        case .permissionDenied(let uid, let gid):
            self = HTTPError(status: 403, type: "permission_error", message: "uid \(uid) (gid \(gid)) may not use brised", code: "permission_denied")
        case .shuttingDown:
            self = HTTPError(status: 503, type: "server_error", message: "brised is shutting down", code: "shutting_down")
        case .timeout(let seconds, let reason):
            self = HTTPError(status: 504, type: "timeout_error", message: "timed out after \(seconds) s: \(reason)", code: "timeout")
        default:
            self = HTTPError(status: 400, type: "invalid_request_error", message: "\(error)", code: "invalid_request")
        }
    }

    init(status: Int, type: String, message: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.type = type
        self.message = message
        self.param = param
        self.code = code
    }

    package var body: WireJSON {
        .object([
            "error": .object([
                "message": .string(message), "type": .string(type), "param": param.map(WireJSON.string) ?? .null,
                "code": code.map(WireJSON.string) ?? .null,
            ])
        ])
    }
}

/// An OpenAI / La Plateforme request body turned into the Varlink call `InferenceService` checks and
/// serves, so both faces share every bound, error and the engine: `/v1/chat/completions` → `Chat`,
/// `/v1/completions` → `Generate` (with a `suffix`: `Complete`), `/v1/fim/completions` → `Complete`.
package struct OpenAIRequest: Sendable {
    package enum Endpoint: Sendable, CaseIterable {
        case chat, completion, fim
    }

    /// The call, ready for the request builder.
    package var call: VarlinkCall
    package var endpoint: Endpoint
    /// The answer as server-sent events.
    var stream: Bool
    /// `stream_options.include_usage`: a last event with the usage.
    var includeUsage: Bool

    /// Fields honoured as sampling options (their wire names match OpenAI's), and the aliases.
    /// `reasoning` ("on"/"off") and `reasoning_budget` are Brise's, as on the Varlink face.
    static let optionFields = [
        "temperature", "top_p", "max_tokens", "stop", "seed", "presence_penalty", "frequency_penalty", "top_k", "min_p", "reasoning",
        "reasoning_budget",
    ]

    /// Fields accepted and ignored: they do not change the answer (`model`: brised serves one; `user`,
    /// `metadata`, `store`: bookkeeping; `safe_prompt` is Mistral's, `parallel_tool_calls` the default).
    static let ignoredFields = ["model", "user", "metadata", "store", "safe_prompt", "parallel_tool_calls", "service_tier", "prediction"]

    /// - Throws: `HTTPError` 400 naming the field for a body that is not a JSON object, a field of the
    ///   wrong type or a field Brise does not support (`n` > 1, `logprobs`, `response_format` other
    ///   than text, …): refused, never silently ignored.
    package init(_ endpoint: Endpoint, body: [UInt8]) throws(HTTPError) {
        self.endpoint = endpoint
        let parsed: WireJSON
        do {
            parsed = try JSONDecoder().decode(WireJSON.self, from: Data(body))
        } catch {
            throw .invalid(nil, "the body is not JSON (or nests deeper than 512)")
        }
        guard case .object(var fields) = parsed else { throw .invalid(nil, "the body is not a JSON object") }

        stream = try Self.bool(fields.removeValue(forKey: "stream"), "stream") ?? false
        includeUsage = false
        if let options = fields.removeValue(forKey: "stream_options") {
            guard case .object(let o) = options else { throw .invalid("stream_options", "stream_options: expected an object") }
            includeUsage = try Self.bool(o["include_usage"], "stream_options.include_usage") ?? false
        }
        if let n = fields.removeValue(forKey: "n"), n != .int(1) { throw .invalid("n", "n: only 1 choice is supported") }
        var options: [String: WireJSON] = [:]
        if let format = fields.removeValue(forKey: "response_format"), format != .null {
            guard case .object(let f) = format, case .string(let type)? = f["type"] else {
                throw .invalid("response_format", "response_format: expected {\"type\": \"text\" | \"json_object\" | \"json_schema\", …}")
            }
            if type != "text" { options["response_format"] = format }
        }
        for name in Self.optionFields {
            if let value = fields.removeValue(forKey: name) { options[name] = value }
        }
        if let tokens = fields.removeValue(forKey: "max_completion_tokens") {
            guard options["max_tokens"] == nil else { throw .invalid("max_completion_tokens", "max_completion_tokens: give it or max_tokens, not both") }
            options["max_tokens"] = tokens
        }
        if let seed = fields.removeValue(forKey: "random_seed") {
            guard options["seed"] == nil else { throw .invalid("random_seed", "random_seed: give it or seed, not both") }
            options["seed"] = seed
        }
        if case .string(let stop)? = options["stop"] { options["stop"] = .array([.string(stop)]) }
        for name in Self.ignoredFields { fields.removeValue(forKey: name) }

        var parameters: [String: WireJSON] = ["options": .object(options)]
        let method: InferenceInterface.Method
        switch endpoint {
        case .chat:
            method = .chat
            guard case .array(let messages)? = fields.removeValue(forKey: "messages") else {
                throw .invalid("messages", "messages: required, an array of messages")
            }
            parameters["messages"] = .array(try messages.enumerated().map { index, message throws(HTTPError) in try Self.message(message, index) })
            let choice = try Self.toolChoice(fields.removeValue(forKey: "tool_choice"))
            if let tools = fields.removeValue(forKey: "tools"), choice != "none" {
                guard case .array(let list) = tools else { throw .invalid("tools", "tools: expected an array") }
                parameters["tools"] = .array(try list.enumerated().map { index, tool throws(HTTPError) in try Self.tool(tool, index) })
            }
            if let choice, choice != "auto", choice != "none" { parameters["tool_choice"] = .string(choice) }
        case .completion, .fim:
            var prompt = fields.removeValue(forKey: "prompt")
            if case .array(let list)? = prompt, list.count == 1 { prompt = list[0] }
            guard case .string(let text)? = prompt else { throw .invalid("prompt", "prompt: required, a string") }
            parameters["prompt"] = .string(text)
            let suffix = fields.removeValue(forKey: "suffix")
            if let suffix, suffix != .null {
                guard case .string = suffix else { throw .invalid("suffix", "suffix: expected a string") }
                parameters["suffix"] = suffix
            }
            method = endpoint == .fim || (suffix != nil && suffix != .null) ? .complete : .generate
            if let echo = fields.removeValue(forKey: "echo"), echo != .bool(false) { throw .invalid("echo", "echo: not supported") }
            fields.removeValue(forKey: "min_tokens")  // Mistral's FIM field: a lower bound Brise does not force
        }
        if let unknown = fields.keys.sorted().first {
            throw .invalid(unknown, "\(unknown): not supported by brised")
        }
        // JSON objects lose their key order through WireJSON; a schema's order is the order its
        // properties are offered in (and tools' schemas are rendered into the prompt), so those
        // subtrees are taken from an order-keeping parse of the body.
        var envelope = RequestBuilder.chatJSON(.object(["method": .string(method.qualifiedName), "parameters": .object(parameters)]))
        if let ordered = try? ChatJSON(parsing: String(decoding: body, as: UTF8.self)) {
            if let format = ordered["response_format"], options["response_format"] != nil {
                envelope = envelope.replacing(["parameters", "options", "response_format"], with: format)
            }
            if endpoint == .chat, case .array(let tools)? = ordered["tools"], parameters["tools"] != nil {
                for (index, tool) in tools.enumerated() {
                    if let schema = tool["function"]?["parameters"] {
                        envelope = envelope.replacing(["parameters", "tools", index, "parameters"], with: schema)
                    }
                }
            }
        }
        do {
            call = try VarlinkCall(bytes: Array(envelope.serialized.utf8))
        } catch {
            throw .invalid(nil, "the request could not be built: \(error)")
        }
    }

    private static func bool(_ value: WireJSON?, _ name: String) throws(HTTPError) -> Bool? {
        switch value {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw .invalid(name, "\(name): expected true or false")
        }
    }

    /// One chat message in the Varlink shape: content as text (a list of text parts is joined), tool
    /// calls with their arguments parsed from the JSON string OpenAI sends; an assistant's
    /// `reasoning_content` (llama-server's, vLLM's and SGLang's name; also vLLM's `reasoning`) as its
    /// reasoning, and La Plateforme's `prefix`.
    private static func message(_ value: WireJSON, _ index: Int) throws(HTTPError) -> WireJSON {
        let at = "messages[\(index)]"
        guard case .object(let m) = value else { throw .invalid(at, "\(at): expected an object") }
        guard case .string(let role)? = m["role"] else { throw .invalid("\(at).role", "\(at).role: required, a string") }
        var out: [String: WireJSON] = ["role": .string(role)]
        switch m["content"] {
        case .string(let text)?: out["content"] = .string(text)
        case nil, .null?: out["content"] = .string("")
        case .array(let parts)?:
            // Text parts are joined; with mistral-common's thinking parts ({"type": "thinking",
            // "thinking", "closed"}) or images (image_url) the parts become the message's chunks, in order.
            var text = ""
            var chunks: [WireJSON] = []
            var thinks = false
            for (p, part) in parts.enumerated() {
                guard case .object(let o) = part else { throw .invalid("\(at).content[\(p)]", "\(at).content[\(p)]: expected an object") }
                if o["type"] == .string("image_url") {
                    // OpenAI's {"image_url": {"url": …}} and La Plateforme's {"image_url": "…"}: a data:
                    // URL with base64 bytes (the daemon fetches nothing from the network).
                    let place = "\(at).content[\(p)]"
                    var url: String?
                    switch o["image_url"] {
                    case .string(let u)?: url = u
                    case .object(let inner)?: if case .string(let u)? = inner["url"] { url = u }
                    default: break
                    }
                    guard let url else { throw .invalid(place, "\(place): image_url needs a url") }
                    guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64") else {
                        throw .invalid(place, "\(place): only data: URLs with base64 image bytes are accepted (the daemon fetches nothing)")
                    }
                    thinks = true
                    chunks.append(.object(["type": "image", "data": .string(String(url[url.index(after: comma)...]))]))
                    continue
                }
                if o["type"] == .string("thinking"), case .string(let t)? = o["thinking"] {
                    thinks = true
                    var chunk: [String: WireJSON] = ["type": "thinking", "thinking": .string(t)]
                    if case .bool(let closed)? = o["closed"] { chunk["closed"] = .bool(closed) }
                    chunks.append(.object(chunk))
                    continue
                }
                guard o["type"] == .string("text"), case .string(let t)? = o["text"] else {
                    throw .invalid("\(at).content[\(p)]", "\(at).content[\(p)]: only text, image_url and thinking parts are supported")
                }
                text += t
                chunks.append(.object(["type": "text", "text": .string(t)]))
            }
            out["content"] = .string(thinks ? "" : text)
            if thinks { out["chunks"] = .array(chunks) }
        default: throw .invalid("\(at).content", "\(at).content: expected a string or a list of text parts")
        }
        if let id = m["tool_call_id"], id != .null { out["tool_call_id"] = id }
        var thinking: String?
        for key in ["reasoning_content", "reasoning"] {
            switch m[key] {
            case nil, .null?: continue
            case .string(let text)?:
                if let thinking, thinking != text {
                    throw .invalid("\(at).\(key)", "\(at): reasoning_content and reasoning differ; send one")
                }
                thinking = text
            default: throw .invalid("\(at).\(key)", "\(at).\(key): expected a string")
            }
        }
        if let thinking {
            guard out["chunks"] == nil else {
                throw .invalid("\(at).reasoning_content", "\(at): thinking parts in content and reasoning_content cannot be used together")
            }
            out["reasoning"] = .string(thinking)
        }
        switch m["prefix"] {
        case nil, .null?: break
        case .bool(let flag)?: out["prefix"] = .bool(flag)
        default: throw .invalid("\(at).prefix", "\(at).prefix: expected a boolean")
        }
        if case .array(let calls)? = m["tool_calls"] {
            out["tool_calls"] = .array(try calls.enumerated().map { c, call throws(HTTPError) in
                let where_ = "\(at).tool_calls[\(c)]"
                guard case .object(let o) = call, case .object(let function)? = o["function"], case .string(let name)? = function["name"] else {
                    throw .invalid(where_, "\(where_): expected {\"function\": {\"name\", \"arguments\"}}")
                }
                var arguments: WireJSON = .object([:])
                switch function["arguments"] {
                case .string(let text)?:
                    guard let parsed = try? JSONDecoder().decode(WireJSON.self, from: Data(text.utf8)) else {
                        throw .invalid("\(where_).function.arguments", "\(where_).function.arguments: not JSON")
                    }
                    arguments = parsed
                case .object?: arguments = function["arguments"]!
                default: break
                }
                var converted: [String: WireJSON] = ["name": .string(name), "arguments": arguments]
                if let id = o["id"], id != .null { converted["id"] = id }
                return .object(converted)
            })
        }
        return .object(out)
    }

    /// One tool in the Varlink shape: `{"type": "function", "function": {name, description, parameters}}`.
    /// `tool_choice` in OpenAI's and La Plateforme's shapes: "auto", "none", "required", "any", or
    /// `{"type": "function", "function": {"name": …}}`; brised's Chat takes the keyword or the name.
    static func toolChoice(_ value: WireJSON?) throws(HTTPError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let keyword)?:
            guard ["auto", "none", "required", "any"].contains(keyword) else {
                throw .invalid("tool_choice", "tool_choice: expected \"auto\", \"none\", \"required\", \"any\" or {\"type\": \"function\", \"function\": {\"name\": …}}")
            }
            return keyword
        case .object(let object)?:
            guard object["type"] == nil || object["type"] == .string("function"), case .object(let function)? = object["function"],
                case .string(let name)? = function["name"], !name.isEmpty
            else {
                throw .invalid("tool_choice", "tool_choice: expected {\"type\": \"function\", \"function\": {\"name\": …}}")
            }
            return name
        default:
            throw .invalid("tool_choice", "tool_choice: expected a string or {\"type\": \"function\", \"function\": {\"name\": …}}")
        }
    }

    private static func tool(_ value: WireJSON, _ index: Int) throws(HTTPError) -> WireJSON {
        let at = "tools[\(index)]"
        guard case .object(let t) = value, case .object(let function)? = t["function"], case .string(let name)? = function["name"] else {
            throw .invalid(at, "\(at): expected {\"type\": \"function\", \"function\": {\"name\", …}}")
        }
        var description = ""
        if case .string(let text)? = function["description"] { description = text }
        return .object(["name": .string(name), "description": .string(description), "parameters": function["parameters"] ?? .object([:])])
    }
}
