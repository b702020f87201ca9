import Foundation

#if canImport(Glibc)
public import Glibc
#endif

/// Runs a program to completion and reports how it ended, what it printed and its peak memory.
///
/// Uses `posix_spawn` and `wait4` directly (not `Foundation.Process`) because only `wait4` gives the
/// one child's resource usage, which the RSS assertions need.
public struct ChildProcess {
    /// How a finished child ended.
    public struct Result: Sendable {
        /// The exit status, when the child exited.
        public var exitStatus: Int32?
        /// The signal that killed the child, when one did.
        public var signal: Int32?
        /// Standard output.
        public var standardOutput: String
        /// Standard error.
        public var standardError: String
        /// Peak resident set size in bytes (`ru_maxrss`); see `run(_:_:environment:measuringMemory:)`.
        public var maxResidentBytes: Int
    }

    /// Runs `executable` and measures its own peak RSS.
    ///
    /// A child's `ru_maxrss` starts at the RSS of the process it was spawned from (Linux records the
    /// old address space's high-water mark at exec, and glibc's `posix_spawn` shares the parent's), so
    /// spawning straight from a large test process over-reports. Here a small python3 process forks
    /// and execs the program and reports the grandchild's `wait4` usage: an upper bound that includes
    /// only python's few MB.
    ///
    /// - Parameters:
    ///   - executable: The program's path.
    ///   - arguments: Its arguments.
    /// - Returns: How it ended, with `maxResidentBytes` measured as above.
    /// - Throws: `POSIXError` when python3 cannot be started.
    public static func runMeasuringMemory(_ executable: String, _ arguments: [String]) throws -> Result {
        let script = """
            import os, sys
            pid = os.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            _, status, usage = os.wait4(pid, 0)
            with open(os.environ["BRISE_RUSAGE_OUT"], "w") as f:
                f.write(str(usage.ru_maxrss))
            sys.exit(os.waitstatus_to_exitcode(status) & 0xff)
            """
        let usagePath = FileManager.default.temporaryDirectory.appendingPathComponent("brise-rusage-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: usagePath) }
        var result = try run(
            "/usr/bin/env", ["python3", "-c", script, executable] + arguments,
            environment: ["BRISE_RUSAGE_OUT": usagePath])
        let kib = Int((try? String(contentsOfFile: usagePath, encoding: .utf8)) ?? "") ?? Int.max / 1024
        result.maxResidentBytes = kib * 1024
        return result
    }

    /// Runs `executable` with `arguments` and waits for it.
    ///
    /// - Parameters:
    ///   - executable: The program's path.
    ///   - arguments: Its arguments (without argv[0]).
    ///   - environment: Extra environment variables, added to this process's.
    /// - Returns: How it ended.
    /// - Throws: `POSIXError` when the program cannot be started.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:]
    ) throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brise-child-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outPath = directory.appendingPathComponent("stdout").path
        let errPath = directory.appendingPathComponent("stderr").path

        let pid = try spawn(executable, arguments, environment: environment, standardOutput: outPath, standardError: errPath)

        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL) }
        }
        // WIFEXITED / WTERMSIG by hand: the macros are not imported into Swift.
        let termSignal = status & 0x7f
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Result(
            exitStatus: termSignal == 0 ? (status >> 8) & 0xff : nil,
            signal: termSignal == 0 ? nil : termSignal,
            standardOutput: out, standardError: err,
            maxResidentBytes: Int(usage.ru_maxrss) * 1024)  // ru_maxrss is in KiB on Linux
    }

    /// Starts `executable` with stdin from /dev/null and stdout/stderr into files; does not wait.
    ///
    /// - Parameters:
    ///   - executable: The program's path.
    ///   - arguments: Its arguments (without argv[0]).
    ///   - environment: Extra environment variables, added to this process's.
    ///   - removing: Variables of this process's environment the child must not inherit.
    ///   - standardOutput: The file stdout goes to (created or truncated).
    ///   - standardError: The file stderr goes to.
    /// - Returns: The child's pid.
    /// - Throws: `POSIXError` when the program cannot be started.
    public static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], removing: [String] = [],
        standardOutput: String, standardError: String
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, standardOutput, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, standardError, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        var env = ProcessInfo.processInfo.environment
        for key in removing { env.removeValue(forKey: key) }
        env.merge(environment) { $1 }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
        return pid
    }

    /// The path of an executable built by this package (`brise`, `brised`), next to the test binary.
    ///
    /// - Parameter name: The product name.
    /// - Returns: The path.
    public static func builtProduct(_ name: String) -> String {
        if let directory = ProcessInfo.processInfo.environment["BRISE_BIN_DIR"], !directory.isEmpty {
            return directory + "/" + name
        }
        // swift test runs the test bundle from the build directory that also holds the executables:
        // walk up from the running binary until a sibling named `name` appears.
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<6 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return Fixtures.repositoryRoot.appendingPathComponent(".build/debug/\(name)").path
    }
}
