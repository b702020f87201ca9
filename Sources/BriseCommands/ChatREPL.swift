public import ArgumentParser
import BriseClient
import Foundation
import WireProtocol

/// `brise chat`: an interactive conversation with brised's model. The conversation is kept and sent
/// whole each turn (brised reuses the shared prefix of its KV cache, so earlier turns cost nothing
/// again); the oldest turns are dropped when it would outgrow the context. On a terminal, lines are
/// edited with libedit and kept in a history file; Ctrl-C cancels the answer being written (or, at the
/// prompt, the line), not the program; Ctrl-D or /exit ends it.
public struct ChatREPL: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with brised's model interactively (Ctrl-C cancels an answer, Ctrl-D quits).",
        discussion: """
            Commands at the prompt (/help lists them): /system TEXT, /save FILE, /load FILE, /reset, /status, /exit. \
            A message of several lines: paste it, or put it between lines of three double quotes (\"\"\"). \
            History is kept in $XDG_STATE_HOME/brise/history (~/.local/state/brise/history). When the conversation \
            would no longer fit the model's context, its oldest turns are dropped.
            """)

    @Option(help: "A system message that starts the conversation.")
    var system: String?

    @OptionGroup var daemon: DaemonOptions

    public init() {}

    public func run() async throws {
        let client = daemon.client
        let err = TerminalStyle(fileDescriptor: 2)
        let editor = LineEditor(historyFile: isatty(0) == 1 ? LineEditor.historyFile() : nil)
        let interactive = editor.isTerminal
        func note(_ text: String) { FileHandle.standardError.write(Data((err.dim(text) + "\n").utf8)) }
        func complain(_ text: String) { FileHandle.standardError.write(Data((err.red("brise chat:") + " \(text)\n").utf8)) }

        // The daemon is asked first, so a wrong socket fails now, not after the first question.
        let model: ModelReply
        do {
            model = try await client.model()
        } catch let error as BriseClientError {
            complain(error.message)
            throw ExitCode(error.code == .connection ? 69 : 1)
        }
        if interactive {
            note("brise chat with \(model.name) (context \(model.contextLength) tokens) — /help for commands; Ctrl-C stops an answer, Ctrl-D quits")
        }
        var conversation = Conversation(system: system)
        // Room kept for each answer: the asked maximum, else a quarter of the context (at most 512).
        let reserve = min(daemon.options.maxTokens ?? min(512, max(1, model.contextLength / 4)), model.contextLength - 1)
        var toldAboutDropping = false
        func droppedTurns() {
            guard !toldAboutDropping else { return }
            toldAboutDropping = true
            note("(the oldest turns no longer fit the \(model.contextLength)-token context: they are dropped from now on; /reset starts afresh)")
        }

        while true {
            let text: String
            switch Self.readMessage(editor) {
            case .end:
                if interactive { FileHandle.standardOutput.write(Data("\n".utf8)) }  // Ctrl-D: end the prompt's line
                return
            case .interrupted:
                FileHandle.standardOutput.write(Data("\n".utf8))
                note("(Ctrl-D or /exit quits)")
                continue
            case .line(let line):
                text = line
            }
            if interactive { editor.remember(text) }
            guard let command = ChatCommand.parse(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
            switch command {
            case .exit:
                return
            case .help:
                print(ChatCommand.helpText)
                continue
            case .mistake(let message):
                complain(message)
                continue
            case .reset:
                conversation.reset()
                note("(conversation forgotten)")
                continue
            case .system(.show):
                note(conversation.system.map { "system: \($0.message.content)" } ?? "(no system message; /system TEXT sets one)")
                continue
            case .system(.set(let text)):
                conversation.setSystem(text)
                note("(system message set; it applies from the next answer)")
                continue
            case .system(.remove):
                conversation.setSystem(nil)
                note("(system message removed)")
                continue
            case .save(let path):
                do {
                    try conversation.save(to: Self.url(path))
                    note("(saved \(conversation.messages.count) messages to \(path))")
                } catch {
                    complain("cannot save to \(path): \(Self.reason(error))")
                }
                continue
            case .load(let path):
                do {
                    conversation = try Conversation.load(from: Self.url(path))
                    note("(loaded \(conversation.messages.count) messages from \(path))")
                } catch {
                    complain("cannot load \(path): \(Self.reason(error))")
                }
                continue
            case .status:
                if let status = try? await client.status() {
                    print("\(status.state); \(status.activeRequests) active, \(status.queuedRequests) queued; thermal \(status.thermal ?? "-")")
                } else {
                    complain("brised does not answer")
                }
                continue
            case .message(let message):
                conversation.append(role: "user", message)
            }

            // Send, dropping the oldest turns while the conversation would outgrow the context.
            await Self.count(&conversation, client: client)
            if conversation.trim(toFit: model.contextLength - reserve) > 0 { droppedTurns() }
            while true {
                do {
                    switch try await AnswerPrinter.print(
                        client.chat(conversation.messages, options: daemon.options), verbose: daemon.verbose, style: err, hideReasoning: daemon.hideReasoning)
                    {
                    case .finished(let answer, let summary):
                        conversation.append(role: "assistant", answer, tokens: summary?.usage?.generatedTokens)
                    case .cancelled:
                        conversation.removeLast()  // the question goes unanswered; ask again or something else
                    }
                } catch let error as BriseClientError where error.code == .contextOverflow {
                    // The estimate was short: drop one more exchange, or give up on this question.
                    if conversation.dropOldestExchange() {
                        droppedTurns()
                        continue
                    }
                    conversation.removeLast()
                    complain("\(error.message) — the question alone is too long for this model's context")
                } catch let error as BriseClientError {
                    conversation.removeLast()
                    complain(error.message)
                    if error.code == .connection || error.code == .shuttingDown {
                        // On a terminal the conversation is kept for when brised is back (a restart);
                        // a script's input ends here.
                        guard interactive else { throw ExitCode(69) }
                        note("(the conversation is kept: ask again once brised is back)")
                    }
                }
                break
            }
        }
    }

    /// One message from the prompt: a line, a paste of several lines, or a `"""` block.
    static func readMessage(_ editor: LineEditor) -> LineEditor.Input {
        let first = editor.read(prompt: "› ")
        guard case .line(let line) = first else { return first }
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("\"\"\"") else { return first }
        let body = String(trimmed.dropFirst(3))
        if body.count >= 3, body.hasSuffix("\"\"\"") { return .line(String(body.dropLast(3))) }
        var lines = body.isEmpty ? [] : [body]
        while true {
            switch editor.read(prompt: "… ") {
            case .line(let next):
                if let close = next.range(of: "\"\"\"", options: .backwards), next[close.upperBound...].allSatisfy(\.isWhitespace) {
                    let before = next[..<close.lowerBound]
                    if !before.allSatisfy(\.isWhitespace) { lines.append(String(before)) }
                    return .line(lines.joined(separator: "\n"))
                }
                lines.append(next)
            case .interrupted: return .interrupted
            case .end: return .line(lines.joined(separator: "\n"))
            }
        }
    }

    /// Counts the tokens of messages not counted yet (through the daemon's tokenizer); a message that
    /// cannot be counted stays uncounted, and the daemon's ContextOverflow is the backstop.
    static func count(_ conversation: inout Conversation, client: BriseClient) async {
        for index in conversation.uncounted {
            let message = index == -1 ? conversation.system?.message : conversation.entries[index].message
            guard let message, let tokens = try? await client.tokenize(message.content, addSpecial: false) else { continue }
            conversation.setTokens(tokens.count, at: index)
        }
    }

    static func url(_ path: String) -> URL {
        URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? ConversationFileError { return error.reason }
        if let error = error as? CocoaError, let underlying = error.userInfo[NSUnderlyingErrorKey] as? POSIXError {
            return String(cString: strerror(underlying.code.rawValue))
        }
        return (error as NSError).localizedDescription
    }
}
