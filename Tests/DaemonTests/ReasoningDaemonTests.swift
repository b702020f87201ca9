import BriseClient
import Foundation
import GGUF
import TestSupport
import Testing
import WireProtocol

/// Reasoning through the real daemon: a tiny model whose vocabulary has Mistral's v13 control tokens
/// ([THINK] among them) answers a conversation the prompt left inside the thinking (an assistant
/// prefix with an open think chunk). Random weights do not choose to stop thinking, so the reasoning
/// budget closes it: the streamed reply must switch from `reasoning` to `text` exactly at the forced
/// [/THINK], and the usage must count the thinking apart.
extension Daemon {
    @Suite struct Reasoning {
        /// The tiny llama shape with a v13-style vocabulary: control tokens, then letters.
        static func thinkingModel(in directory: URL, thinking: Bool = true) throws -> String {
            var writer = try TinyGGUF.model(shape: .init(vocabulary: 64), seed: 7)
            let controls = [
                "<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[TOOL_CALLS]", "[ARGS]", thinking ? "[THINK]" : "[IMG]",
                thinking ? "[/THINK]" : "[IMG_END]", "[SYSTEM_PROMPT]",
                "[/SYSTEM_PROMPT]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]",
            ]
            let letters = "abcdefghijklmnopqrstuvwxyz".map { String($0) }
            var pieces = letters.map { "▁" + $0 } + letters
            pieces = Array(pieces.prefix(64 - controls.count - 1)) + ["▁"]
            let tokens = controls + pieces
            writer.add("tokenizer.ggml.tokens", .strings(tokens))
            writer.add("tokenizer.ggml.scores", .float32s(tokens.indices.map { -Float($0) }))
            writer.add("tokenizer.ggml.token_type", .int32s(tokens.indices.map { Int32($0 == 0 ? 2 : ($0 < controls.count ? 3 : 1)) }))
            let path = directory.appendingPathComponent(thinking ? "thinking.gguf" : "plain.gguf").path
            try writer.write(to: path)
            return path
        }

        static func chat(_ client: BriseClient, _ messages: [Message], _ options: SamplingOptions) async throws
            -> (events: [BriseClient.Event], reasoning: String, text: String, summary: BriseClient.Summary?)
        {
            var events: [BriseClient.Event] = []
            var reasoning = ""
            var text = ""
            var summary: BriseClient.Summary?
            for try await event in client.chat(messages, options: options) {
                events.append(event)
                switch event {
                case .reasoning(let chunk): reasoning += chunk
                case .text(let chunk): text += chunk
                case .finished(let end): summary = end
                }
            }
            return (events, reasoning, text, summary)
        }

        static let openThought: [Message] = [
            Message(role: "user", content: "abc"),
            Message(role: "assistant", content: "", chunks: [.thinking("bad", closed: false)], prefix: true),
        ]

        @Test func aStreamedReplySwitchesFromReasoningToTextAtTheForcedCloseToken() async throws {
            let directory = try DaemonProcess.makeDirectory()
            let (daemon, socket) = try Daemon.start(model: try Self.thinkingModel(in: directory))
            defer { daemon.signal(SIGTERM) }
            let client = BriseClient(location: SocketLocation(path: socket))
            let model = try await client.model()
            #expect(model.reasoning == "[THINK]" && model.chatFormat == "mistral-v13")

            // Left to itself (greedy, 6 tokens) the model goes on thinking: all reasoning, no text.
            let free = try await Self.chat(client, Self.openThought, SamplingOptions(temperature: 0, maxTokens: 6))
            #expect(free.summary?.usage?.reasoningTokens == 6 && free.text.isEmpty, "\(free)")
            #expect(!free.reasoning.isEmpty)

            // A budget of 2: two thinking tokens, the forced [/THINK], then 3 tokens of answer.
            let budget = try await Self.chat(client, Self.openThought, SamplingOptions(temperature: 0, maxTokens: 6, reasoningBudget: 2))
            #expect(budget.summary?.usage?.generatedTokens == 6)
            #expect(budget.summary?.usage?.reasoningTokens == 3, "2 thoughts and the closing token")
            #expect(budget.summary?.finishReason == "length")
            // The same greedy thoughts as the free run's first two tokens (a prefix of its reasoning),
            // and the answer is what comes after the forced close.
            #expect(!budget.reasoning.isEmpty && free.reasoning.hasPrefix(budget.reasoning), "\(budget.reasoning) / \(free.reasoning)")
            #expect(!budget.text.isEmpty)
            // Streamed: every reasoning chunk before every text chunk.
            let lastReasoning = budget.events.lastIndex { if case .reasoning = $0 { true } else { false } } ?? -1
            let firstText = budget.events.firstIndex { if case .text = $0 { true } else { false } } ?? .max
            #expect(lastReasoning < firstText && firstText != .max)

            // Thinking off closes the thought the prompt opened at once: one reasoning token (the close), the rest answer.
            let off = try await Self.chat(client, Self.openThought, SamplingOptions(temperature: 0, maxTokens: 4, reasoning: .off))
            #expect(off.summary?.usage?.reasoningTokens == 1 && off.reasoning.isEmpty && !off.text.isEmpty, "\(off)")

            // Without more, the one reply has both fields.
            let whole = try VarlinkTestClient(path: socket).collect(
                "io.brise.Inference.Chat",
                ["messages": [["role": "user", "content": "abc"], ["role": "assistant", "content": "", "prefix": true,
                              "chunks": [["type": "thinking", "thinking": "bad", "closed": false]]]],
                 "options": ["temperature": 0, "max_tokens": 6, "reasoning_budget": 2]])
            let parameters = whole.last?["parameters"] as? [String: Any]
            #expect(parameters?["reasoning"] as? String == budget.reasoning && parameters?["text"] as? String == budget.text, "\(whole)")
        }

