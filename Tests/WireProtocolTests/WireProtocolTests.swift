import Foundation
import Testing
import TestSupport
import WireProtocol

@Suite struct InterfaceTests {
    static let file = Fixtures.repositoryRoot.appendingPathComponent("Sources/WireProtocol/io.brise.Inference.varlink").path

    /// The served description is the interface file (scripts/generate-varlink-interface keeps them equal).
    @Test func servedDescriptionIsTheFile() throws {
        let text = try String(contentsOfFile: Self.file, encoding: .utf8)
        #expect(InferenceInterface.description + "\n" == text || InferenceInterface.description == text)
        #expect(InferenceInterface.description.contains("interface io.brise.Inference"))
        for method in InferenceInterface.Method.allCases {
            #expect(InferenceInterface.description.contains("method \(method.rawValue)("))
        }
    }

    /// An independent Varlink implementation (the `varlink` Python package) parses the interface.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: venvPython)))
    func independentParserAcceptsTheInterface() throws {
        let result = try ChildProcess.run(
            Self.venvPython,
            ["-c", "import sys, varlink; i = varlink.Interface(open(sys.argv[1]).read()); print(i.name, len(i.members))", Self.file])
        #expect(result.exitStatus == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("io.brise.Inference 21"), "\(result.standardOutput)")
    }

    static var venvPython: String {
        (ProcessInfo.processInfo.environment["BRISE_VENV"] ?? FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache/brise/venv").path) + "/bin/python"
    }
}

@Suite struct FramerTests {
    @Test func splitsMessagesAcrossChunkBoundaries() throws {
        var framer = VarlinkFramer(maximumMessageBytes: 64)
        #expect(try framer.append(Array("{\"a\":".utf8)).isEmpty)
        #expect(try framer.append(Array("1}\0{\"b\":2}\0{\"c\"".utf8)) == [Array("{\"a\":1}".utf8), Array("{\"b\":2}".utf8)])
        #expect(framer.bufferedByteCount == 4)
        #expect(try framer.append([0]) == [Array("{\"c\"".utf8)])
    }

    @Test func oversizeAndMissingNULAreBounded() {
        var framer = VarlinkFramer(maximumMessageBytes: 16)
        #expect(throws: WireError.messageTooLarge(limit: 16)) { try framer.append([UInt8](repeating: 65, count: 17)) }
        #expect(framer.bufferedByteCount == 0)
        var slow = VarlinkFramer(maximumMessageBytes: 1000)
        for _ in 0..<999 { _ = try? slow.append([65]) }
        #expect(slow.bufferedByteCount == 999)
        #expect(throws: WireError.self) { try slow.append([65, 65]) }
    }
}

@Suite struct CallTests {
    static func call(_ json: String) throws -> VarlinkCall { try VarlinkCall(bytes: Array(json.utf8)) }

    @Test func decodesTheEnvelopeAndTypedParameters() throws {
        let call = try Self.call(#"{"method":"io.brise.Inference.Generate","more":true,"parameters":{"prompt":"hi","options":{"top_k":5,"temperature":0,"stop":["\n"]}}}"#)
        #expect(call.method == InferenceInterface.Method.generate.qualifiedName)
        #expect(call.interface == "io.brise.Inference")
        #expect(call.more && !call.oneway && !call.upgrade)
        let parameters = try call.parameters(GenerateParameters.self)
        #expect(parameters.prompt == "hi")
        #expect(parameters.options == SamplingOptions(temperature: 0, topK: 5, stop: ["\n"]))
        let info = try Self.call(#"{"method":"org.varlink.service.GetInfo"}"#)
        #expect(info.interface == "org.varlink.service")
        #expect(throws: Never.self) { try info.parameters(SamplingOptions.self) }  // absent parameters: {}
    }

    @Test func badMessagesAreInvalidMessage() {
        for bad in ["", "not json", "[]", #"{"parameters":{}}"#, #"{"method":5}"#, #"{"method":"NoDot"}"#, #"{"method":"trailing."}"#] {
            #expect(throws: WireError.self, "\(bad)") { try Self.call(bad) }
        }
    }

    @Test func badParametersNameTheField() throws {
        func error(_ json: String) throws -> WireError? {
            do {
                _ = try Self.call(json).parameters(GenerateParameters.self)
                return nil
            } catch let error as WireError { return error }
        }
        #expect(try error(#"{"method":"io.brise.Inference.Generate","parameters":{}}"#) == .invalidParameter(parameter: "prompt", reason: "missing"))
        #expect(try error(#"{"method":"io.brise.Inference.Generate","parameters":{"prompt":5}}"#) == .invalidParameter(parameter: "prompt", reason: "expected String"))
        let nested = try error(#"{"method":"io.brise.Inference.Generate","parameters":{"prompt":"x","options":{"top_k":"many"}}}"#)
        #expect(nested == .invalidParameter(parameter: "options.top_k", reason: "a string is not an integer in 0…16777216"))
        let chat = try Self.call(#"{"method":"io.brise.Inference.Chat","parameters":{"messages":[{"role":"user"}]}}"#)
        #expect(throws: WireError.invalidParameter(parameter: "messages[0].content", reason: "missing")) {
            try chat.parameters(ChatParameters.self)
        }
    }
}

@Suite struct ReplyTests {
    static func json(_ bytes: [UInt8]) throws -> JSONValue {
        #expect(bytes.last == 0)
        return try JSONDecoder().decode(JSONValue.self, from: Data(bytes.dropLast()))
    }

    @Test func repliesAreSnakeCaseAndNULTerminated() throws {
        let chunk = try Self.json(VarlinkReply.encode(GenerateReply(text: "Hel"), continues: true))
        #expect(chunk["continues"] == .bool(true))
        #expect(chunk["parameters"]?["text"] == .string("Hel"))
        let final = try Self.json(VarlinkReply.encode(GenerateReply(
            text: "", finishReason: "stop",
            usage: Usage(promptTokens: 5, cachedTokens: 0, generatedTokens: 3, promptSeconds: 0.5, generationSeconds: 1))))
        #expect(final["continues"] == nil)
        #expect(final["parameters"]?["finish_reason"] == .string("stop"))
        #expect(final["parameters"]?["usage"]?["prompt_tokens"] == .int(5))
    }

    @Test func errorsCarryTheirNameAndParameters() throws {
        let reply = try Self.json(VarlinkReply.encode(error: .contextOverflow(promptTokens: 900, maxTokens: 200, contextLength: 1024)))
        #expect(reply["error"] == .string("io.brise.Inference.ContextOverflow"))
        #expect(reply["parameters"]?["context_length"] == .int(1024))
        let unknown = try Self.json(VarlinkReply.encode(error: .methodNotFound(method: "io.brise.Inference.Nope")))
        #expect(unknown["error"] == .string("org.varlink.service.MethodNotFound"))
        #expect(try Self.json(VarlinkReply.encode(error: .shuttingDown))["parameters"] == .object([:]))
    }
}
