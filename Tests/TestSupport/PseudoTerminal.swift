import Foundation
public import Testing

#if canImport(Glibc)
public import Glibc
#endif

/// A program on a pseudo-terminal, as a person at a terminal runs it: the terminal is its controlling
/// terminal (its own session), so Ctrl-C typed into it is SIGINT from the line discipline and
/// `isatty` holds for its standard streams. The test types keys and reads the screen (escape sequences
/// removed).
public final class PseudoTerminal {
    public let pid: pid_t
    private let master: Int32
    private var bytes: [UInt8] = []
    /// Where `waitFor` starts looking: a UTF-8 offset into `screen`, advanced past each match.
    private var mark = 0
    private var exitStatus: Int32?

    /// Starts `executable` on a new 100×30 terminal.
    ///
    /// - Throws: `POSIXError` when the terminal or the process cannot be made.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        // posix_openpt/grantpt/unlockpt/ptsname by hand (Swift's Glibc module hides them): the pty
        // multiplexer, unlock, and the number of the terminal's side.
        // TIOCSPTLCK = _IOW('T', 0x31, int), TIOCGPTN = _IOR('T', 0x30, unsigned): the same on x86-64
        // and arm64 (asm-generic), function-like macros Swift does not import.
        let lockRequest: UInt = 0x4004_5431
        let numberRequest: UInt = 0x8004_5430
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0, ioctl(master, lockRequest, &unlock) == 0, ioctl(master, numberRequest, &number) == 0 else {
            let code = errno
            if master >= 0 { close(master) }
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
        let slavePath = "/dev/pts/\(number)"
        var size = winsize(ws_row: 30, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Opened after setsid (glibc applies POSIX_SPAWN_SETSID first): it becomes the controlling terminal.
        posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGPIPE, SIGTERM, SIGQUIT, SIGTSTP] { sigaddset(&defaults, signal) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        let setsid: Int32 = 0x80  // glibc's POSIX_SPAWN_SETSID, hidden from Swift like posix_openpt
        posix_spawnattr_setflags(&attributes, Int16(setsid | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var merged = ProcessInfo.processInfo.environment
        merged["TERM"] = "xterm-256color"
        merged["LANG"] = "C.UTF-8"
        for (key, value) in environment { merged[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            close(master)
            throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EIO)
        }
        self.pid = pid
        self.master = master
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        close(master)
    }

    /// Types `text` (bytes as a terminal sends them: "\r" is Enter, "\u{3}" Ctrl-C, "\u{4}" Ctrl-D,
    /// "\u{1B}[A" the up arrow), all in one write, as a paste arrives.
    public func type(_ text: String) {
        let data = Array(text.utf8)
        var offset = 0
        while offset < data.count {
            let n = data[offset...].withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            if n > 0 { offset += n } else if errno != EAGAIN && errno != EINTR { return } else { usleep(1000) }
        }
    }

    /// Types `keys` one at a time with `pause` between them, as a person types.
    public func typeSlowly(_ keys: String, pause: Duration = .milliseconds(40)) {
        for key in keys {
            type(String(key))
            Thread.sleep(forTimeInterval: Double(pause.components.attoseconds) / 1e18 + Double(pause.components.seconds))
        }
    }

    /// Everything shown so far, escape sequences and carriage returns removed.
    public var screen: String { Self.plain(bytes[...]) }

    /// Waits until the screen after the last match contains `text`; returns what appeared up to and
    /// including it, and moves the mark past it.
    ///
    /// - Throws: `PseudoTerminalTimeout` with the screen when `text` does not appear in time.
    @discardableResult
    public func waitFor(_ text: String, timeout: Double = 120) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            pump(milliseconds: 50)
            let shown = screen
            let start = shown.utf8.index(shown.utf8.startIndex, offsetBy: min(mark, shown.utf8.count))
            if let range = shown.range(of: text, range: start..<shown.endIndex) {
                mark = shown.utf8.distance(from: shown.utf8.startIndex, to: range.upperBound)
                return String(shown[start..<range.upperBound])
            }
            if Date() > deadline || exited {
                throw PseudoTerminalTimeout(waitingFor: text, screen: String(shown[start...]))
            }
        }
    }

    /// The screen after the last match.
    public var recent: String {
        let shown = screen
        return String(shown[shown.utf8.index(shown.utf8.startIndex, offsetBy: min(mark, shown.utf8.count))...])
    }

    /// Waits for the program to exit; its exit status, or nil if it is still running at the deadline.
    public func waitForExit(timeout: Double = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            pump(milliseconds: 50)
            if exited { return exitStatus }
        }
        return nil
    }

