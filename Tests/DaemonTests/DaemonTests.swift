import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// End-to-end tests of the real `brised` binary on real sockets. Serialized: each starts a daemon,
/// and the machine has two cores.
@Suite(.serialized) enum Daemon {
    /// A tiny llama model with a vocabulary (fast: milliseconds per token).
    static let tinyModel = Fixtures.path("models/tiny-llama-Q8_0.gguf")
    /// The real instruct model (Qwen2.5-Coder-0.5B), when fetched.
    static let qwen = Fixtures.realModelsDirectory + "/qwen2.5-coder-0.5b-instruct-q4.gguf"

    static var venvPython: String {
        (ProcessInfo.processInfo.environment["BRISE_VENV"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/brise/venv").path) + "/bin/python"
    }

    static var pythonVarlinkAvailable: Bool {
        guard FileManager.default.isExecutableFile(atPath: venvPython) else { return false }
        return (try? ChildProcess.run(venvPython, ["-c", "import varlink"]))?.exitStatus == 0
    }

    static let pythonClient = Fixtures.repositoryRoot.appendingPathComponent("Tests/DaemonTests/clients/varlink_client.py").path

    /// Runs the independent Python client; its JSON output.
    static func python(_ socket: String, _ action: String, _ argument: String? = nil) throws -> [String: Any] {
        let result = try ChildProcess.run(venvPython, [pythonClient, socket, action] + (argument.map { [$0] } ?? []))
        guard result.exitStatus == 0 || result.exitStatus == 3,
            let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        else {
            throw DaemonTestError("python client failed (\(String(describing: result.exitStatus))): \(result.standardError)")
        }
        return object
    }

    /// Whether the tests run under a sanitizer (scripts/test sets `BRISE_UNDER_ASAN` or
    /// `BRISE_UNDER_TSAN`): its shadow memory and quarantine make RSS figures meaningless.
    static var underSanitizer: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["BRISE_UNDER_ASAN"] != nil || environment["BRISE_UNDER_TSAN"] != nil
    }

    static func json(_ object: Any) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Starts brised on `model` with a socket in a fresh directory; returns the process and socket path.
    static func start(
        model: String = tinyModel, _ extra: [String] = [], environment: [String: String] = [:]
    ) throws -> (DaemonProcess, String) {
        let directory = try DaemonProcess.makeDirectory()
        let socket = directory.appendingPathComponent("brised.sock").path
        let daemon = try DaemonProcess.brised(
            ["--model", model, "--socket", socket, "--log-level", "warning"] + extra, environment: environment, directory: directory)
        try daemon.waitForSocket(socket)
        return (daemon, socket)
    }

    /// The text of a streamed reply list (chunks concatenated).
    static func text(_ replies: [[String: Any]]) -> String {
        replies.compactMap { ($0["parameters"] as? [String: Any])?["text"] as? String }.joined()
    }

    static func errorName(_ reply: [String: Any]?) -> String? { reply?["error"] as? String }
}