        /// Every new field and option refused clearly when bad, and the daemon lives on.
        @Test func badReasoningValuesAreInvalidParameters() throws {
            let directory = try DaemonProcess.makeDirectory()
            let (daemon, socket) = try Daemon.start(model: try Self.thinkingModel(in: directory))
            defer { daemon.signal(SIGTERM) }
            // The same vocabulary with [THINK]/[/THINK] renamed: a v13 chat model that cannot think.
            let (plainDaemon, plainSocket) = try Daemon.start(model: try Self.thinkingModel(in: directory, thinking: false))
            defer { plainDaemon.signal(SIGTERM) }
            let user: [String: Any] = ["role": "user", "content": "abc"]
            func refusal(_ socket: String, _ method: String, _ parameters: [String: Any]) throws -> (String?, String?) {
                let reply = try VarlinkTestClient(path: socket).collect(method, parameters).last
                let p = reply?["parameters"] as? [String: Any]
                #expect(Daemon.errorName(reply) == "io.brise.Inference.InvalidParameter", "\(String(describing: reply))")
                return (p?["parameter"] as? String, p?["reason"] as? String)
            }
            let chat = "io.brise.Inference.Chat"
            #expect(try refusal(socket, chat, ["messages": [user], "options": ["reasoning": "maybe"]]).0 == "options.reasoning")
            #expect(try refusal(socket, chat, ["messages": [user], "options": ["reasoning": 1]]).0 == "options.reasoning")
            #expect(try refusal(socket, chat, ["messages": [user], "options": ["reasoning_budget": -1]]).1?.contains("0…16777216") == true)
            #expect(try refusal(socket, chat, ["messages": [user], "options": ["reasoning_budget": 1 << 40]]).0 == "options.reasoning_budget")
            #expect(try refusal(socket, chat, ["messages": [user], "options": ["reasoning": "off", "reasoning_budget": 5]]).0 == "options.reasoning_budget")
            #expect(try refusal(socket, chat, ["messages": [user], "options": ["reasoning": "on", "grammar": "root ::= \"a\""]]).0 == "options.reasoning")
            #expect(try refusal(socket, chat, ["messages": [["role": "user", "content": "x", "reasoning": "no"]]]).0 == "messages[0].reasoning")
            #expect(try refusal(socket, chat, ["messages": [["role": "user", "content": "", "chunks": [["type": "image", "text": "x"]]]]]).0?.hasPrefix("messages[0].chunks") == true)
            #expect(try refusal(socket, chat, ["messages": [["role": "user", "content": "", "chunks": [["type": "thinking"]]]]]).0?.hasPrefix("messages[0].chunks") == true)
            let many = [[String: Any]](repeating: ["type": "text", "text": "a"], count: 300)
            #expect(try refusal(socket, chat, ["messages": [["role": "system", "content": "", "chunks": many], user]]).0?.hasPrefix("messages[0].chunks") == true)
            #expect(try refusal(socket, chat, ["messages": [["role": "user", "content": "", "chunks": [["type": "thinking", "thinking": "t"]]]]]).0 == "messages")
            #expect(try refusal(socket, chat, ["messages": [["role": "assistant", "content": "a", "prefix": true], user]]).0 == "messages")
            #expect(try refusal(socket, "io.brise.Inference.Generate", ["prompt": "abc", "options": ["reasoning": "on"]]).0 == "options.reasoning")
            // A model without thinking tokens: "on" and a budget are refused, and so is thinking in history.
            let (parameter, reason) = try refusal(plainSocket, chat, ["messages": [user], "options": ["reasoning": "on"]])
            #expect(parameter == "options.reasoning" && reason?.contains("no thinking tokens") == true)
            #expect(try refusal(plainSocket, chat, ["messages": [user], "options": ["reasoning_budget": 10]]).0 == "options.reasoning_budget")
            #expect(try refusal(plainSocket, chat, ["messages": [user, ["role": "assistant", "content": "a", "reasoning": "t"], user]]).0 == "messages")
            // "off" there is nothing to do: answered.
            let answered = try VarlinkTestClient(path: plainSocket).collect(chat, ["messages": [user], "options": ["reasoning": "off", "max_tokens": 2]])
            #expect((answered.last?["parameters"] as? [String: Any])?["finish_reason"] != nil, "\(answered)")
            #expect(try VarlinkTestClient(path: socket).collect("io.brise.Inference.GetModel").last?["parameters"] != nil)
        }

