import BriseClient
import Foundation
import TestSupport
import Testing
import WireProtocol

/// `Complete` (fill in the middle) through the real daemon: the real Qwen2.5-Coder model fills a hole
/// in a function so that the test below it passes; a model without FIM tokens is refused.
extension Daemon {
    @Suite struct Complete {
        /// Holes in the middle of functions (the signature and the start above, the return and a test
        /// below), as an editor's cursor leaves them.
        static let holes: [(name: String, prefix: String, suffix: String)] = [
            ("fibonacci", "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        ",
             "\n    return a\n\n\nassert fibonacci(10) == 55\nassert fibonacci(1) == 1\nprint(\"ok\")\n"),
            ("sum_of_evens", "def sum_of_evens(numbers):\n    \"\"\"Sum of the even numbers in the list.\"\"\"\n    total = 0\n    for n in numbers:\n        ",
             "\n    return total\n\n\nassert sum_of_evens([1, 2, 3, 4, 6]) == 12\nprint(\"ok\")\n"),
            ("count_vowels", "def count_vowels(text):\n    \"\"\"Number of vowels (a, e, i, o, u) in text, any case.\"\"\"\n    count = 0\n    for ch in text.lower():\n        ",
             "\n    return count\n\n\nassert count_vowels(\"Hello World\") == 3\nprint(\"ok\")\n"),
            ("maximum", "def maximum(values):\n    \"\"\"The largest value of a non-empty list, without max().\"\"\"\n    best = values[0]\n    for v in values[1:]:\n        ",
             "\n    return best\n\n\nassert maximum([3, 9, 2, 7]) == 9\nprint(\"ok\")\n"),
            ("reverse_words", "def reverse_words(sentence):\n    \"\"\"The words of sentence in reverse order, separated by single spaces.\"\"\"\n    words = sentence.split()\n    ",
             "\n    return result\n\n\nassert reverse_words(\"the quick brown fox\") == \"fox brown quick the\"\nprint(\"ok\")\n"),
            ("factorial", "def factorial(n):\n    result = 1\n    for i in range(2, n + 1):\n        ",
             "\n    return result\n\n\nassert factorial(5) == 120\nprint(\"ok\")\n"),
        ]

        static func middle(_ client: BriseClient, _ prefix: String, _ suffix: String) async throws -> (String, BriseClient.Summary?) {
            var text = ""
            var summary: BriseClient.Summary?
            for try await event in client.complete(prefix, suffix: suffix, options: SamplingOptions(temperature: 0, maxTokens: 64)) {
                switch event {
                case .text(let chunk): text += chunk
                case .reasoning: break
                case .finished(let end): summary = end
                }
            }
            return (text, summary)
        }

        @Test(.enabled(if: Fixtures.realModelsPresent, "needs the real models"))
        func qwenFillsHolesSoTheTestsPass() async throws {
            let (daemon, socket) = try Daemon.start(model: Daemon.qwen, ["--context", "1024"])
            let client = BriseClient(location: SocketLocation(path: socket))
            #expect(try await client.model().fillInTheMiddle == true)
            for hole in Self.holes {
                let (middle, summary) = try await Self.middle(client, hole.prefix, hole.suffix)
                // The middle ends where the suffix begins (its first line is a stop string).
                #expect(summary?.finishReason == "stop", "\(hole.name): \(middle.debugDescription)")
                let file = daemon.directory.appendingPathComponent("\(hole.name).py")
                try (hole.prefix + middle + hole.suffix).write(to: file, atomically: true, encoding: .utf8)
                let run = try ChildProcess.run("/usr/bin/env", ["python3", file.path])
                #expect(run.exitStatus == 0 && run.standardOutput == "ok\n", "\(hole.name): \(middle.debugDescription) → \(run.standardError)")
            }

            // brise complete prints the file with the gap filled.
            let hole = Self.holes[0]
            let prefixFile = daemon.directory.appendingPathComponent("prefix.py")
            let suffixFile = daemon.directory.appendingPathComponent("suffix.py")
            try hole.prefix.write(to: prefixFile, atomically: true, encoding: .utf8)
            try hole.suffix.write(to: suffixFile, atomically: true, encoding: .utf8)
            let cli = try ChildProcess.run(
                ChildProcess.builtProduct("brise"),
                ["complete", "--prefix", prefixFile.path, "--suffix", suffixFile.path, "--whole", "--temperature", "0", "-n", "64"],
                environment: ["BRISE_SOCKET": socket])
            #expect(cli.exitStatus == 0 && cli.standardOutput.hasPrefix(hole.prefix) && cli.standardOutput.hasSuffix(hole.suffix))
            let filled = daemon.directory.appendingPathComponent("filled.py")
            try cli.standardOutput.write(to: filled, atomically: true, encoding: .utf8)
            #expect(try ChildProcess.run("/usr/bin/env", ["python3", filled.path]).standardOutput == "ok\n")
        }

        @Test func aModelWithoutFIMTokensIsRefused() async throws {
            let (daemon, socket) = try Daemon.start()
            defer { withExtendedLifetime(daemon) {} }
            let client = BriseClient(location: SocketLocation(path: socket))
            #expect(try await client.model().fillInTheMiddle == false)
            do {
                for try await _ in client.complete("def f():", suffix: "return 1") {}
                Issue.record("expected InvalidParameter")
            } catch let error as BriseClientError {
                #expect(error.code == .invalidParameter && error.message.contains("fill-in-the-middle"), "\(error.message)")
            }
        }
    }
}
