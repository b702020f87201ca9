public import ArgumentParser
import BriseClient
import Foundation
import WireProtocol

/// `brise ask`: one question to brised, the answer streamed to stdout.
public struct Ask: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Ask brised a question (through its socket) and stream the answer.",
        discussion: """
            The question goes through the model's chat template; --raw sends it as a plain prompt to continue. \
            --json-schema or --grammar constrain the answer token by token (an unsupported schema is refused, \
            naming the keyword).
            """)

    @Argument(help: "The question (or prompt, with --raw); - reads it from standard input.")
    var question: String

    @Option(help: "A system message before the question.")
    var system: String?

    @Flag(help: "Continue the text as a plain prompt (Generate) instead of chatting.")
    var raw = false

    @Option(name: .customLong("json-schema"), help: "A JSON Schema file the answer must validate against (sent as response_format json_schema).")
    var jsonSchema: String?

    @Option(help: "A GBNF grammar file (llama.cpp's syntax) the answer must match.")
    var grammar: String?

    @Option(
        name: .customLong("image"),
        help: "A PNG or JPEG file to ask about (repeatable; the daemon needs a vision_model). Read here and sent as bytes.")
    var images: [String] = []

    @OptionGroup var daemon: DaemonOptions

    public init() {}

    public func validate() throws {
        if question != "-", question.allSatisfy(\.isWhitespace) {
            throw ValidationError("the question is empty (give a question, or - to read it from standard input)")
        }
        if jsonSchema != nil, grammar != nil { throw ValidationError("give --json-schema or --grammar, not both") }
        if raw, !images.isEmpty { throw ValidationError("--image needs a chat (not --raw)") }
    }

    /// The sampling options with the answer's shape from --json-schema or --grammar.
    func options() throws -> SamplingOptions {
        var options = daemon.options
        func read(_ path: String, _ flag: String) throws -> Data {
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                guard data.count <= ParameterBounds.grammarBytes else {
                    throw TextArgumentError(message: "larger than \(ParameterBounds.grammarBytes >> 20) MiB")
                }
                return data
            } catch {
                FileHandle.standardError.write(Data("brise ask: \(flag) \(path): \(error)\n".utf8))
                throw ExitCode(66)
            }
        }
        if let jsonSchema {
            let data = try read(jsonSchema, "--json-schema")
            let schema: WireJSON
            do {
                schema = try JSONDecoder().decode(WireJSON.self, from: data)
            } catch {
                FileHandle.standardError.write(Data("brise ask: --json-schema \(jsonSchema): not JSON\n".utf8))
                throw ExitCode(65)
            }
            let name = URL(fileURLWithPath: jsonSchema).deletingPathExtension().lastPathComponent
            options.responseFormat = ResponseFormat(
                type: "json_schema", jsonSchema: JSONSchemaFormat(name: name, schema: schema, strict: true))
        }
        if let grammar {
            options.grammar = String(decoding: try read(grammar, "--grammar"), as: UTF8.self)
        }
        return options
    }

    public func run() async throws {
        let question: String
        do {
            question = try TextArgument.resolve(self.question)
        } catch {
            FileHandle.standardError.write(Data("brise ask: \(error)\n".utf8))
            throw ExitCode(66)
        }
        guard !question.allSatisfy(\.isWhitespace) else {
            FileHandle.standardError.write(Data("brise ask: standard input held no question\n".utf8))
            throw ExitCode(64)
        }
        let options = try options()
        let client = daemon.client
        let stream: AsyncThrowingStream<BriseClient.Event, any Error>
        if raw {
            stream = client.generate(question, options: options)
        } else {
            var messages: [Message] = []
            if let system { messages.append(Message(role: "system", content: system)) }
            if images.isEmpty {
                messages.append(Message(role: "user", content: question))
            } else {
                // The images first, then the question (mistral-common's order for an image and its text).
                var chunks: [ContentChunk] = []
                for path in images {
                    do {
                        let data = try Data(contentsOf: URL(fileURLWithPath: path))
                        guard data.count <= 20 << 20 else { throw TextArgumentError(message: "larger than 20 MiB") }
                        chunks.append(.image(data))
                    } catch {
                        FileHandle.standardError.write(Data("brise ask: --image \(path): \(error)\n".utf8))
                        throw ExitCode(66)
                    }
                }
                chunks.append(.text(question))
                messages.append(Message(role: "user", content: "", chunks: chunks))
            }
            stream = client.chat(messages, options: options)
        }
        do {
            if case .cancelled = try await AnswerPrinter.print(stream, verbose: daemon.verbose, hideReasoning: daemon.hideReasoning) { throw ExitCode(130) }
        } catch let error as BriseClientError {
            FileHandle.standardError.write(Data("brise ask: \(error.message)\n".utf8))
            throw ExitCode(error.code == .connection ? 69 : 1)
        }
    }
}
