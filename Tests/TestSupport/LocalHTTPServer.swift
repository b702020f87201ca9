public import Foundation

/// `scripts/test-http-server.py` run as a child process: a local HTTP server that serves a
/// directory with ranges, dropped connections and wrong answers on purpose (its header lists them).
///
/// The server stops when its standard input closes: `stop()` closes it, and so does this process's
/// exit, so a crashed test leaves nothing behind.
public final class LocalHTTPServer: @unchecked Sendable {
    // @unchecked Sendable: every stored property is set in init and only read afterwards; `stop()`
    // closes the pipe and waits, which is safe to repeat (callers stop a server from one place).

    /// One request as the server logged it.
    public struct Request: Sendable, Decodable {
        /// The request path.
        public var path: String
        /// The `Range` header, if sent.
        public var range: String?
        /// The `If-Range` header, if sent.
        public var if_range: String?
        /// The status the server answered.
        public var status: Int
    }

    /// The directory it serves (files put here are served by name).
    public let root: URL
    /// The port on 127.0.0.1.
    public let port: Int
    private let logPath: URL
    private let process: Process
    private let input: Pipe

    /// Starts a server for a new temporary directory.
    ///
    /// - Throws: When python3 cannot start or prints no port.
    public init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("brise-http-\(UUID())")
        root = base.appendingPathComponent("root")
        logPath = base.appendingPathComponent("requests.jsonl")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: logPath.path, contents: nil)

        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-u", Fixtures.repositoryRoot.appendingPathComponent("scripts/test-http-server.py").path,
            root.path, logPath.path,
        ]
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "test server printed no port"])
        }
        self.port = port
    }

    deinit { stop() }

    /// A URL on this server: `/<mode>/<name>` (see the script for the modes).
    ///
    /// - Parameters:
    ///   - mode: `files`, `drop-once`, `drop-always`, `no-range`, `bad-range` or `flaky`.
    ///   - name: A file in `root`.
    public func url(_ mode: String, _ name: String) -> String {
        "http://127.0.0.1:\(port)/\(mode)/\(name)"
    }

    /// Puts a file in the served directory.
    ///
    /// - Parameters:
    ///   - bytes: Its content.
    ///   - name: Its name.
    public func serve(_ bytes: [UInt8], as name: String) throws {
        try Data(bytes).write(to: root.appendingPathComponent(name))
    }

    /// The requests so far, in order.
    public func requests() throws -> [Request] {
        let text = try String(contentsOf: logPath, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    /// Stops the server and removes its directory.
    public func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.waitUntilExit() }
        try? FileManager.default.removeItem(at: root.deletingLastPathComponent())
    }
}
