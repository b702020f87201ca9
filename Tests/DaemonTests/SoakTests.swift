import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension Daemon {
    /// Eight clients at once for a while (`BRISE_SOAK_SECONDS`, default 45): streams, whole answers,
    /// cancellations mid-stream, hang-ups, hostile frames and bad parameters, over 4 slots and a short
    /// queue. The daemon never crashes, every request that was not hung up gets its final reply or a
    /// typed error, and its memory is flat after the warm-up.
    @Suite struct Soak {
        static var seconds: Double {
            ProcessInfo.processInfo.environment["BRISE_SOAK_SECONDS"].flatMap(Double.init) ?? 45
        }

        /// Errors a client may get, all declared by the interface.
        static let typedErrors: Set<String> = [
            "io.brise.Inference.Busy", "io.brise.Inference.Timeout", "io.brise.Inference.InvalidParameter",
            "io.brise.Inference.ContextOverflow", "org.varlink.service.InvalidParameter", "org.varlink.service.MethodNotFound",
        ]

        struct Tally: Sendable {
            var finished = 0
            var typedErrors = 0
            var hungUp = 0
            var problems: [String] = []
        }

        @Test func eightClientsMixingEverything() throws {
            let (daemon, socket) = try Daemon.start([
                "--parallel", "4", "--context", "512", "--max-queued-requests", "4", "--max-connections", "32",
                "--max-queue-wait-seconds", "30",
            ])
            let tally = Shared(Tally())
            let deadline = Date().addingTimeInterval(Self.seconds)
            let warmedUp = Date().addingTimeInterval(Self.seconds * 0.25)
            let baseline = Shared<Int?>(nil)
            let pid = daemon.pid

            /// Reads replies until the final one; records what ended the request.
            @Sendable func finish(_ client: VarlinkTestClient, _ what: String) {
                do {
                    while let reply = try client.receive(timeout: 60) {
                        if let error = reply["error"] as? String {
                            tally.withLock {
                                if Self.typedErrors.contains(error) { $0.typedErrors += 1 } else { $0.problems.append("\(what): \(reply)") }
                            }
                            return
                        }
                        if reply["continues"] as? Bool != true {
                            tally.withLock { $0.finished += 1 }
                            return
                        }
                    }
                    tally.withLock { $0.problems.append("\(what): the connection closed without a final reply") }
                } catch {
                    tally.withLock { $0.problems.append("\(what): \(error)") }
                }
            }

            @Sendable func client(_ index: Int) {
                var random = SeededRandom(seed: UInt64(index + 1))
                var round = 0
                while Date() < deadline {
                    round += 1
                    if index == 0, Date() >= warmedUp, baseline.withLock({ $0 == nil }) {
                        let rss = MemorySampler.field("VmRSS", pid: pid)
                        baseline.withLock { $0 = rss }
                    }
                    guard let client = try? VarlinkTestClient(path: socket) else {
                        tally.withLock { $0.problems.append("client \(index): cannot connect") }
                        return
                    }
                    let prompt = "Client \(index), round \(round): tell me something."
                    let maxTokens = Int.random(in: 4...48, using: &random)
                    switch Int.random(in: 0..<7, using: &random) {
                    case 0, 1:
                        client.call("io.brise.Inference.Generate", ["prompt": prompt, "options": ["max_tokens": maxTokens]], more: true)
                        finish(client, "stream")
                    case 2:
                        client.call(
                            "io.brise.Inference.Chat",
                            ["messages": [["role": "user", "content": prompt]], "options": ["max_tokens": maxTokens, "seed": round]])
                        finish(client, "chat")
                    case 3:
                        // Cancelled mid-stream: read a chunk, hang up.
                        client.call("io.brise.Inference.Generate", ["prompt": prompt, "options": ["max_tokens": 200]], more: true)
                        _ = try? client.receive(timeout: 60)
                        client.close()
                        tally.withLock { $0.hungUp += 1 }
                        continue
                    case 4:
                        // Hung up before any answer.
                        client.call("io.brise.Inference.Generate", ["prompt": prompt, "options": ["max_tokens": 100]])
                        client.close()
                        tally.withLock { $0.hungUp += 1 }
                        continue
                    case 5:
                        let frames: [[UInt8]] = [
                            Array("{garbage".utf8) + [0], Array(#"{"method":"io.brise.Inference.Generate","parameters":{"prompt":"x","options":{"max_tokens":1e400}}}"#.utf8) + [0],
                            Array(#"{"method":"io.brise.Inference.Generate","parameters":{"prompt":"x","options":{"top_k":-5}}}"#.utf8) + [0],
                            Array(#"{"method":"io.brise.Inference.Detokenize","parameters":{"tokens":[99999999999]}}"#.utf8) + [0],
                        ]
                        _ = client.send(frames[Int.random(in: 0..<frames.count, using: &random)])
                        finish(client, "hostile frame")
                    default:
                        client.call("io.brise.Inference.Generate", ["prompt": prompt, "options": ["max_tokens": 100000]])
                        finish(client, "too many tokens")
                    }
                    client.close()
                }
            }

            // One thread per client (the test client blocks); each is waited for.
            let done = (0..<8).map { _ in DispatchSemaphore(value: 0) }
            for i in 0..<8 {
                Thread.detachNewThread {
                    client(i)
                    done[i].signal()
                }
            }
            for semaphore in done { semaphore.wait() }
            Thread.sleep(forTimeInterval: 1)
            let after = try #require(daemon.statusBytes("VmRSS"))
            let before = try #require(baseline.withLock { $0 })
            let result = tally.withLock { $0 }
            print(
                "soak \(Self.seconds) s, 8 clients: \(result.finished) finished, \(result.typedErrors) typed errors, "
                    + "\(result.hungUp) hung up; RSS \(before >> 10) KiB -> \(after >> 10) KiB")
            #expect(result.problems.isEmpty, "\(result.problems.prefix(5))")
            #expect(result.finished > 20)
            if !Daemon.underSanitizer {
                #expect(after - before < 16 << 20, "RSS grew by \((after - before) >> 10) KiB after the warm-up")
            }
            try HostileClients.healthy(socket)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 30) == 0)
        }
    }
}

/// A value behind an NSLock (a pthread mutex, which ThreadSanitizer sees; `Synchronization.Mutex` it
/// does not, on Linux).
final class Shared<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
