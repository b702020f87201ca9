public import ArgumentParser
import BriseClient
import Foundation
import WireProtocol

/// `brise chat`: an interactive conversation with brised's model. The conversation is kept and sent
/// whole each turn (brised reuses the shared prefix of its KV cache, so earlier turns cost nothing
/// again); Ctrl-C cancels the answer being written, not the program; Ctrl-D or /exit ends it.
public struct ChatREPL: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with brised's model interactively (Ctrl-C cancels an answer, Ctrl-D quits).",
        discussion: "Commands: /reset forgets the conversation, /status shows the daemon's state, /exit quits.")

    @Option(help: "A system message that starts the conversation.")
    var system: String?

    @OptionGroup var daemon: DaemonOptions

    public init() {}

    public func run() async throws {
        let client = daemon.client
        var history: [Message] = system.map { [Message(role: "system", content: $0)] } ?? []
        let interactive = isatty(0) == 1
        // The daemon is asked first, so a wrong socket fails now, not after the first question.
        let model: ModelReply
        do {
            model = try await client.model()
        } catch let error as BriseClientError {
            FileHandle.standardError.write(Data("brise chat: \(error.message)\n".utf8))
            throw ExitCode(error.code == .connection ? 69 : 1)
        }
        if interactive {
            FileHandle.standardError.write(
                Data("brise chat with \(model.name) — /reset, /status, /exit; Ctrl-C stops an answer\n".utf8))
        }
        while true {
            if interactive { FileHandle.standardOutput.write(Data("› ".utf8)) }
            guard let line = readLine() else {
                if interactive { FileHandle.standardOutput.write(Data("\n".utf8)) }  // Ctrl-D: end the prompt's line
                break
            }
            let input = line.trimmingCharacters(in: .whitespaces)
            switch input {
            case "": continue
            case "/exit", "/quit": return
            case "/reset":
                history = system.map { [Message(role: "system", content: $0)] } ?? []
                FileHandle.standardError.write(Data("(conversation forgotten)\n".utf8))
                continue
            case "/status":
                if let status = try? await client.status() {
                    print("\(status.state); \(status.activeRequests) active, \(status.queuedRequests) queued; thermal \(status.thermal ?? "-")")
                }
                continue
            default:
                break
            }
            history.append(Message(role: "user", content: input))
            do {
                switch try await AnswerPrinter.print(client.chat(history, options: daemon.options), verbose: daemon.verbose) {
                case .finished(let text, _):
                    history.append(Message(role: "assistant", content: text))
                case .cancelled:
                    history.removeLast()  // the question goes unanswered; ask again or something else
                }
            } catch let error as BriseClientError {
                history.removeLast()
                FileHandle.standardError.write(Data("brise chat: \(error.message)\n".utf8))
                if error.code == .connection || error.code == .shuttingDown {
                    // On a terminal the conversation is kept for when brised is back (a restart);
                    // a script's input ends here.
                    guard interactive else { throw ExitCode(69) }
                    FileHandle.standardError.write(Data("(the conversation is kept: ask again once brised is back)\n".utf8))
                }
            }
        }
    }
}
