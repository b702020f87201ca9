public import ArgumentParser
import BriseClient
import Foundation
import WireProtocol

/// `brise ask`: one question to brised, the answer streamed to stdout.
public struct Ask: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Ask brised a question (through its socket) and stream the answer.",
        discussion: "The question goes through the model's chat template; --raw sends it as a plain prompt to continue.")

    @Argument(help: "The question (or prompt, with --raw); - reads it from standard input.")
    var question: String

    @Option(help: "A system message before the question.")
    var system: String?

    @Flag(help: "Continue the text as a plain prompt (Generate) instead of chatting.")
    var raw = false

    @OptionGroup var daemon: DaemonOptions

    public init() {}

    public func validate() throws {
        if question != "-", question.allSatisfy(\.isWhitespace) {
            throw ValidationError("the question is empty (give a question, or - to read it from standard input)")
        }
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
        let client = daemon.client
        let stream: AsyncThrowingStream<BriseClient.Event, any Error>
        if raw {
            stream = client.generate(question, options: daemon.options)
        } else {
            var messages: [Message] = []
            if let system { messages.append(Message(role: "system", content: system)) }
            messages.append(Message(role: "user", content: question))
            stream = client.chat(messages, options: daemon.options)
        }
        do {
            if case .cancelled = try await AnswerPrinter.print(stream, verbose: daemon.verbose) { throw ExitCode(130) }
        } catch let error as BriseClientError {
            FileHandle.standardError.write(Data("brise ask: \(error.message)\n".utf8))
            throw ExitCode(error.code == .connection ? 69 : 1)
        }
    }
}
