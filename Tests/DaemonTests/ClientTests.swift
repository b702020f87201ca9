import BriseClient
import Foundation
import TestSupport
import Testing
import WireProtocol

#if canImport(Glibc)
import Glibc
#endif

extension Daemon {
    /// The BriseClient library, the CLI commands built on it, and the examples, against a live brised.
    @Suite struct Client {
        @Test func libraryCallsAndTypedErrors() async throws {
            let (daemon, socket) = try Daemon.start(["--max-queued-requests", "0"])
            let client = BriseClient(location: SocketLocation(path: socket))
            let info = try await client.info()
            #expect(info.product == "brised")
            let model = try await client.model()
            #expect(model.architecture == "llama" && model.contextLength == 256)
            let ids = try await client.tokenize("hello world")
            #expect(!ids.isEmpty)
            #expect(try await client.detokenize(Array(ids.dropFirst())) == "hello world")

            var text = ""
            var summary: BriseClient.Summary?
            for try await event in client.generate("abc", options: SamplingOptions(temperature: 0, maxTokens: 12)) {
                switch event {
                case .text(let chunk): text += chunk
                case .reasoning: break
                case .finished(let end): summary = end
                }
            }
            #expect(!text.isEmpty)
            #expect(summary?.finishReason == "length" && summary?.usage?.generatedTokens == 12)

            await #expect(throws: BriseClientError.self) {
                for try await _ in client.generate("abc", options: SamplingOptions(topP: 7)) {}
            }
            do {
                for try await _ in client.generate(String(repeating: "word ", count: 400), options: SamplingOptions(maxTokens: 50)) {}
                Issue.record("expected ContextOverflow")
            } catch let error as BriseClientError {
                #expect(error.code == .contextOverflow)
                #expect(error.message.contains("context of 256 tokens"))
            }
            let nowhere = BriseClient(location: SocketLocation(path: daemon.directory.appendingPathComponent("none.sock").path))
            do {
                _ = try await nowhere.status()
                Issue.record("expected a connection error")
            } catch let error as BriseClientError {
                #expect(error.code == .connection && error.message.contains("none.sock"))
            }
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
        }

        /// Dropping the stream closes the connection: the daemon stops within about one token.
        @Test func droppingTheStreamStopsTheGeneration() async throws {
            let (daemon, socket) = try Daemon.start(["--max-tokens-per-second", "10"])
            let client = BriseClient(location: SocketLocation(path: socket))
            var chunks = 0
            for try await event in client.generate("abc", options: SamplingOptions(temperature: 0, maxTokens: 200)) {
                if case .text = event { chunks += 1 }
                if chunks == 3 { break }
            }
            let start = Date()
            var state = ""
            repeat {
                state = try await client.status().state
                if state == "idle" { break }
                try await Task.sleep(for: .milliseconds(20))
            } while Date().timeIntervalSince(start) < 5
            #expect(state == "idle")
            #expect(Date().timeIntervalSince(start) < 0.35, "stopped within about a token at 10 tokens/s")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
        }

        /// The examples refuse a missing question (exit 2), and report an unreachable daemon or an error
        /// reply on stderr with exit 1 instead of a traceback or a silent 0.
        @Test(.enabled(if: Daemon.pythonVarlinkAvailable, "needs the venv"))
        func examplesFailClearly() throws {
            let (daemon, socket) = try Daemon.start()
            let python = Fixtures.repositoryRoot.appendingPathComponent("examples/python/ask.py").path
            let shell = Fixtures.repositoryRoot.appendingPathComponent("examples/shell/ask.sh").path
            let missing = daemon.directory.appendingPathComponent("missing.sock").path
            for (executable, prefix) in [(Daemon.venvPython, [python]), (shell, [])] {
                let none = try ChildProcess.run(executable, prefix, environment: ["BRISE_SOCKET": socket])
                #expect(none.exitStatus == 2 && none.standardError.contains("usage"), "\(none.standardError)")
                let unreachable = try ChildProcess.run(executable, prefix + ["hi"], environment: ["BRISE_SOCKET": missing])
                #expect(unreachable.exitStatus == 1 && unreachable.standardError.contains(missing), "\(unreachable.standardError)")
                // The tiny model has no chat format: the daemon's error, exit 1.
                let refused = try ChildProcess.run(executable, prefix + ["hi"], environment: ["BRISE_SOCKET": socket])
                #expect(refused.exitStatus == 1, "\(refused.standardOutput) \(refused.standardError)")
                #expect((refused.standardOutput + refused.standardError).contains("InvalidParameter"))
            }
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
        }

