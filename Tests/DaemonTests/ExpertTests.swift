import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A mixture-of-experts model through the real daemon and CLI: it answers, GetStatus and `brise
/// status` report how much of its experts is in memory, and `brise budget` says what it needs at full
/// speed and the least it runs in.
extension Daemon {
    @Suite struct Experts {
        static let model = Fixtures.path("models/tiny-mixtral-Q8_0.gguf")

        @Test func servesAndReportsExpertResidency() throws {
            let (daemon, socket) = try Daemon.start(model: Self.model, ["--context", "256", "--parallel", "2"])
            let client = try VarlinkTestClient(path: socket)
            let replies = try client.collect("io.brise.Inference.Generate", ["prompt": "abc", "options": ["max_tokens": 12, "temperature": 0]])
            let usage = (replies.last?["parameters"] as? [String: Any])?["usage"] as? [String: Any]
            #expect(usage?["generated_tokens"] as? Int == 12, "\(replies)")
            // The same request again gives the same text (greedy).
            let again = try client.collect("io.brise.Inference.Generate", ["prompt": "abc", "options": ["max_tokens": 12, "temperature": 0]])
            #expect(Daemon.text(again) == Daemon.text(replies))

            let status = try #require(try client.collect("io.brise.Inference.GetStatus").first?["parameters"] as? [String: Any])
            let experts = try #require(status["expert_bytes"] as? Int, "\(status)")
            let resident = try #require(status["expert_resident_bytes"] as? Int)
            #expect(experts == 2 * 8 * 3 * 256 * 272)
            #expect(resident > 0 && resident <= experts, "\(resident) of \(experts)")
            let cli = try ChildProcess.run(ChildProcess.builtProduct("brise"), ["status", "--socket", socket])
            #expect(cli.exitStatus == 0 && cli.standardOutput.contains("experts "), "\(cli.standardOutput)\(cli.standardError)")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)

            // A dense model's status has no expert fields.
            let (dense, denseSocket) = try Daemon.start()
            let denseStatus = try #require(
                try VarlinkTestClient(path: denseSocket).collect("io.brise.Inference.GetStatus").first?["parameters"] as? [String: Any])
            #expect(denseStatus["expert_bytes"] == nil && denseStatus["expert_resident_bytes"] == nil)
            dense.signal(SIGTERM)
            #expect(dense.waitForExit(timeout: 20) == 0)
        }

        /// `brise bench` reports how much of the experts is in memory (all of them, for a file this small
        /// after a run), in its table and in its JSON.
        @Test func benchReportsExpertResidency() throws {
            let brise = ChildProcess.builtProduct("brise")
            let table = try ChildProcess.run(brise, ["bench", "--model", Self.model, "-p", "16", "-n", "4", "--repetitions", "1"])
            #expect(table.exitStatus == 0 && table.standardOutput.contains("experts resident"), "\(table.standardOutput)\(table.standardError)")
            let json = try ChildProcess.run(brise, ["bench", "--model", Self.model, "-p", "16", "-n", "4", "--repetitions", "1", "--json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
            #expect(object["expertBytes"] as? Int == 2 * 8 * 3 * 256 * 272)
            #expect((object["expertResidentBytes"] as? Int ?? 0) > 0)
            let dense = try ChildProcess.run(brise, ["bench", "--model", Daemon.tinyModel, "-p", "8", "-n", "2", "--repetitions", "1", "--json"])
            let denseObject = try #require(try JSONSerialization.jsonObject(with: Data(dense.standardOutput.utf8)) as? [String: Any])
            #expect(denseObject["expertBytes"] == nil)
        }

        @Test func budgetSaysWhatFullSpeedNeedsAndTheLeastItRunsIn() throws {
            let brise = ChildProcess.builtProduct("brise")
            let roomy = try ChildProcess.run(brise, ["budget", "--model", Self.model, "--context", "256", "--memory-budget", "1G"])
            #expect(roomy.exitStatus == 0, "\(roomy.standardError)")
            #expect(roomy.standardOutput.contains("full speed needs") && roomy.standardOutput.contains("runs in"))
            #expect(!roomy.standardOutput.contains("this budget: paged"))
            // Parse the two figures and plan between them: the experts are paged.
            func mebibytes(after marker: String, in text: String) -> Double? {
                guard let range = text.range(of: marker) else { return nil }
                let number = text[range.upperBound...].prefix { $0.isNumber || $0 == "." }
                return Double(number)
            }
            let full = try #require(mebibytes(after: "full speed needs ", in: roomy.standardOutput))
            let least = try #require(mebibytes(after: "runs in ", in: roomy.standardOutput))
            #expect(least < full)
            let between = Int((least + full) / 2 * 1_048_576)
            let paged = try ChildProcess.run(brise, ["budget", "--model", Self.model, "--context", "256", "--memory-budget", "\(between)"])
            #expect(paged.exitStatus == 0 && paged.standardOutput.contains("this budget: paged"), "\(paged.standardOutput)\(paged.standardError)")
            let tooSmall = try ChildProcess.run(brise, ["budget", "--model", Self.model, "--context", "256", "--memory-budget", "1M"])
            #expect(tooSmall.exitStatus == 1 && tooSmall.standardError.contains("budget"))
        }
    }
}
