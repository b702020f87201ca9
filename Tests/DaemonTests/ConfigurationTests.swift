import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension Daemon {
    /// Bad configuration is a clear error at start-up (exit 78, EX_CONFIG), never a crash; flags beat
    /// the environment, which beats the file.
    @Suite struct Configuration {
        static func brised(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess.Result {
            try ChildProcess.run(ChildProcess.builtProduct("brised"), arguments, environment: environment)
        }

        /// One version for both executables (and GetInfo).
        @Test func bothExecutablesPrintTheSameVersion() throws {
            let daemon = try Self.brised(["--version"])
            let cli = try ChildProcess.run(ChildProcess.builtProduct("brise"), ["--version"])
            #expect(daemon.exitStatus == 0 && cli.exitStatus == 0)
            let version = cli.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(!version.isEmpty && daemon.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "brised \(version)")
        }

        @Test func badValuesAreClearErrors() throws {
            let cases: [([String], [String: String], String)] = [
                ([], [:], "no model"),
                (["--model", Daemon.tinyModel, "--threads", "many"], [:], "--threads: threads = \"many\" is not valid"),
                (["--model", Daemon.tinyModel, "--max-connections", "0"], [:], "max_connections"),
                (["--model", Daemon.tinyModel], ["BRISE_SOCKET_MODE": "rw-rw----"], "BRISE_SOCKET_MODE"),
                (["--model", Daemon.tinyModel, "--log-level", "loud"], [:], "log_level"),
                (["--model", Daemon.tinyModel, "--thermal-soft-limit", "90"], [:], "must be below thermal_hard_limit"),
                (["--model", Daemon.tinyModel, "--bogus", "1"], [:], "unknown option --bogus"),
                (["--model", Daemon.tinyModel, "--allowed-users", "no-such-user-xyz"], [:], "no user named"),
                (["--model", Daemon.tinyModel, "--memory-budget", "lots"], [:], "memory_budget"),
            ]
            for (arguments, environment, expected) in cases {
                let result = try Self.brised(arguments, environment: environment)
                #expect(result.exitStatus == 78, "\(arguments) \(environment): \(result.standardError)")
                #expect(result.signal == nil)
                #expect(result.standardError.contains(expected), "\(arguments): \(result.standardError)")
            }
        }

        @Test func badModelFilesAreClearErrors() throws {
            let directory = try DaemonProcess.makeDirectory()
            let corrupt = directory.appendingPathComponent("corrupt.gguf").path
            _ = FileManager.default.createFile(atPath: corrupt, contents: Data("GGUF\u{3}\0\0\0garbage".utf8))
            for model in [corrupt, directory.appendingPathComponent("missing.gguf").path] {
                let result = try Self.brised(["--model", model, "--socket", directory.appendingPathComponent("s").path])
                #expect(result.exitStatus == 1, "\(result.standardError)")
                #expect(result.signal == nil)
                #expect(result.standardError.contains(model))
            }
            // A budget the model cannot fit says what would.
            let tight = try Self.brised(["--model", Daemon.tinyModel, "--memory-budget", "1M", "--socket", directory.appendingPathComponent("s").path])
            #expect(tight.exitStatus == 1)
            #expect(tight.standardError.contains("budget"))
        }

        /// `model` may name a file in the models directory (as `brise pull` leaves it) instead of a path.
        @Test func modelByNameInTheModelsDirectory() throws {
            let directory = try DaemonProcess.makeDirectory()
            let models = directory.appendingPathComponent("models")
            try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Daemon.tinyModel, toPath: models.appendingPathComponent("tiny.gguf").path)
            let socket = directory.appendingPathComponent("s.sock").path
            let daemon = try DaemonProcess.brised(["--model", "tiny", "--socket", socket], environment: ["BRISE_MODELS_DIR": models.path], directory: directory)
            try daemon.waitForSocket(socket)
            let client = try VarlinkTestClient(path: socket)
            let model = try client.collect("io.brise.Inference.GetModel").first?["parameters"] as? [String: Any]
            #expect(model?["file"] as? String == models.appendingPathComponent("tiny.gguf").path)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
            let missing = try Self.brised(["--model", "ministral-3-3b", "--models-dir", models.path, "--socket", socket])
            #expect(missing.exitStatus == 1)
            #expect(missing.standardError.contains("brise pull ministral-3-3b") && missing.standardError.contains("Ministral-3-3B-Instruct-2512-Q4_K_M.gguf"))
            // A name brise pull does not know is not sent there.
            let unknown = try Self.brised(["--model", "qwen", "--models-dir", models.path, "--socket", socket])
            #expect(unknown.exitStatus == 1)
            #expect(!unknown.standardError.contains("brise pull qwen") && unknown.standardError.contains("brise models --known"), "\(unknown.standardError)")
        }

        @Test func fileThenEnvironmentThenFlags() throws {
            let directory = try DaemonProcess.makeDirectory()
            let file = directory.appendingPathComponent("brised.toml").path
            try """
            # brised test configuration
            model = "\(Daemon.tinyModel)"
            threads = 3
            max_connections = 10
            allowed_groups = ["root", "0"]
            thermal_soft_limit = 60.5
            """.write(toFile: file, atomically: true, encoding: .utf8)
            let result = try Self.brised(
                ["--config", file, "--print-config", "--threads", "1"], environment: ["BRISE_THREADS": "2", "BRISE_MAX_CONNECTIONS": "12"])
            #expect(result.exitStatus == 0, "\(result.standardError)")
            let printed = result.standardOutput
            #expect(printed.contains("model = \"\(Daemon.tinyModel)\""))
            #expect(printed.contains("threads = 1"), "flag beats environment and file")
            #expect(printed.contains("max_connections = 12"), "environment beats file")
            #expect(printed.contains("allowed_groups = [\"root\", \"0\"]"))
            #expect(printed.contains("thermal_soft_limit = 60.5"))
            // What --print-config prints is itself a valid config file.
            let roundTrip = directory.appendingPathComponent("printed.toml").path
            try printed.write(toFile: roundTrip, atomically: true, encoding: .utf8)
            #expect(try Self.brised(["--config", roundTrip, "--print-config"]).standardOutput == printed)

            try "model = \"x\"\nthreads = [1, [2]]\n".write(toFile: file, atomically: true, encoding: .utf8)
            let nested = try Self.brised(["--config", file])
            #expect(nested.exitStatus == 78)
            try "model = \"x\"\nmax_conections = 3\n".write(toFile: file, atomically: true, encoding: .utf8)
            let typo = try Self.brised(["--config", file])
            #expect(typo.exitStatus == 78 && typo.standardError.contains("unknown key \"max_conections\""))
            try "model = \"x\nthreads = \n".write(toFile: file, atomically: true, encoding: .utf8)
            let syntax = try Self.brised(["--config", file])
            #expect(syntax.exitStatus == 78 && syntax.standardError.contains("line"), "\(syntax.standardError)")
            let help = try Self.brised(["--help"])
            #expect(help.exitStatus == 0 && help.standardOutput.contains("--max-queued-requests (max_queued_requests, BRISE_MAX_QUEUED_REQUESTS)"))
        }
    }
}