    /// Waits for the program to exit with status 0; otherwise an issue saying what the program was
    /// doing (see `diagnosis`), so a hang seen once on a busy machine can be understood afterwards.
    public func expectCleanExit(timeout: Double = 30, sourceLocation: SourceLocation = #_sourceLocation) {
        let status = waitForExit(timeout: timeout)
        if status != 0 {
            Issue.record("exit status \(status.map(String.init) ?? "none: still running after \(timeout) s")\n\(diagnosis())", sourceLocation: sourceLocation)
        }
    }

    /// What the program is doing: the screen since the last match, its threads' states and kernel wait
    /// channels, and a backtrace of every thread when gdb is installed.
    public func diagnosis() -> String {
        var lines = ["screen since the last match: \(recent.debugDescription)"]
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        for task in tasks.sorted() {
            let base = "/proc/\(pid)/task/\(task)"
            let name = (try? String(contentsOfFile: base + "/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            let state = (try? String(contentsOfFile: base + "/stat", encoding: .utf8))
                .flatMap { $0.split(separator: ")").last?.split(separator: " ").first.map(String.init) } ?? "?"
            let channel = (try? String(contentsOfFile: base + "/wchan", encoding: .utf8)) ?? "?"
            lines.append("thread \(task) \(name): state \(state), waiting in \(channel)")
        }
        for gdb in ["/usr/bin/gdb", "/usr/local/bin/gdb"] where FileManager.default.isExecutableFile(atPath: gdb) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
            process.arguments = [
                "30", gdb, "-p", "\(pid)", "-batch", "-nx", "-iex", "set complaints 0", "-ex", "thread apply all bt 20",
            ]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice  // gdb's warnings about debug sections drown the rest
            guard (try? process.run()) != nil else { break }
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            // Only the frames and thread headers: CI shows a bounded part of the output.
            let frames = String(decoding: output, as: UTF8.self).split(separator: "\n")
                .filter { $0.hasPrefix("#") || $0.hasPrefix("Thread ") }
                .map { String($0.prefix(200)) }
            lines.append(contentsOf: frames)
            break
        }
        return lines.joined(separator: "\n")
    }

    /// Whether the program has exited (reaped).
    public var exited: Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return false }
        exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        pump(milliseconds: 0)
        return true
    }

    /// Reads what the program wrote, waiting up to `milliseconds` for the first bytes.
    private func pump(milliseconds: Int32) {
        var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
            guard n > 0 else { return }
            bytes += buffer[0..<n]
        }
    }

    /// `bytes` as text without ANSI escape sequences, libedit's \u{1} prompt marks or carriage returns.
    static func plain(_ bytes: ArraySlice<UInt8>) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.replacingOccurrences(of: "\u{1B}\\[[0-9;?]*[ -/]*[@-~]", with: "", options: .regularExpression)
            .replacingOccurrences(of: "\u{1B}[()][0-9A-Za-z]", with: "", options: .regularExpression)
            .replacingOccurrences(of: "\r", with: "")
            .replacingOccurrences(of: "\u{1}", with: "")
            .replacingOccurrences(of: "\u{7}", with: "")
    }
}

/// What a pseudo-terminal showed when the awaited text did not appear.
public struct PseudoTerminalTimeout: Error, CustomStringConvertible {
    public var waitingFor: String
    public var screen: String
    public var description: String { "waited for \"\(waitingFor)\"; the screen:\n\(screen)" }
}
