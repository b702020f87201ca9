import Foundation
public import WireProtocol

/// A client of `brised`: one Varlink connection per call over the daemon's Unix socket, plain POSIX
/// sockets (no SwiftNIO). Streaming calls return an `AsyncThrowingStream`; dropping the stream (or
/// cancelling the task iterating it) closes the connection, and the daemon stops that generation
/// within one token.
///
/// ```swift
/// let client = BriseClient(environment: ProcessInfo.processInfo.environment)
/// for try await event in client.generate("The capital of France is", options: .init(maxTokens: 16)) {
///     if case .text(let text) = event { print(text, terminator: "") }
/// }
/// ```
public struct BriseClient: Sendable {
    /// The daemon's socket.
    public var location: SocketLocation

    /// A client of the daemon at `location`.
    public init(location: SocketLocation) {
        self.location = location
    }

    /// A client of the daemon named by `BRISE_SOCKET` in `environment`, else the system daemon.
    public init(environment: [String: String]) {
        self.init(location: .resolve(environment: environment))
    }

    /// One event of a streamed answer.
    public enum Event: Sendable, Equatable {
        /// More text (of the answer).
        case text(String)
        /// More of the reply's thinking (Chat with a reasoning model).
        case reasoning(String)
        /// The end: why, the token counts and timings, and tool calls (Chat).
        case finished(Summary)
    }

    /// How a generation ended.
    public struct Summary: Sendable, Equatable {
        /// `stop`, `length` or `tool_calls`.
        public var finishReason: String?
        /// Tokens and timings.
        public var usage: Usage?
        /// Calls the model made (Chat with tools).
        public var toolCalls: [ToolCall]
    }

    /// A `Generate` or `Complete` reply as an event: text while it streams, then the summary.
    private static func plainTextEvent(_ reply: GenerateReply) -> Event {
        reply.finishReason == nil && reply.usage == nil
            ? .text(reply.text)
            : .finished(Summary(finishReason: reply.finishReason, usage: reply.usage, toolCalls: []))
    }

    /// Continues `prompt` (plain text, no chat template), streaming the text.
    public func generate(_ prompt: String, options: SamplingOptions? = nil) -> AsyncThrowingStream<Event, any Error> {
        stream(
            method: InferenceInterface.Method.generate.qualifiedName,
            parameters: GenerateParameters(prompt: prompt, options: options), reply: GenerateReply.self,
            map: Self.plainTextEvent)
    }

    /// The text between `prompt` (before the gap) and `suffix` (after it), through the model's
    /// fill-in-the-middle tokens, streaming the text (`GetModel`'s `fillInTheMiddle` says whether the
    /// model has them).
    public func complete(_ prompt: String, suffix: String? = nil, options: SamplingOptions? = nil) -> AsyncThrowingStream<Event, any Error> {
        stream(
            method: InferenceInterface.Method.complete.qualifiedName,
            parameters: CompleteParameters(prompt: prompt, suffix: suffix, options: options), reply: GenerateReply.self,
            map: Self.plainTextEvent)
    }

    /// Answers a conversation through the model's chat template, streaming the text.
    ///
    /// - Parameter toolChoice: "auto" (nil), "none", "required", or a tool's name: a forced call's
    ///   arguments match the tool's parameters schema (see the interface's `Chat`).
    public func chat(_ messages: [Message], tools: [ToolDefinition]? = nil, options: SamplingOptions? = nil, toolChoice: String? = nil)
        -> AsyncThrowingStream<Event, any Error>
    {
        stream(
            method: InferenceInterface.Method.chat.qualifiedName,
            parameters: ChatParameters(messages: messages, tools: tools, options: options, toolChoice: toolChoice), reply: ChatReply.self
        ) { reply in
            guard reply.finishReason == nil && reply.usage == nil else {
                return .finished(Summary(finishReason: reply.finishReason, usage: reply.usage, toolCalls: reply.toolCalls ?? []))
            }
            if let reasoning = reply.reasoning, reply.text.isEmpty { return .reasoning(reasoning) }
            return .text(reply.text)
        }
    }