        /// The OpenAI face: `reasoning_content` in the message and in stream deltas (before any
        /// `content`), the reasoning tokens in the usage, thinking accepted in history.
        @Test func theHTTPFaceCarriesReasoningContent() throws {
            let directory = try DaemonProcess.makeDirectory()
            let http = directory.appendingPathComponent("http.sock").path
            let (daemon, _) = try Daemon.start(model: try Self.thinkingModel(in: directory), ["--http-socket", http])
            defer { daemon.signal(SIGTERM) }
            let messages = #"[{"role":"user","content":"abc"},{"role":"assistant","content":"b","reasoning_content":"earlier thought"},{"role":"user","content":"abc"},{"role":"assistant","prefix":true,"content":[{"type":"thinking","thinking":"bad","closed":false}]}]"#
            let body = #"{"messages":\#(messages),"temperature":0,"max_tokens":6,"reasoning_budget":2}"#
            let whole = try Daemon.HTTP.curl(http, ["-d", body, "http://brised/v1/chat/completions"])
            #expect(whole.status == 200, "\(whole)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(whole.body.utf8)) as? [String: Any])
            let message = ((json["choices"] as? [[String: Any]])?.first?["message"]) as? [String: Any]
            let reasoning = try #require(message?["reasoning_content"] as? String, "\(whole.body)")
            let content = try #require(message?["content"] as? String)
            #expect(!reasoning.isEmpty && !content.isEmpty)
            let details = (json["usage"] as? [String: Any])?["completion_tokens_details"] as? [String: Any]
            #expect(details?["reasoning_tokens"] as? Int == 3, "\(whole.body)")

            let streamed = try Daemon.HTTP.curl(http, ["-N", "-d", #"{"messages":\#(messages),"temperature":0,"max_tokens":6,"reasoning_budget":2,"stream":true}"#, "http://brised/v1/chat/completions"])
            var thought = ""
            var answer = ""
            var order: [String] = []
            for line in streamed.body.split(separator: "\n") where line.hasPrefix("data: {") {
                let event = try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]
                let delta = ((event?["choices"] as? [[String: Any]])?.first?["delta"]) as? [String: Any]
                if let r = delta?["reasoning_content"] as? String { thought += r; order.append("r") }
                if let c = delta?["content"] as? String, !c.isEmpty { answer += c; order.append("c") }
            }
            #expect(thought == reasoning && answer == content, "\(streamed.body)")
            #expect(order.lastIndex(of: "r")! < order.firstIndex(of: "c")!)
            // Differing reasoning and reasoning_content in one message is refused.
            let bad = try Daemon.HTTP.curl(http, ["-d", #"{"messages":[{"role":"assistant","content":"a","reasoning":"x","reasoning_content":"y"},{"role":"user","content":"u"}]}"#, "http://brised/v1/chat/completions"])
            #expect(bad.status == 400, "\(bad)")
        }
    }
}
