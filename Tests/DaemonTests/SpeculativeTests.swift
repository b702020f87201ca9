import BriseClient
import Foundation
import TestSupport
import Testing
import WireProtocol

/// Speculative decoding through the real daemon: the `speculative` option and the config default, the
/// usage's drafted/accepted counts, GetStatus's acceptance, the same text with and without guesses
/// (greedy and seeded) on the real Qwen2.5-Coder, and refusals of bad values.
extension Daemon {
    @Suite struct Speculative {
        /// An edit: a function repeated with one name changed, as an editor asks for it.
        static let edit = """
            Rename the function `area` to `surface` and change nothing else. Answer with the code only.

            ```python
            def area(width, height):
                \"\"\"The area of a width x height rectangle.\"\"\"
                if width < 0 or height < 0:
                    raise ValueError("negative side")
                return width * height


            def describe(width, height):
                return f"{width} x {height} has area {area(width, height)}"
            ```
            """

        static func run(_ client: BriseClient, _ messages: [Message], _ options: SamplingOptions) async throws -> (String, BriseClient.Summary?) {
            var text = ""
            var summary: BriseClient.Summary?
            for try await event in client.chat(messages, options: options) {
                switch event {
                case .text(let chunk): text += chunk
                case .reasoning: break
                case .finished(let end): summary = end
                }
            }
            return (text, summary)
        }

        @Test(.enabled(if: Fixtures.realModelsPresent, "needs the real models"))
        func qwenGivesTheSameAnswersWithGuesses() async throws {
            // The daemon's default is prompt lookup; a request may turn it off.
            let (daemon, socket) = try Daemon.start(model: Daemon.qwen, ["--context", "1024", "--speculative", "ngram"])
            defer { withExtendedLifetime(daemon) {} }
            let client = BriseClient(location: SocketLocation(path: socket))
            let messages = [Message(role: "user", content: Self.edit)]
            for seed in [nil, 7] as [UInt64?] {
                let temperature: Double = seed == nil ? 0 : 0.8
                let (plain, plainSummary) = try await Self.run(
                    client, messages, SamplingOptions(temperature: temperature, seed: seed, maxTokens: 160, speculative: .off))
                let (guessed, summary) = try await Self.run(client, messages, SamplingOptions(temperature: temperature, seed: seed, maxTokens: 160))
                #expect(guessed == plain, "seed \(String(describing: seed))")
                #expect(plainSummary?.usage?.draftedTokens == nil)
                let usage = try #require(summary?.usage)
                #expect(usage.generatedTokens == plainSummary?.usage?.generatedTokens)
                let drafted = try #require(usage.draftedTokens)
                let accepted = try #require(usage.acceptedTokens)
                #expect(drafted > 0 && accepted > 0 && accepted <= drafted, "\(drafted) drafted, \(accepted) accepted")
                if seed == nil {
                    // Greedy copying: most of the answer comes from the prompt.
                    #expect(guessed.contains("def surface(width, height):"), "\(guessed)")
                    #expect(accepted * 2 > usage.generatedTokens, "\(accepted) of \(usage.generatedTokens) accepted")
                }
            }
            let status = try await client.status()
            let acceptance = try #require(status.speculativeAcceptance)
            #expect(acceptance > 0 && acceptance <= 1)
        }

        @Test func badValuesAreRefused() async throws {
            let (daemon, socket) = try Daemon.start()
            defer { withExtendedLifetime(daemon) {} }
            let client = BriseClient(location: SocketLocation(path: socket))
            // An unknown mode fails where it is decoded, naming the field.
            let raw = try VarlinkTestClient(path: socket)
            let replies = try raw.collect("io.brise.Inference.Generate", ["prompt": "t5 t6", "options": ["speculative": "fast"]])
            let reply = try #require(replies.first)
            #expect(Daemon.errorName(reply) == "io.brise.Inference.InvalidParameter", "\(reply)")
            #expect(((reply["parameters"] as? [String: Any])?["parameter"] as? String)?.contains("speculative") == true, "\(reply)")
            // draft needs a draft model.
            do {
                for try await _ in client.generate("t5 t6", options: SamplingOptions(maxTokens: 4, speculative: .draft)) {}
                Issue.record("expected InvalidParameter")
            } catch let error as BriseClientError {
                #expect(error.code == .invalidParameter && error.message.contains("draft model"), "\(error.message)")
            }
            // The daemon still answers, with guesses on a model whose answers loop.
            var summary: BriseClient.Summary?
            for try await event in client.generate("t5 t6 t7", options: SamplingOptions(temperature: 0, maxTokens: 40, speculative: .ngram)) {
                if case .finished(let end) = event { summary = end }
            }
            #expect(summary?.usage?.draftedTokens != nil)
            // A config that asks for draft without a draft model does not start.
            let bad = try ChildProcess.run(
                ChildProcess.builtProduct("brised"), ["--model", Daemon.tinyModel, "--socket", "/nonexistent/s", "--speculative", "draft"])
            #expect(bad.exitStatus != 0 && bad.standardError.contains("speculative"), "\(bad.standardError)")
        }
    }
}