        /// `brise ask`, `brise chat` and `brise status` through the socket, and every example, on the
        /// real instruct model.
        @Test(.enabled(if: Fixtures.realModelsPresent && Daemon.pythonVarlinkAvailable, "needs the real models and the venv"))
        func cliAndExamples() throws {
            let (daemon, socket) = try Daemon.start(model: Daemon.qwen, ["--context", "1024"])
            let environment = ["BRISE_SOCKET": socket]
            let brise = ChildProcess.builtProduct("brise")
            let ask = try ChildProcess.run(brise, ["ask", "--temperature", "0", "-n", "24", "What is the capital of France?"], environment: environment)
            #expect(ask.exitStatus == 0)
            #expect(ask.standardOutput.contains("Paris"), "\(ask.standardOutput)")
            // - reads the question from standard input (with generate's sampling flags); an empty one is refused.
            let piped = try ChildProcess.run(
                "/bin/sh", ["-c", "printf 'What is the capital of France?' | '\(brise)' ask --temperature 0 --repeat-penalty 1.05 -n 24 -"],
                environment: environment)
            #expect(piped.exitStatus == 0 && piped.standardOutput.contains("Paris"), "\(piped.standardOutput) \(piped.standardError)")
            let empty = try ChildProcess.run(brise, ["ask", "  "], environment: environment)
            #expect(empty.exitStatus == 64 && empty.standardError.contains("the question is empty"), "\(empty.standardError)")
            let emptyInput = try ChildProcess.run("/bin/sh", ["-c", "'\(brise)' ask - < /dev/null"], environment: environment)
            #expect(emptyInput.exitStatus == 64 && emptyInput.standardError.contains("no question"), "\(emptyInput.standardError)")

            let chatInput = daemon.directory.appendingPathComponent("chat-input")
            let saved = daemon.directory.appendingPathComponent("chat.json")
            // A """ block is one message; commands are not sent to the model.
            try "\"\"\"My name is Ana.\nI live in Lyon.\n\"\"\"\nWhat is my name? Answer with the name only.\n/save \(saved.path)\n/exit\n"
                .write(to: chatInput, atomically: true, encoding: .utf8)
            let chat = try ChildProcess.run(
                "/bin/sh", ["-c", "'\(brise)' chat --temperature 0 -n 24 < '\(chatInput.path)'"], environment: environment)
            #expect(chat.exitStatus == 0)
            let answers = chat.standardOutput.split(separator: "\n")
            #expect(answers.count >= 2 && answers.last?.contains("Ana") == true, "the conversation is kept: \(chat.standardOutput)")
            let messages = (try JSONSerialization.jsonObject(with: Data(contentsOf: saved)) as? [String: Any])?["messages"] as? [[String: String]]
            #expect(messages?.filter { $0["role"] == "user" }.map { $0["content"] ?? "" }
                == ["My name is Ana.\nI live in Lyon.", "What is my name? Answer with the name only."], "\(String(describing: messages))")

            let status = try ChildProcess.run(brise, ["status", "--json"], environment: environment)
            #expect(status.exitStatus == 0 && status.standardOutput.contains("\"state\" : \"idle\""), "\(status.standardOutput)")
            let down = try ChildProcess.run(brise, ["status", "--socket", daemon.directory.appendingPathComponent("x.sock").path])
            #expect(down.exitStatus == 69 && down.standardError.contains("cannot connect"))
            // brise chat asks the daemon before the first question: a bad socket fails at once, not with exit 0.
            let chatDown = try ChildProcess.run(
                "/bin/sh", ["-c", "'\(brise)' chat --socket '\(daemon.directory.appendingPathComponent("x.sock").path)' < /dev/null"])
            #expect(chatDown.exitStatus == 69 && chatDown.standardError.contains("cannot connect"), "\(chatDown.standardError)")

            let question = "Say hello in French."
            let swiftExample = try ChildProcess.run(ChildProcess.builtProduct("brise-example"), [question], environment: environment)
            let pythonExample = try ChildProcess.run(
                Daemon.venvPython, [Fixtures.repositoryRoot.appendingPathComponent("examples/python/ask.py").path, question],
                environment: environment)
            let shellExample = try ChildProcess.run(
                Fixtures.repositoryRoot.appendingPathComponent("examples/shell/ask.sh").path, [question], environment: environment)
            for result in [swiftExample, pythonExample, shellExample] {
                #expect(result.exitStatus == 0, "\(result.standardError)")
                #expect(result.standardOutput.contains("Bonjour"), "\(result.standardOutput)")
            }
            // The Swift and Python examples stream the same greedy answer the shell one gets whole.
            #expect(swiftExample.standardOutput == pythonExample.standardOutput)
            #expect(shellExample.standardOutput.contains("\"finish_reason\":\"stop\""))
            // Quotes, a backslash and a newline in the question still make one valid call.
            let awkward = "Reply with the word \"yes\" \\ and nothing else.\nThank you."
            let quoted = try ChildProcess.run(
                Fixtures.repositoryRoot.appendingPathComponent("examples/shell/ask.sh").path, [awkward], environment: environment)
            #expect(quoted.exitStatus == 0 && quoted.standardOutput.contains("\"finish_reason\""), "\(quoted.standardOutput)")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
        }
    }
}
