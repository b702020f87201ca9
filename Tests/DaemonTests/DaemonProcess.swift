import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A real `brised` (or a wrapper such as `systemd-socket-activate` that execs it) started by a test,
/// with its output in files, stopped by a signal.
final class DaemonProcess {
    let pid: pid_t
    let directory: URL
    private var exitStatus: Int32?

    /// A fresh directory for sockets and logs (short: Unix socket paths are limited to 107 bytes).
    static func makeDirectory() throws -> URL {
        let url = URL(fileURLWithPath: "/tmp/bd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        chmod(url.path, 0o755)
        return url
    }

    /// Starts `executable arguments` with `environment` added to this process's environment.
    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: URL) throws {
        self.directory = directory
        // A test's own daemon must not see a NOTIFY_SOCKET or LISTEN_* it was not given.
        let pid = try ChildProcess.spawn(
            executable, arguments, environment: environment,
            removing: ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"],
            standardOutput: directory.appendingPathComponent("stdout").path,
            standardError: directory.appendingPathComponent("stderr").path)
        self.pid = pid
    }

    /// Starts `brised` with `arguments`.
    static func brised(_ arguments: [String], environment: [String: String] = [:], directory: URL) throws -> DaemonProcess {
        try DaemonProcess(ChildProcess.builtProduct("brised"), arguments, environment: environment, directory: directory)
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            _ = waitForExit(timeout: 5)
        }
    }

    var standardError: String {
        (try? String(contentsOf: directory.appendingPathComponent("stderr"), encoding: .utf8)) ?? ""
    }

    /// Waits until `path` accepts connections.
    func waitForSocket(_ path: String, timeout: Double = 60) throws {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if let client = try? VarlinkTestClient(path: path) {
                client.close()
                return
            }
            if let status = waitForExit(timeout: 0) {
                throw DaemonTestError("brised exited with \(status) before listening: \(standardError)")
            }
            usleep(50_000)
        }
        throw DaemonTestError("brised did not listen on \(path) within \(timeout) s: \(standardError)")
    }

    /// Sends `signal`.
    func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the process to end; its exit status (128 + n for a signal), or nil after `timeout`.
    func waitForExit(timeout: Double) -> Int32? {
        if let exitStatus { return exitStatus }
        let start = Date()
        repeat {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                let termSignal = status & 0x7f
                exitStatus = termSignal == 0 ? (status >> 8) & 0xff : 128 + termSignal
                return exitStatus
            }
            if timeout > 0 { usleep(20_000) }
        } while Date().timeIntervalSince(start) < timeout
        return nil
    }

    /// A field of `/proc/PID/status` in bytes (`VmRSS`, `RssAnon`, `RssFile`).
    func statusBytes(_ field: String) -> Int? { MemorySampler.field(field, pid: pid) }
}

struct DaemonTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
