import Engine
import Foundation
import Sampling
import Testing
import TestSupport
import Tokenization
import WireProtocol

@testable import Server

/// The checks between a decoded call and the engine: every client number bounded, by the wire's
/// ranges and then the model's, with the field and the range named.
@Suite struct RequestBuilderTests {
    static let tokenizer = try! Tokenizer(path: Fixtures.path("models/tiny-llama-Q8_0.gguf"))

    static func builder(context: Int = 256) -> RequestBuilder {
        RequestBuilder(
            tokenizer: tokenizer, chatEncoder: try? ChatEncoder(tokenizer: tokenizer), contextLength: context,
            vocabularySize: tokenizer.vocabulary.count, defaultMaxTokens: 512)
    }

    static func generate(_ options: String, context: Int = 256) -> Result<BuiltRequest, WireError> {
        let message = #"{"method":"io.brise.Inference.Generate","parameters":{"prompt":"hello","options":"# + options + "}}"
        return Result { () throws(WireError) in
            let call = try VarlinkCall(bytes: Array(message.utf8))
            return .init(try builder(context: context).generate(call, randomSeed: { 42 }))
        }
    }

    static func refusal(_ options: String) -> (parameter: String, reason: String)? {
        guard case .failure(.invalidParameter(let parameter, let reason)) = generate(options) else { return nil }
        return (parameter, reason)
    }

    @Test func wireBoundsNameTheFieldAndTheRange() throws {
        let cases: [(String, String, String)] = [
            (#"{"max_tokens":9223372036854775807}"#, "options.max_tokens", "1…16777216"),
            (#"{"max_tokens":18446744073709551616}"#, "options.max_tokens", "1…16777216"),
            (#"{"max_tokens":0}"#, "options.max_tokens", "1…16777216"),
            (#"{"max_tokens":1.5}"#, "options.max_tokens", "not an integer"),
            (#"{"top_k":-1}"#, "options.top_k", "0…16777216"),
            (#"{"penalty_last_n":-2}"#, "options.penalty_last_n", "-1…16777216"),
            (#"{"temperature":1e308}"#, "options.temperature", "[0, 100]"),
            (#"{"temperature":1e400}"#, "options.temperature", "[0, 100]"),
            (#"{"top_p":0}"#, "options.top_p", "(0, 1]"),
            (#"{"min_p":1}"#, "options.min_p", "[0, 1)"),
            (#"{"repetition_penalty":"high"}"#, "options.repetition_penalty", "a string"),
            (#"{"seed":-2}"#, "options.seed", "0…18446744073709551615"),
            (#"{"seed":18446744073709551616}"#, "options.seed", "0…18446744073709551615"),
            (#"{"stop":[""]}"#, "options.stop", "1…256"),
        ]
        for (options, parameter, range) in cases {
            let refusal = try #require(Self.refusal(options), "\(options) was accepted")
            #expect(refusal.parameter == parameter, "\(options): \(refusal)")
            #expect(refusal.reason.contains(range), "\(options): \(refusal.reason)")
        }
    }

    @Test func modelBoundsNameTheModelsRange() throws {
        let vocabulary = Self.tokenizer.vocabulary.count
        let topK = try #require(Self.refusal(#"{"top_k":\#(vocabulary + 1)}"#))
        #expect(topK.parameter == "options.top_k" && topK.reason.contains("0…\(vocabulary)") && topK.reason.contains("vocabulary"))
        let lastN = try #require(Self.refusal(#"{"penalty_last_n":257}"#))
        #expect(lastN.parameter == "options.penalty_last_n" && lastN.reason.contains("-1…256"))
        let maxTokens = try #require(Self.refusal(#"{"max_tokens":257}"#))
        #expect(maxTokens.parameter == "options.max_tokens" && maxTokens.reason.contains("1…256"))
        guard case .failure(.contextOverflow(let prompt, 256, 256)) = Self.generate(#"{"max_tokens":256}"#) else {
            Issue.record("a prompt plus the whole context is a ContextOverflow")
            return
        }
        #expect(prompt > 0)
    }

    @Test func edgesThatAreValid() throws {
        let vocabulary = Self.tokenizer.vocabulary.count
        let cases: [(String, (BuiltRequest) -> Bool)] = [
            (#"{"seed":18446744073709551615}"#, { $0.request.sampling.seed == UInt64.max }),
            (#"{"seed":0}"#, { $0.request.sampling.seed == 0 }),
            (#"{"seed":-1}"#, { $0.request.sampling.seed == 42 }),  // llama.cpp's "random"
            (#"{"temperature":-0.0,"top_p":1,"min_p":0}"#, { $0.request.sampling.temperature == 0 }),
            (#"{"top_k":\#(vocabulary),"penalty_last_n":-1}"#, { $0.request.sampling.topK == vocabulary }),
            (#"{"max_tokens":200}"#, { $0.request.maxTokens.value == 200 }),
            ("{}", { $0.request.maxTokens.value == 256 - $0.request.prompt.count }),
        ]
        for (options, check) in cases {
            guard case .success(let outcome) = Self.generate(options) else {
                Issue.record("\(options) was refused: \(Self.generate(options))")
                continue
            }
            #expect(check(outcome), "\(options)")
        }
    }

    @Test func detokenizeBoundsEveryID() throws {
        let count = Self.tokenizer.vocabulary.count
        for (tokens, index) in [("[1,2,\(count)]", 2), ("[1,-1]", 1), ("[9223372036854775807]", 0), ("[1e400]", 0), ("[1,\"2\"]", 1)] {
            let call = try VarlinkCall(bytes: Array(#"{"method":"io.brise.Inference.Detokenize","parameters":{"tokens":\#(tokens)}}"#.utf8))
            #expect(throws: WireError.self) { try Self.builder().detokenize(call) }
            do {
                _ = try Self.builder().detokenize(call)
            } catch {
                guard case .invalidParameter(let parameter, _) = error else { continue }
                #expect(parameter == "tokens[\(index)]", "\(tokens)")
            }
        }
    }
}

/// A built request, wrapped so a `Result` can hold it.
struct BuiltRequest {
    var request: GenerationRequest
    init(_ request: GenerationRequest) { self.request = request }
}
