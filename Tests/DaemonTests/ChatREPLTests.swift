import Foundation
import TestSupport
import Testing

/// `brise chat` as a person uses it: on a pseudo-terminal, typing keys and reading the screen, against
/// the real daemon on the real instruct model.
extension Daemon {
    @Suite struct ChatREPL {
        static func chat(_ socket: String, state: URL, _ flags: [String]) throws -> PseudoTerminal {
            try PseudoTerminal(
                ChildProcess.builtProduct("brise"), ["chat", "--temperature", "0"] + flags,
                environment: ["BRISE_SOCKET": socket, "XDG_STATE_HOME": state.path, "NO_COLOR": "1"])
        }

        /// Types a message and waits for the answer and the next prompt; the answer's text.
        static func ask(_ terminal: PseudoTerminal, _ message: String) throws -> String {
            terminal.type(message + "\r")
            let shown = try terminal.waitFor("\n› ")
            #expect(!shown.contains("brise chat:"), "an error instead of an answer: \(shown)")
            return shown
        }

        static func saved(_ terminal: PseudoTerminal, _ file: URL) throws -> [[String: String]] {
            terminal.type("/save \(file.path)\r")
            try terminal.waitFor("(saved ")
            try terminal.waitFor("› ")
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
            return (object?["messages"] as? [[String: String]]) ?? []
        }

        /// Help, arrows and history, Ctrl-C at the prompt, a pasted 3-line text as one turn, `/system`
        /// changing the answer, `/save` and `/load`, and a 16-turn chat in a 512-token context that
        /// keeps answering (the oldest turns dropped, said once).
        @Test(.enabled(if: Fixtures.realModelsPresent, "needs the real models"))
        func editingCommandsAndALongChat() throws {
            let (daemon, socket) = try Daemon.start(model: Daemon.qwen, ["--context", "512"])
            let state = daemon.directory.appendingPathComponent("state")
            let terminal = try Self.chat(socket, state: state, ["-n", "24"])
            try terminal.waitFor("/help for commands")
            try terminal.waitFor("› ")

            // /help lists the commands; the up arrow brings it back from the history.
            terminal.type("/help\r")
            try terminal.waitFor("/system TEXT")
            try terminal.waitFor("› ")
            terminal.type("\u{1B}[A")
            try terminal.waitFor("/help")
            terminal.type("\r")
            try terminal.waitFor("/system TEXT")
            try terminal.waitFor("› ")
            // An unknown command is not sent to the model.
            terminal.type("/frobnicate\r")
            try terminal.waitFor("unknown command /frobnicate")
            try terminal.waitFor("› ")

            // Ctrl-C at an empty prompt and on a half-typed line: the line goes, the REPL stays.
            terminal.type("\u{3}")
            try terminal.waitFor("(Ctrl-D or /exit quits)")
            try terminal.waitFor("› ")
            terminal.typeSlowly("half a thought")
            terminal.type("\u{3}")
            try terminal.waitFor("(Ctrl-D or /exit quits)")
            try terminal.waitFor("› ")
            #expect(!terminal.exited)

            // A pasted text of three lines is one turn (one user message), not three.
            let english = try Self.ask(terminal, "What color is the sky on a clear day?")
            _ = try Self.ask(terminal, "Remember these words:\rapple\rriver")
            let afterPaste = try Self.saved(terminal, daemon.directory.appendingPathComponent("paste.json"))
            let users = afterPaste.filter { $0["role"] == "user" }.map { $0["content"] ?? "" }
            #expect(users == ["What color is the sky on a clear day?", "Remember these words:\napple\nriver"], "\(afterPaste)")
            #expect(afterPaste.filter { $0["role"] == "assistant" }.count == 2)

            // /system changes how the model answers (greedy: the same question, another style).
            terminal.type("/system Answer in French only.\r")
            try terminal.waitFor("(system message set")
            terminal.type("/reset\r")
            try terminal.waitFor("(conversation forgotten)")
            try terminal.waitFor("› ")
            let french = try Self.ask(terminal, "What color is the sky on a clear day?")
            #expect(english.contains("blue") && !french.contains("blue") && french.contains(" est "), "\(english) / \(french)")

            // /load continues a saved conversation.
            terminal.type("/load \(daemon.directory.appendingPathComponent("paste.json").path)\r")
            try terminal.waitFor("(loaded 4 messages")
            try terminal.waitFor("› ")
            terminal.type("/system off\r")
            try terminal.waitFor("(system message removed)")
            try terminal.waitFor("› ")

            // 16 turns in a 512-token context (it fills after about 10): every turn answered, older turns
            // dropped, said once.
            var transcript = ""
            for turn in 1...16 {
                transcript += try Self.ask(terminal, "Turn \(turn): name one animal that lives in the sea, in one word.")
            }
            #expect(transcript.components(separatedBy: "the oldest turns no longer fit").count == 2, "\(transcript)")
            let last = try Self.saved(terminal, daemon.directory.appendingPathComponent("long.json"))
            #expect(last.first?["content"]?.hasPrefix("Turn ") == true && last.count < 40, "older turns were dropped: \(last.count)")
            #expect(last.last?["role"] == "assistant" && last.dropLast().last?["content"]?.hasPrefix("Turn 16:") == true)

            // The history file holds the pasted turn as one entry.
            let history = try String(contentsOf: state.appendingPathComponent("brise/history"), encoding: .utf8)
            #expect(history.contains("Remember\\040these\\040words:↵apple↵river"), "\(history)")
            let mode = try FileManager.default.attributesOfItem(atPath: state.appendingPathComponent("brise/history").path)[.posixPermissions] as? Int
            #expect(mode == 0o600)

            terminal.type("/exit\r")
            terminal.expectCleanExit()
        }

        /// Ctrl-C during an answer prints (cancelled), keeps the REPL and forgets the question; Ctrl-D,
        /// even typed ahead during an answer, ends the chat with status 0.
        @Test(.enabled(if: Fixtures.realModelsPresent, "needs the real models"))
        func cancelAnAnswerAndQuit() throws {
            let (daemon, socket) = try Daemon.start(model: Daemon.qwen, ["--context", "1024"])
            let terminal = try Self.chat(socket, state: daemon.directory, ["-n", "600"])
            try terminal.waitFor("› ")
            terminal.type("Write a long story about a dragon who learns to cook.\r")
            try terminal.waitFor("dragon", timeout: 120)  // the answer is being written
            Thread.sleep(forTimeInterval: 1)
            terminal.type("\u{3}")
            try terminal.waitFor("(cancelled)")
            try terminal.waitFor("› ")
            #expect(!terminal.exited)
            let messages = try Self.saved(terminal, daemon.directory.appendingPathComponent("after-cancel.json"))
            #expect(messages.isEmpty, "the cancelled question is not kept: \(messages)")
            // Ctrl-D typed while an answer is written (the terminal is line-buffered then, and turns it
            // into a NUL end-of-file mark) ends the chat once the answer is done.
            terminal.type("Say hello in one word.\r")
            Thread.sleep(forTimeInterval: 0.5)
            terminal.type("\u{4}")
            terminal.expectCleanExit(timeout: 120)
        }
    }
}
