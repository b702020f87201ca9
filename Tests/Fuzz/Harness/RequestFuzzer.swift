import Engine
import Foundation
import Sampling
import Server
import Tokenization
import WireProtocol

/// Fuzz target 1: bytes as a client sends them, through everything up to the forward pass — Varlink
/// framing, call decoding, parameter decoding and bounds, the model-dependent checks, prompt
/// encoding, the chat template, fill-in-the-middle prompts, the HTTP API's bodies (OpenAIRequest) and the
/// sampler's construction — in process, on the tiny model (and
/// the other vocabularies when present). Any input must end in a reply or a `WireError`; a trap is a
/// finding.
public final class RequestFuzzer: Sendable {
    let builders: [RequestBuilder]
    /// Made-up logits per builder (made once: a vocabulary-sized array per input would churn the
    /// allocator, in the fuzzer and in the tests that share a process with memory measurements).
    let logits: [[Float]]

    public init(vocabularies: FuzzVocabularies = FuzzVocabularies()) {
        builders = vocabularies.entries.map { entry in
            RequestBuilder(
                tokenizer: entry.tokenizer, chatEncoder: entry.chatEncoder, contextLength: entry.contextLength,
                vocabularySize: entry.tokenizer.vocabulary.count, defaultMaxTokens: 512, fillInTheMiddle: entry.fillInTheMiddle)
        }
        logits = builders.map { builder in (0..<builder.vocabularySize).map { Float(($0 &* 7919) % 97) / 10 } }
    }

    /// Runs one input: the first byte picks the vocabulary; the rest is the byte stream (a NUL is
    /// added at the end, so an input without one is still a message).
    ///
    /// - Returns: How many replies (results or errors) the input produced.
    @discardableResult
    public func run(_ data: [UInt8]) -> Int {
        guard let selector = data.first, !builders.isEmpty else { return 0 }
        let index = Int(selector & 0x3F) % builders.count
        let builder = builders[index]
        // Selector bit 7: the rest is an HTTP API body (bit 6 and the next byte pick the endpoint),
        // through OpenAIRequest into the same builder, as the HTTP face serves it.
        if selector & 0x80 != 0 {
            let endpoints = OpenAIRequest.Endpoint.allCases
            let endpoint = endpoints[(Int(selector >> 6 & 1) + Int(data.dropFirst().first ?? 0)) % endpoints.count]
            do {
                let request = try OpenAIRequest(endpoint, body: Array(data.dropFirst(2)))
                try Self.serve(request.call, builder, logits: logits[index])
            } catch let error as HTTPError {
                _ = error.body
            } catch {
                _ = VarlinkReply.encode(error: error as? WireError ?? .invalidParameter(parameter: "?", reason: "?"))
            }
            return 1
        }
        var framer = VarlinkFramer(maximumMessageBytes: 1 << 16)
        let messages: [[UInt8]]
        do {
            messages = try framer.append(data.dropFirst()) + framer.append([0])
        } catch {
            _ = VarlinkReply.encode(error: error)
            return 1
        }
        var replies = 0
        for message in messages.prefix(8) {
            replies += 1
            do {
                let call = try VarlinkCall(bytes: message)
                try Self.serve(call, builder, logits: logits[index])
            } catch {
                _ = VarlinkReply.encode(error: error)
            }
        }
        return replies
    }

    /// One call through the first vocabulary's builder (the HTTP target's way in).
    func serveFirstVocabulary(_ call: VarlinkCall) throws(WireError) {
        guard let builder = builders.first else { return }
        try Self.serve(call, builder, logits: logits[0])
    }

    /// One call through the builder, as `InferenceService` would serve it before queueing.
    static func serve(_ call: VarlinkCall, _ builder: RequestBuilder, logits: [Float]) throws(WireError) {
        var seed: UInt64 = 0x5EED
        let randomSeed = { () -> UInt64 in
            seed &+= 1
            return seed
        }
        switch call.method {
        case InferenceInterface.Method.generate.qualifiedName:
            try check(builder.generate(call, randomSeed: randomSeed), builder, logits: logits)
        case InferenceInterface.Method.complete.qualifiedName:
            try check(builder.complete(call, randomSeed: randomSeed), builder, logits: logits)
        case InferenceInterface.Method.chat.qualifiedName:
            let built = try builder.chat(call, randomSeed: randomSeed)
            try check(built.request, builder, logits: logits)
            // The answer's tool calls are parsed from generated ids: parse the prompt's own.
            if let encoder = builder.chatEncoder {
                _ = try? ToolCallParser(encoder: encoder).parse(built.request.prompt)
            }
        case InferenceInterface.Method.tokenize.qualifiedName:
            _ = VarlinkReply.encode(try builder.tokenize(call))
        case InferenceInterface.Method.detokenize.qualifiedName:
            _ = VarlinkReply.encode(try builder.detokenize(call))
        case VarlinkService.getInterfaceDescription:
            _ = try call.parameters(InterfaceDescriptionParameters.self)
        default:
            _ = try call.parameters([String: WireJSON].self)
        }
    }

    /// What the engine does with a request before its first forward pass: the context check, the
    /// sampler, and a sampled token from made-up logits.
    static func check(_ request: GenerationRequest, _ builder: RequestBuilder, logits: [Float]) throws(WireError) {
        guard request.prompt.count + request.maxTokens.value <= builder.contextLength else {
            preconditionFailure("the builder let a request past the context: \(request.prompt.count) + \(request.maxTokens)")
        }
        guard var sampler = try? Sampler(request.sampling) else {
            preconditionFailure("the builder let invalid sampling parameters through: \(request.sampling)")
        }
        let token = logits.withUnsafeBufferPointer { sampler.sample(logits: $0, history: request.prompt) }
        precondition(token >= 0 && Int(token) < builder.vocabularySize, "sampled \(token) outside the vocabulary")
    }
}
