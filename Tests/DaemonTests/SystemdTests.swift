import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension Daemon {
    /// Socket activation, readiness, status, watchdog and stopping, as systemd would see them.
    @Suite struct Systemd {
        static let socketActivate = "/usr/bin/systemd-socket-activate"

        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: Systemd.socketActivate)))
        func socketActivationAndNotifyMessages() throws {
            let directory = try DaemonProcess.makeDirectory()
            let socket = directory.appendingPathComponent("activated.sock").path
            let notify = try NotifyListener(path: directory.appendingPathComponent("notify").path)
            // systemd-socket-activate binds and listens, then execs brised with LISTEN_FDS=1 on the
            // first connection; WATCHDOG_USEC asks for pings every 0.5 s (interval 1 s).
            let daemon = try DaemonProcess(
                Systemd.socketActivate,
                [
                    "-l", socket, "-E", "NOTIFY_SOCKET=\(notify.path)", "-E", "WATCHDOG_USEC=1000000",
                    "-E", "BRISE_MODEL=\(Daemon.tinyModel)", "-E", "BRISE_LOG_LEVEL=warning",
                    ChildProcess.builtProduct("brised"),
                ],
                directory: directory)
            // The first connection triggers the exec; the daemon answers it once ready.
            let client = try retrying { try VarlinkTestClient(path: socket) }
            let replies = try client.collect("io.brise.Inference.GetModel")
            #expect((replies.first?["parameters"] as? [String: Any])?["architecture"] as? String == "llama")

            #expect(notify.wait(for: "READY=1", timeout: 30))
            let readyStatus = try #require(notify.values(of: "STATUS").last)
            #expect(readyStatus.hasPrefix("idle;"), "STATUS= with the state: \(readyStatus)")
            #expect(notify.values(of: "EXTEND_TIMEOUT_USEC").count >= 1, "asked for time while loading")
            // Watchdog pings keep coming while idle.
            let before = notify.values(of: "WATCHDOG").count
            Thread.sleep(forTimeInterval: 1.6)
            _ = notify.wait(for: "never", timeout: 0.2)
            #expect(notify.values(of: "WATCHDOG").count >= before + 2, "WATCHDOG=1 at least every 0.5 s")

            // A generation updates STATUS= with a rate.
            let generated = try client.collect(
                "io.brise.Inference.Generate", ["prompt": "abc", "options": ["temperature": 0, "max_tokens": 64]])
            #expect(Daemon.errorName(generated.last) == nil)
            _ = notify.wait(for: "never", timeout: 2.5)
            #expect(notify.values(of: "STATUS").contains { $0.contains("tokens/s") && !$0.contains("no tokens yet") })

            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
            #expect(notify.wait(for: "STOPPING=1", timeout: 1))
            // The socket systemd handed over is systemd's: brised leaves it alone.
            #expect(FileManager.default.fileExists(atPath: socket))
        }

        /// Both sockets from systemd, told apart by name (brised.socket and brised-http.socket with
        /// FileDescriptorName=http): Varlink answers on one, HTTP on the other.
        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: Systemd.socketActivate)))
        func varlinkAndHTTPSocketsFromSystemd() throws {
            let directory = try DaemonProcess.makeDirectory()
            let varlink = directory.appendingPathComponent("varlink.sock").path
            let http = directory.appendingPathComponent("http.sock").path
            let daemon = try DaemonProcess(
                Systemd.socketActivate,
                [
                    "-l", varlink, "-l", http, "--fdname=varlink:http",
                    "-E", "BRISE_MODEL=\(Daemon.tinyModel)", "-E", "BRISE_LOG_LEVEL=warning", ChildProcess.builtProduct("brised"),
                ],
                directory: directory)
            let client = try retrying { try VarlinkTestClient(path: varlink) }
            let replies = try client.collect("io.brise.Inference.GetModel")
            #expect((replies.first?["parameters"] as? [String: Any])?["architecture"] as? String == "llama")
            let health = try ChildProcess.run("/usr/bin/env", ["curl", "-s", "--max-time", "30", "--unix-socket", http, "http://brised/health"])
            #expect(health.standardOutput.contains("\"ok\""), "\(health.standardOutput) \(health.standardError)")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
        }

        /// SIGTERM during a long generation: the client gets a final reply or ShuttingDown, the
        /// daemon exits 0 within the configured bound and removes the socket file it created.
        @Test func sigtermDuringGenerationDrainsAndExits() throws {
            let (daemon, socket) = try Daemon.start(["--parallel", "1", "--shutdown-timeout-seconds", "2", "--max-tokens-per-second", "20"])
            let client = try VarlinkTestClient(path: socket)
            client.call("io.brise.Inference.Generate", ["prompt": "abc", "options": ["temperature": 0, "max_tokens": 200]], more: true)
            // Streaming has begun.
            let first = try #require(try client.receive(timeout: 20))
            #expect(first["continues"] as? Bool == true)
            // A second client is waiting in line.
            let waiting = try VarlinkTestClient(path: socket)
            waiting.call("io.brise.Inference.Generate", ["prompt": "x", "options": ["max_tokens": 5]])
            Thread.sleep(forTimeInterval: 0.3)

            let start = Date()
            daemon.signal(SIGTERM)
            var last: [String: Any]?
            while let reply = try client.receive(timeout: 10) {
                last = reply
                if reply["error"] != nil || reply["continues"] as? Bool != true { break }
            }
            let final = try #require(last)
            let endedWell = Daemon.errorName(final) == "io.brise.Inference.ShuttingDown"
                || (final["parameters"] as? [String: Any])?["finish_reason"] != nil
            #expect(endedWell, "final reply or ShuttingDown, got \(final)")
            #expect(Daemon.errorName(try waiting.receive(timeout: 10)) == "io.brise.Inference.ShuttingDown")
            let status = daemon.waitForExit(timeout: 10)
            #expect(status == 0)
            #expect(Date().timeIntervalSince(start) < 2 + 3, "within the 2 s bound (plus start-up slack)")
            #expect(!FileManager.default.fileExists(atPath: socket), "the socket file brised bound is removed")
        }

        /// A stale socket file from a crashed daemon is replaced; a live daemon's socket and a
        /// regular file are not.
        @Test func staleSocketsAndOtherFiles() throws {
            let (first, socket) = try Daemon.start()
            // A second daemon on the same path refuses: someone is listening.
            let second = try DaemonProcess.brised(["--model", Daemon.tinyModel, "--socket", socket], directory: first.directory)
            #expect(second.waitForExit(timeout: 30) == 1)
            #expect(second.standardError.contains("already listening"))
            // ...before it loads a model (which would map and warm a file it cannot serve).
            #expect(!second.standardError.contains("loading the model"), "\(second.standardError)")
            // The fatal error is printed once on a terminal, not also as a log line.
            #expect(second.standardError.components(separatedBy: "already listening").count == 2, "\(second.standardError)")
            // Kill the first without cleanup: its socket file stays, stale.
            first.signal(SIGKILL)
            _ = first.waitForExit(timeout: 10)
            #expect(FileManager.default.fileExists(atPath: socket))
            let third = try DaemonProcess.brised(["--model", Daemon.tinyModel, "--socket", socket], directory: first.directory)
            try third.waitForSocket(socket)
            third.signal(SIGTERM)
            #expect(third.waitForExit(timeout: 20) == 0)
            // A regular file where the socket should be is never replaced.
            let regular = first.directory.appendingPathComponent("not-a-socket").path
            _ = FileManager.default.createFile(atPath: regular, contents: Data("keep me".utf8))
            let fourth = try DaemonProcess.brised(["--model", Daemon.tinyModel, "--socket", regular], directory: first.directory)
            #expect(fourth.waitForExit(timeout: 30) == 1)
            #expect(fourth.standardError.contains("not a socket"))
            #expect((try? String(contentsOfFile: regular, encoding: .utf8)) == "keep me")
        }

        private func retrying<T>(_ body: () throws -> T) throws -> T {
            for _ in 0..<100 {
                if let value = try? body() { return value }
                usleep(50_000)
            }
            return try body()
        }
    }
}
