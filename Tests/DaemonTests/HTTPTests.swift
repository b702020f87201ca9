import BriseClient
import Foundation
import TestSupport
import Testing
import WireProtocol

/// brised's HTTP face on a Unix socket, through the official openai and mistralai SDKs and curl.
extension Daemon {
    @Suite struct HTTP {
        static let sdkClient = Fixtures.repositoryRoot.appendingPathComponent("Tests/DaemonTests/clients/http_sdk_client.py").path

        static var sdksAvailable: Bool {
            Daemon.pythonVarlinkAvailable
                && (try? ChildProcess.run(Daemon.venvPython, ["-c", "import openai, httpx, mistralai.client, prometheus_client"]))?.exitStatus == 0
        }

        static func curl(_ socket: String, _ arguments: [String]) throws -> (status: Int, body: String) {
            let result = try ChildProcess.run(
                "/usr/bin/env", ["curl", "-s", "--max-time", "60", "-o", "-", "-w", "\n%{http_code}", "--unix-socket", socket] + arguments)
            let lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false)
            return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
        }

        /// Chat (whole and streamed: the same greedy text as Varlink Chat), completions, FIM through
        /// mistralai's `fim.complete`, the models list, and the SDKs' own error classes for bad values.
        @Test(.enabled(if: Fixtures.realModelsPresent && HTTP.sdksAvailable, "needs the real models and the SDKs in the venv"))
        func officialSDKsOverTheUnixSocket() async throws {
            let directory = try DaemonProcess.makeDirectory()
            let http = directory.appendingPathComponent("http.sock").path
            let (daemon, socket) = try Daemon.start(model: Daemon.qwen, ["--context", "1024", "--http-socket", http])
            let result = try ChildProcess.run(Daemon.venvPython, [Self.sdkClient, http])
            #expect(result.exitStatus == 0, "\(result.standardError)")
            let out = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])

            // The same answer as Varlink's Chat, greedy.
            var varlinkText = ""
            let client = BriseClient(location: SocketLocation(path: socket))
            for try await event in client.chat(
                [Message(role: "user", content: "What is the capital of France? Answer in one word.")],
                options: SamplingOptions(temperature: 0, maxTokens: 16))
            {
                if case .text(let chunk) = event { varlinkText += chunk }
            }
            let chat = try #require(out["chat"] as? [String: Any])
            #expect(chat["text"] as? String == varlinkText && varlinkText.contains("Paris"), "\(chat) vs \(varlinkText)")
            #expect(chat["finish"] as? String == "stop")
            let streamed = try #require(out["chat_stream"] as? [String: Any])
            #expect(streamed["text"] as? String == varlinkText)
            #expect(streamed["usage"] as? Int == chat["completion_tokens"] as? Int)
            #expect(out["mistral_chat"] as? String == varlinkText)
            let completion = try #require(out["completion"] as? [String: Any])
            #expect((completion["text"] as? String)?.contains("a + b") == true, "\(completion)")
            let fim = try #require(out["fim"] as? [String: Any])
            #expect((fim["text"] as? String)?.contains("a, b = b, a + b") == true && fim["finish"] as? String == "stop", "\(fim)")
            #expect((out["models"] as? [String])?.first?.contains("Qwen2.5") == true)
            let errors = try #require(out["errors"] as? [String: [String: Any]])
            // Forced calls: the named function through openai, "any" through mistralai; the arguments
            // validate against the tool's schema (Python's jsonschema).
            let tools = try #require(out["tools"] as? [[String: Any]])
            for (key, expected) in [("forced", "send_email"), ("required", "get_weather"), ("mistral_any", "get_weather")] {
                let forced = try #require(out[key] as? [String: Any], "\(key)")
                let calls = forced["calls"] as? [[String: Any]] ?? []
                #expect(forced["finish"] as? String == "tool_calls" && calls.count >= 1, "\(key): \(forced)")
                #expect(calls.first?["name"] as? String == expected, "\(key): \(forced)")
                for call in calls {
                    let schema = tools.compactMap { $0["function"] as? [String: Any] }.first { $0["name"] as? String == call["name"] as? String }?["parameters"]
                    let arguments = call["arguments"] as? String ?? "?"
                    #expect(try Daemon.StructuredOutput.validate(arguments, schema ?? [:]) == "valid", "\(key): \(arguments)")
                }
            }
            // json_schema output through the openai SDK.
            let structured = try #require(out["structured"] as? [String: Any])
            #expect(structured["finish"] as? String == "stop", "\(structured)")
            #expect(try Daemon.StructuredOutput.validate(structured["text"] as? String ?? "", out["city_schema"] ?? [:]) == "valid", "\(structured)")
            for (name, param) in [("top_p", "top_p"), ("n", "n"), ("messages", "messages"), ("unknown", "frobnicate"), ("overflow", "max_tokens"),
                                  ("tool_choice", "tool_choice")] {
                #expect(errors[name]?["class"] as? String == "BadRequestError" && errors[name]?["status"] as? Int == 400, "\(name): \(String(describing: errors[name]))")
                #expect(errors[name]?["param"] as? String == param, "\(name)")
            }

            // The examples: the openai SDK and curl over the socket; a missing question, an unreachable socket.
            let example = Fixtures.repositoryRoot.appendingPathComponent("examples/http")
            let sdkExample = try ChildProcess.run(
                Daemon.venvPython, [example.appendingPathComponent("openai_chat.py").path, "What is the capital of France? Answer in one word."],
                environment: ["BRISE_HTTP_SOCKET": http])
            #expect(sdkExample.exitStatus == 0 && sdkExample.standardOutput.contains("Paris"), "\(sdkExample.standardOutput) \(sdkExample.standardError)")
            let curlExample = try ChildProcess.run(
                example.appendingPathComponent("ask.sh").path, ["What is the capital of \"France\"?\nAnswer in one word."], environment: ["BRISE_HTTP_SOCKET": http])
            #expect(curlExample.exitStatus == 0 && curlExample.standardOutput.contains("Paris"), "\(curlExample.standardOutput) \(curlExample.standardError)")
            #expect(try ChildProcess.run(example.appendingPathComponent("ask.sh").path, []).exitStatus == 2)
            let nowhere = directory.appendingPathComponent("none.sock").path
            #expect(try ChildProcess.run(example.appendingPathComponent("ask.sh").path, ["hi"], environment: ["BRISE_HTTP_SOCKET": nowhere]).exitStatus == 1)
            let sdkNowhere = try ChildProcess.run(
                Daemon.venvPython, [example.appendingPathComponent("openai_chat.py").path, "hi"], environment: ["BRISE_HTTP_SOCKET": nowhere])
            #expect(sdkNowhere.exitStatus == 1 && sdkNowhere.standardError.contains("cannot reach brised"), "\(sdkNowhere.standardError)")

            // /metrics, read by prometheus_client's parser: the requests above are counted, by face
            // and result, with their tokens; the gauges are there.
            let parse = """
                import sys, json, subprocess
                from prometheus_client.parser import text_string_to_metric_families
                text = subprocess.run(["curl", "-s", "--unix-socket", sys.argv[1], "http://brised/metrics"], capture_output=True, text=True).stdout
                out = {}
                for family in text_string_to_metric_families(text):
                    for sample in family.samples:
                        key = sample.name + "".join(f"|{k}={v}" for k, v in sorted(sample.labels.items()))
                        out[key] = sample.value
                print(json.dumps(out))
                """
            let scraped = try ChildProcess.run(Daemon.venvPython, ["-c", parse, http])
            let samples = try #require(try JSONSerialization.jsonObject(with: Data(scraped.standardOutput.utf8)) as? [String: Double], "\(scraped.standardError)")
            #expect((samples["brise_requests_total|method=http.Chat|result=ok"] ?? 0) >= 3, "\(samples.keys.sorted())")
            #expect((samples["brise_requests_total|method=Chat|result=ok"] ?? 0) >= 1)
            #expect((samples["brise_requests_total|method=http.Complete|result=ok"] ?? 0) >= 1)
            #expect((samples["brise_requests_total|method=http./v1/chat/completions|result=invalid_parameter"] ?? 0) >= 5)
            #expect((samples["brise_generated_tokens_total"] ?? 0) > 0 && (samples["brise_prompt_tokens_total"] ?? 0) > 0)
            #expect((samples["brise_prompt_seconds_count"] ?? 0) >= 5)
            #expect(samples["brise_slots"] != nil && samples["brise_memory_plan_bytes"] != nil && samples["brise_build_info|version=\(BriseVersion.current)"] == 1)
            withExtendedLifetime(daemon) {}
        }

        /// Statuses for what is not a good request, the peer check, body limits, keep-alive, and a
        /// client hanging up mid-stream; the daemon keeps serving throughout.
        @Test func statusesLimitsAndHangUps() throws {
            let directory = try DaemonProcess.makeDirectory()
            let http = directory.appendingPathComponent("http.sock").path
            let (daemon, _) = try Daemon.start(["--http-socket", http, "--max-message-bytes", "4096"])
            let health = try Self.curl(http, ["http://brised/health"])
            #expect(health.status == 200 && health.body.contains("\"ok\""))
            #expect(try Self.curl(http, ["http://brised/nowhere"]).status == 404)
            #expect(try Self.curl(http, ["-X", "DELETE", "http://brised/v1/models"]).status == 405)
            #expect(try Self.curl(http, ["-d", "not json", "http://brised/v1/chat/completions"]).status == 400)
            let large = try Self.curl(http, ["-d", "{\"prompt\": \"\(String(repeating: "x", count: 8000))\"}", "http://brised/v1/completions"])
            #expect(large.status == 413 && large.body.contains("max_message_bytes"), "\(large)")
            let format = try Self.curl(http, ["-d", #"{"prompt":"x","response_format":{"type":"json_schema","json_schema":{"schema":{"type":"nope"}}}}"#, "http://brised/v1/completions"])
            #expect(format.status == 400 && format.body.contains("\"param\":\"response_format\""), "\(format)")
            // /tokenize and /detokenize, as llama-server shapes them.
            let tokens = try Self.curl(http, ["-d", #"{"content":"hello world","add_special":false}"#, "http://brised/tokenize"])
            #expect(tokens.status == 200 && tokens.body.hasPrefix("{\"tokens\":["), "\(tokens)")
            let ids = tokens.body.dropFirst("{\"tokens\":".count).dropLast()
            let text = try Self.curl(http, ["-d", "{\"tokens\":\(ids)}", "http://brised/detokenize"])
            #expect(text.status == 200 && text.body == #"{"content":"hello world"}"#, "\(text)")
            #expect(try Self.curl(http, ["-d", #"{"tokens":[99999999]}"#, "http://brised/detokenize"]).status == 400)
            // The tiny model has no FIM tokens: a 400 naming prompt.
            let fim = try Self.curl(http, ["-d", #"{"prompt":"def f():","suffix":"return 1"}"#, "http://brised/v1/fim/completions"])
            #expect(fim.status == 400 && fim.body.contains("fill-in-the-middle"), "\(fim)")
            // Two requests on one connection (keep-alive), then garbage: a 400 and the connection closed.
            let script = """
                import socket, sys
                s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
                s.sendall(b"GET /health HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET /v1/models HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
                data = b""
                while data.count(b"HTTP/1.1 200") < 2:
                    chunk = s.recv(65536)
                    if not chunk: break
                    data += chunk
                print(data.count(b"HTTP/1.1 200"))
                g = socket.socket(socket.AF_UNIX); g.connect(sys.argv[1]); g.sendall(b"\\x00\\x01garbage\\r\\n\\r\\n")
                reply = b""
                while True:
                    chunk = g.recv(65536)
                    if not chunk: break
                    reply += chunk
                print(reply.split(b"\\r\\n")[0].decode())
                # A streamed answer the client leaves after the first event.
                h = socket.socket(socket.AF_UNIX); h.connect(sys.argv[1])
                body = b'{"prompt":"abc","max_tokens":200,"stream":true,"temperature":0}'
                h.sendall(b"POST /v1/completions HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: " + str(len(body)).encode() + b"\\r\\n\\r\\n" + body)
                first = b""
                while b"data:" not in first:
                    chunk = h.recv(65536)
                    if not chunk: break
                    first += chunk
                h.close()
                print(b"data:" in first)
                # 4 MB of headers, 20,000 headers, a lying Content-Length: an error status or a close.
                for request in [b"GET /health HTTP/1.1\\r\\nX-Big: " + b"a" * (4 << 20) + b"\\r\\n\\r\\n",
                                b"GET /health HTTP/1.1\\r\\n" + b"".join(b"X-%d: v\\r\\n" % i for i in range(20000)) + b"\\r\\n",
                                b"POST /v1/completions HTTP/1.1\\r\\nContent-Length: 999999999999\\r\\n\\r\\n{}"]:
                    b = socket.socket(socket.AF_UNIX); b.settimeout(90); b.connect(sys.argv[1])
                    try:
                        b.sendall(request)
                        b.shutdown(socket.SHUT_WR)
                        reply = b.recv(65536)
                    except OSError:
                        reply = b""
                    status = reply.split(b"\\r\\n")[0].decode(errors="replace")
                    print("refused" if (status == "" or status.split(" ")[1][0] in "45") else status)
                # 200 pipelined requests on one connection: 200 answers, in order.
                p = socket.socket(socket.AF_UNIX); p.settimeout(60); p.connect(sys.argv[1])
                p.sendall(b"GET /health HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n" * 199 + b"GET /health HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
                answers = b""
                while True:
                    chunk = p.recv(1 << 16)
                    if not chunk: break
                    answers += chunk
                print(answers.count(b"HTTP/1.1 200 OK"))
                # A chunk-size bomb, a path outside the API, a 64 MB body: a status each.
                for request in [b"POST /v1/completions HTTP/1.1\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nffffffffffffffffff\\r\\n",
                                b"GET /../../etc/passwd HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"]:
                    b = socket.socket(socket.AF_UNIX); b.settimeout(30); b.connect(sys.argv[1]); b.sendall(request)
                    print(b.recv(65536).split(b"\\r\\n")[0].decode())
                big = socket.socket(socket.AF_UNIX); big.settimeout(60); big.connect(sys.argv[1])
                big.sendall(b"POST /v1/completions HTTP/1.1\\r\\nContent-Length: 67108864\\r\\n\\r\\n")
                sent = 0
                try:
                    while sent < 64 << 20:
                        sent += big.send(b"x" * (1 << 20))
                except OSError:
                    pass
                print(big.recv(65536).split(b"\\r\\n")[0].decode())
                # 60 connections that never finish their headers; another client is still served.
                slow = []
                for _ in range(60):
                    c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); c.sendall(b"GET /health HTTP/1.1\\r\\nX-Slow: ")
                    slow.append(c)
                q = socket.socket(socket.AF_UNIX); q.settimeout(30); q.connect(sys.argv[1]); q.sendall(b"GET /health HTTP/1.1\\r\\nConnection: close\\r\\n\\r\\n")
                print(q.recv(65536).split(b"\\r\\n")[0].decode())
                """
            let residentBefore = daemon.statusBytes("VmRSS") ?? 0
            let raw = try ChildProcess.run("/usr/bin/env", ["python3", "-c", script, http])
            let residentAfter = daemon.statusBytes("VmRSS") ?? 0
            // Bounded buffers: the hostile load leaves the daemon's memory about where it was.
            if !Daemon.underSanitizer {
                #expect(residentAfter - residentBefore < 32 << 20, "RSS \(residentBefore >> 20) → \(residentAfter >> 20) MiB")
            }
            print("hostile HTTP load: brised RSS \(residentBefore >> 20) → \(residentAfter >> 20) MiB")
            let lines = raw.standardOutput.split(separator: "\n")
            #expect(lines == ["2", "HTTP/1.1 400 Bad Request", "True", "refused", "refused", "refused", "200", "HTTP/1.1 400 Bad Request", "HTTP/1.1 404 Not Found", "HTTP/1.1 413 Payload Too Large", "HTTP/1.1 200 OK"], "\(raw.standardOutput) \(raw.standardError)")
            // Still serving, and the hung-up stream did not hold the model.
            let after = try Self.curl(http, ["-d", #"{"prompt":"abc","max_tokens":4,"temperature":0}"#, "http://brised/v1/completions"])
            #expect(after.status == 200 && after.body.contains("\"text_completion\""), "\(after)")
            withExtendedLifetime(daemon) {}
        }

        /// A peer the policy does not allow (curl as `nobody`, the socket open to all) gets 403 on the
        /// HTTP socket, as on Varlink; an allowed one is served.
        @Test(.enabled(if: Daemon.PeerCredentials.canSwitchUsers, "needs root and setpriv"))
        func aPeerThatIsNotAllowedGets403() throws {
            let directory = try DaemonProcess.makeDirectory()
            chmod(directory.path, 0o755)
            let http = directory.appendingPathComponent("http.sock").path
            let (daemon, _) = try Daemon.start(["--http-socket", http, "--socket-mode", "0666", "--allowed-users", "root"])
            let nobody = getpwnam("nobody")!.pointee
            let asNobody = try ChildProcess.run(
                Daemon.PeerCredentials.setpriv,
                ["--reuid=\(nobody.pw_uid)", "--regid=\(nobody.pw_gid)", "--clear-groups", "/usr/bin/curl", "-s", "-w", "\n%{http_code}",
                 "--unix-socket", http, "http://brised/health"])
            #expect(asNobody.standardOutput.hasSuffix("\n403") && asNobody.standardOutput.contains("permission_denied"), "\(asNobody.standardOutput) \(asNobody.standardError)")
            #expect(try Self.curl(http, ["http://brised/health"]).status == 200)
            withExtendedLifetime(daemon) {}
        }

        /// Loopback TCP only with a key: none or a wrong one is 401 (with WWW-Authenticate), the right
        /// one is served; a non-loopback address or a missing key file stops brised at start-up.
        @Test func tcpNeedsTheAPIKey() throws {
            let directory = try DaemonProcess.makeDirectory()
            let keyFile = directory.appendingPathComponent("key")
            try "s3cret-key\n".write(to: keyFile, atomically: true, encoding: .utf8)
            let port = 20000 + Int(getpid() % 20000)
            let (daemon, _) = try Daemon.start(["--http-listen", "127.0.0.1:\(port)", "--api-key-file", keyFile.path])
            let url = "http://127.0.0.1:\(port)/v1/completions"
            let body = #"{"prompt":"abc","max_tokens":3,"temperature":0}"#
            func post(_ headers: [String]) throws -> ChildProcess.Result {
                var deadline = 0
                while true {
                    let result = try ChildProcess.run("/usr/bin/env", ["curl", "-s", "-i", "--max-time", "30", "-d", body] + headers + [url])
                    if result.standardOutput.hasPrefix("HTTP/") || deadline >= 50 { return result }
                    deadline += 1
                    Thread.sleep(forTimeInterval: 0.2)  // the TCP listener may come up just after the Varlink socket
                }
            }
            let none = try post([])
            #expect(none.standardOutput.hasPrefix("HTTP/1.1 401") && none.standardOutput.lowercased().contains("www-authenticate: bearer"), "\(none.standardOutput)")
            #expect(try post(["-H", "Authorization: Bearer wrong"]).standardOutput.hasPrefix("HTTP/1.1 401"))
            #expect(try post(["-H", "Authorization: Bearer s3cret-key-and-more"]).standardOutput.hasPrefix("HTTP/1.1 401"))
            let good = try post(["-H", "Authorization: Bearer s3cret-key"])
            #expect(good.standardOutput.hasPrefix("HTTP/1.1 200") && good.standardOutput.contains("text_completion"), "\(good.standardOutput)")
            withExtendedLifetime(daemon) {}

            let brised = ChildProcess.builtProduct("brised")
            let model = ["--model", Daemon.tinyModel, "--socket", directory.appendingPathComponent("x.sock").path]
            let remote = try ChildProcess.run(brised, model + ["--http-listen", "0.0.0.0:\(port + 1)", "--api-key-file", keyFile.path])
            #expect(remote.exitStatus == 78 && remote.standardError.contains("http_listen_allow_remote"), "\(remote.standardError)")
            let keyless = try ChildProcess.run(brised, model + ["--http-listen", "127.0.0.1:\(port + 1)"])
            #expect(keyless.exitStatus == 78 && keyless.standardError.contains("needs api_key_file"), "\(keyless.standardError)")
            let badAddress = try ChildProcess.run(brised, model + ["--http-listen", "example.com:80", "--api-key-file", keyFile.path])
            #expect(badAddress.exitStatus == 78 && badAddress.standardError.contains("literal address"), "\(badAddress.standardError)")
            try "\n".write(to: keyFile, atomically: true, encoding: .utf8)
            let emptyKey = try ChildProcess.run(brised, model + ["--http-listen", "127.0.0.1:\(port + 1)", "--api-key-file", keyFile.path])
            #expect(emptyKey.exitStatus != 0 && emptyKey.standardError.contains("holds no key"), "\(emptyKey.standardError)")
        }
    }
}
