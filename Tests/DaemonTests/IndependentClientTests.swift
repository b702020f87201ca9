import Foundation
import TestSupport
import Testing

extension Daemon {
    /// The `varlink` package from PyPI — not our code — talks to brised.
    @Suite struct IndependentClient {
        @Test(.enabled(if: Daemon.pythonVarlinkAvailable, "needs the venv with the varlink package (scripts/setup)"))
        func infoAndInterfaceDescription() throws {
            let (daemon, socket) = try Daemon.start()
            let info = try Daemon.python(socket, "info")
            #expect(info["product"] as? String == "brised")
            #expect((info["interfaces"] as? [String]) == ["org.varlink.service", "io.brise.Inference"])
            let description = try Daemon.python(socket, "describe", "io.brise.Inference")
            let served = try #require(description["description"] as? String)
            let file = try String(
                contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Sources/WireProtocol/io.brise.Inference.varlink"),
                encoding: .utf8)
            #expect(served == file || served + "\n" == file, "served as the file in the repository says")
            let unknown = try Daemon.python(socket, "describe", "io.example.Nothing")
            #expect(unknown["error"] as? String == "org.varlink.service.InterfaceNotFound")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
        }

        /// Greedy Generate and Chat through the socket give exactly `brise generate`'s text, and
        /// Tokenize gives `brise tokenize`'s ids, on the real Qwen2.5-Coder-0.5B-Instruct.
        @Test(.enabled(if: Daemon.pythonVarlinkAvailable && Fixtures.realModelsPresent, "needs the venv and the real models"))
        func sameTextAsBriseGenerate() throws {
            let (daemon, socket) = try Daemon.start(model: Daemon.qwen, ["--context", "1024"])
            let brise = ChildProcess.builtProduct("brise")
            let prompt = "def fibonacci(n):"
            let options: [String: Any] = ["temperature": 0, "max_tokens": 40]

            let generated = try Daemon.python(socket, "generate", Daemon.json(["prompt": prompt, "options": options]))
            let chunks = try #require(generated["chunks"] as? [[String: Any]])
            #expect(chunks.count > 10, "streamed token by token")
            let streamed = chunks.compactMap { $0["text"] as? String }.joined()
            let last = try #require(chunks.last)
            #expect(last["finish_reason"] as? String == "length")
            let usage = try #require(last["usage"] as? [String: Any])
            #expect(usage["generated_tokens"] as? Int == 40)
            let cli = try ChildProcess.run(brise, ["generate", "--model", Daemon.qwen, "--prompt", prompt, "--temperature", "0", "-n", "40", "--ctx", "1024"])
            #expect(cli.exitStatus == 0)
            #expect(streamed + "\n" == cli.standardOutput)

            let question = "Write a haiku about the sea."
            let chat = try Daemon.python(
                socket, "chat",
                Daemon.json(["messages": [["role": "user", "content": question]], "options": ["temperature": 0, "max_tokens": 48]]))
            let chatChunks = try #require(chat["chunks"] as? [[String: Any]])
            let answer = chatChunks.compactMap { $0["text"] as? String }.joined()
            let cliChat = try ChildProcess.run(
                brise, ["generate", "--model", Daemon.qwen, "--chat", "--prompt", question, "--temperature", "0", "-n", "48", "--ctx", "1024"])
            #expect(answer + "\n" == cliChat.standardOutput)
            #expect(!answer.isEmpty)

            let tokens = try Daemon.python(socket, "tokenize", "Hello, Brise!")
            let cliTokens = try ChildProcess.run(brise, ["tokenize", "--model", Daemon.qwen, "--add-special", "Hello, Brise!"])
            let ids = try #require(tokens["tokens"] as? [Int])
            #expect(!ids.isEmpty)
            #expect(ids.map(String.init).joined(separator: " ") + "\n" == cliTokens.standardOutput)

            let status = try Daemon.python(socket, "status")
            #expect(status["state"] as? String == "idle")
            #expect((status["tokens_per_second"] as? Double ?? 0) > 0)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
        }

        /// Chat with a tool: the model's call comes back parsed (`tool_calls`, finish reason `tool_calls`).
        @Test(.enabled(if: Daemon.pythonVarlinkAvailable && Fixtures.realModelsPresent, "needs the venv and the real models"))
        func chatWithToolsReturnsTheCall() throws {
            let (daemon, socket) = try Daemon.start(model: Daemon.qwen, ["--context", "1024"])
            let tools: [[String: Any]] = [[
                "name": "get_weather", "description": "Get the current weather in a city",
                "parameters": [
                    "type": "object", "properties": ["city": ["type": "string", "description": "The city"]], "required": ["city"],
                ],
            ]]
            let chat = try Daemon.python(
                socket, "chat",
                Daemon.json([
                    "messages": [["role": "user", "content": "What is the weather in Paris right now?"]], "tools": tools,
                    "options": ["temperature": 0, "max_tokens": 64],
                ]))
            let last = try #require((chat["chunks"] as? [[String: Any]])?.last)
            #expect(last["finish_reason"] as? String == "tool_calls", "\(chat)")
            let call = try #require((last["tool_calls"] as? [[String: Any]])?.first)
            #expect(call["name"] as? String == "get_weather")
            #expect((call["arguments"] as? [String: Any])?["city"] as? String == "Paris")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
        }
    }
}