    /// The model's token ids for `text`.
    public func tokenize(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = false) async throws -> [Int] {
        try await call(
            InferenceInterface.Method.tokenize.qualifiedName,
            TokenizeParameters(text: text, addSpecial: addSpecial, parseSpecial: parseSpecial), TokenizeReply.self
        ).tokens
    }

    /// The text of token ids.
    public func detokenize(_ tokens: [Int]) async throws -> String {
        try await call(InferenceInterface.Method.detokenize.qualifiedName, DetokenizeParameters(tokens: tokens), DetokenizeReply.self).text
    }

    /// The model being served.
    public func model() async throws -> ModelReply {
        try await call(InferenceInterface.Method.getModel.qualifiedName, Empty(), ModelReply.self)
    }

    /// What the daemon is doing, and its budgets.
    public func status() async throws -> StatusReply {
        try await call(InferenceInterface.Method.getStatus.qualifiedName, Empty(), StatusReply.self)
    }

    /// The service's vendor, product, version and interfaces.
    public func info() async throws -> ServiceInfo {
        try await call(VarlinkService.getInfo, Empty(), ServiceInfo.self)
    }

    // MARK: - Transport

    private struct Empty: Codable, Sendable {}

    private struct Call<P: Encodable>: Encodable {
        var method: String
        var parameters: P
        var more: Bool?
    }

    private struct Reply<P: Decodable>: Decodable {
        var parameters: P?
        var continues: Bool?
        var error: String?
    }

    private struct ErrorReply: Decodable {
        var error: String
        var parameters: [String: WireJSON]?
    }

    /// One call, one reply.
    private func call<P: Encodable & Sendable, R: Decodable & Sendable>(_ method: String, _ parameters: P, _ reply: R.Type)
        async throws -> R
    {
        var result: R?
        for try await value in stream(method: method, parameters: parameters, more: false, reply: R.self, map: { $0 }) {
            result = value
        }
        guard let result else { throw BriseClientError(.protocolError, "brised closed the connection without a reply to \(method)") }
        return result
    }

    /// A call whose replies (one, or a stream with `more`) are read on a thread of their own and
    /// mapped into the stream; terminating the stream shuts the socket down.
    private func stream<P: Encodable & Sendable, R: Decodable & Sendable, E: Sendable>(
        method: String, parameters: P, more: Bool = true, reply: R.Type, map: @escaping @Sendable (R) -> E
    ) -> AsyncThrowingStream<E, any Error> {
        let path = location.path
        return AsyncThrowingStream { continuation in
            let socket: VarlinkSocket
            do {
                socket = try VarlinkSocket(path: path)
                let encoder = JSONEncoder()
                encoder.keyEncodingStrategy = .convertToSnakeCase
                let message = try encoder.encode(Call(method: method, parameters: parameters, more: more ? true : nil))
                try socket.send(Array(message))
            } catch {
                continuation.finish(throwing: error)
                return
            }
            continuation.onTermination = { _ in socket.shutdown() }
            let reader = Thread {
                defer { socket.close() }
                let decoder = JSONDecoder()
                decoder.keyDecodingStrategy = .convertFromSnakeCase
                do {
                    while let bytes = try socket.receive() {
                        let data = Data(bytes)
                        if let failure = try? decoder.decode(ErrorReply.self, from: data) {
                            throw BriseClientError.reply(name: failure.error, parameters: failure.parameters ?? [:])
                        }
                        let decoded: Reply<R>
                        do {
                            decoded = try decoder.decode(Reply<R>.self, from: data)
                        } catch {
                            throw BriseClientError(.protocolError, "unexpected reply to \(method): \(error)")
                        }
                        guard let parameters = decoded.parameters else {
                            throw BriseClientError(.protocolError, "a reply to \(method) without parameters")
                        }
                        if case .terminated = continuation.yield(map(parameters)) { return }
                        if decoded.continues != true {
                            continuation.finish()
                            return
                        }
                    }
                    continuation.finish(throwing: BriseClientError(.connection, "brised closed the connection during \(method)"))
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            reader.name = "brise-client"
            reader.start()
        }
    }
}
