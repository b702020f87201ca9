import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension Daemon {
    /// Several apps at once through the real daemon: continuous batching gives each the answer it gets
    /// alone, a long prompt joins between the running streams' steps, and GetStatus shows the slots.
    @Suite struct Concurrency {
        /// Every model here; under a sanitizer (which looks for races and bad memory, not numerics, at
        /// ten times the cost) the tiny one and the first real one.
        static var models: [String] {
            let all = ([Daemon.tinyModel] + Fixtures.presentRealModels + [Budgets.ministralShaped].compactMap { $0 })
                .filter { FileManager.default.fileExists(atPath: $0) }
            return Daemon.underSanitizer ? Array(all.prefix(2)) : all
        }

        static let prompts = [
            "Write a short poem about the sea.",
            "List three uses of a Raspberry Pi:",
            "def fibonacci(n):",
            "The capital of France is",
        ]

        /// A streamed Generate's text and final parameters.
        static func finish(_ client: VarlinkTestClient) throws -> (String, [String: Any]) {
            var text = ""
            while let reply = try client.receive(timeout: 600) {
                if reply["error"] != nil { throw DaemonTestError("request failed: \(reply)") }
                let parameters = reply["parameters"] as? [String: Any] ?? [:]
                text += parameters["text"] as? String ?? ""
                if reply["continues"] as? Bool != true { return (text, parameters) }
            }
            throw DaemonTestError("the connection closed before the final reply")
        }

        /// Four greedy requests started at different moments, with different prompts and lengths:
        /// each answer equals the one the same daemon gives the request alone, byte for byte.
        @Test(arguments: models)
        func answersTogetherEqualAnswersAlone(model: String) throws {
            let big = model == Budgets.ministralShaped
            // The tiny model answers in milliseconds, and the 2-layer 3B-shaped file's short answers
            // take ~60 ms on a fast box: a step-rate cap keeps their requests overlapping.
            let pace = model == Daemon.tinyModel ? ["--max-tokens-per-second", "100"]
                : big ? ["--max-tokens-per-second", "20"] : []
            let (daemon, socket) = try Daemon.start(model: model, ["--parallel", "4", "--context", "512"] + pace)
            defer {
                daemon.signal(SIGTERM)
                #expect(daemon.waitForExit(timeout: 60) == 0)
            }
            let lengths = big ? [12, 6, 16, 9] : [40, 24, 56, 32]
            func parameters(_ i: Int) -> [String: Any] {
                ["prompt": Self.prompts[i], "options": ["max_tokens": lengths[i], "temperature": 0]]
            }
            var alone: [String] = []
            for i in Self.prompts.indices {
                let client = try VarlinkTestClient(path: socket)
                client.call("io.brise.Inference.Generate", parameters(i), more: true)
                alone.append(try Self.finish(client).0)
            }
            let watcher = try VarlinkTestClient(path: socket)
            var clients: [VarlinkTestClient] = []
            var busiest = 0
            for i in Self.prompts.indices {
                let client = try VarlinkTestClient(path: socket)
                client.call("io.brise.Inference.Generate", parameters(i), more: true)
                clients.append(client)
                Thread.sleep(forTimeInterval: big ? 0.3 : 0.02)
                let status = try watcher.collect("io.brise.Inference.GetStatus").first?["parameters"] as? [String: Any]
                #expect(status?["slots"] as? Int == 4)
                busiest = max(busiest, status?["active_requests"] as? Int ?? 0)
            }
            // Requests are admitted between steps: look a little longer for them running together.
            for _ in 0..<20 where busiest < 2 {
                let status = try watcher.collect("io.brise.Inference.GetStatus").first?["parameters"] as? [String: Any]
                busiest = max(busiest, status?["active_requests"] as? Int ?? 0)
                Thread.sleep(forTimeInterval: 0.05)
            }
            for (i, client) in clients.enumerated() {
                let (text, final) = try Self.finish(client)
                #expect(text == alone[i], "request \(i) on \(URL(fileURLWithPath: model).lastPathComponent)")
                #expect((final["usage"] as? [String: Any])?["generated_tokens"] as? Int ?? 0 > 0)
            }
            #expect(busiest >= 2, "requests ran side by side (at most \(busiest) at once)")
        }

        /// A budget too small for the slots asked for stops brised at start-up, naming the largest
        /// --parallel that fits.
        @Test func aBudgetTooSmallForTheSlotsNamesWhatFits() throws {
            let model = try #require(Budgets.ministralShaped)
            // What do 2 slots of 1024 need? Then offer that budget to 8 slots.
            let (probe, socket) = try Daemon.start(model: model, ["--context", "1024", "--parallel", "2"])
            let planned = try #require(
                (try VarlinkTestClient(path: socket).collect("io.brise.Inference.GetStatus").first?["parameters"] as? [String: Any])?[
                    "memory_plan_bytes"] as? Int)
            probe.signal(SIGTERM)
            #expect(probe.waitForExit(timeout: 30) == 0)
            let directory = try DaemonProcess.makeDirectory()
            let tight = try DaemonProcess.brised(
                ["--model", model, "--context", "1024", "--parallel", "8", "--memory-budget", "\(planned + (1 << 20))",
                 "--socket", directory.appendingPathComponent("s").path], directory: directory)
            #expect(tight.waitForExit(timeout: 60) == 1)
            #expect(tight.standardError.contains("the largest --parallel that fits 1024 positions each is 2"), "\(tight.standardError)")
        }
    }
}
