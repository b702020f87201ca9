import Foundation
import TestSupport
import Testing

extension Daemon {
    /// The systemd units, snippets and example config in `systemd/`, installed by `scripts/install`
    /// into a staging root: where the files land, that `systemd-analyze verify` accepts them, and that
    /// `systemd-analyze security` scores `brised.service` at 1.5 or lower.
    @Suite struct UnitFiles {
        static let analyze = "/usr/bin/systemd-analyze"
        static var hasAnalyze: Bool { FileManager.default.isExecutableFile(atPath: analyze) }
        static let sysusers = "/usr/bin/systemd-sysusers"
        static let tmpfiles = "/usr/bin/systemd-tmpfiles"
        /// The most exposure `systemd-analyze security` may report (issue 7).
        static let maximumExposure = 1.5

        static func repositoryPath(_ relative: String) -> String {
            Fixtures.repositoryRoot.appendingPathComponent(relative).path
        }

        /// A fresh staging root, removed by the caller.
        static func makeRoot() throws -> URL {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("brise-destdir-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return url
        }

        /// Runs `scripts/install` into `root` with the binaries this test run built (no release build).
        static func install(into root: URL, prefix: String, _ extra: [String] = []) throws -> ChildProcess.Result {
            let binaries = URL(fileURLWithPath: ChildProcess.builtProduct("brised")).deletingLastPathComponent().path
            return try ChildProcess.run(
                repositoryPath("scripts/install"), ["--bin-dir", binaries] + extra,
                environment: ["DESTDIR": root.path, "PREFIX": prefix])
        }

        /// Where the install script puts each file for `prefix` (paths inside the root).
        static func layout(prefix: String) -> [String: String] {
            let system = prefix == "/usr" ? "/usr/lib" : "/etc"
            return [
                "brise": prefix + "/bin/brise",
                "brised": prefix + "/bin/brised",
                "service": system + "/systemd/system/brised.service",
                "socket": system + "/systemd/system/brised.socket",
                "http-socket": system + "/systemd/system/brised-http.socket",
                "sysusers": system + "/sysusers.d/brise.conf",
                "tmpfiles": system + "/tmpfiles.d/brise.conf",
                "config": "/etc/brise/brised.toml",
                "bash": prefix + "/share/bash-completion/completions/brise",
                "zsh": prefix + "/share/zsh/site-functions/_brise",
                "fish": prefix + "/share/fish/vendor_completions.d/brise.fish",
                "brise.1": prefix + "/share/man/man1/brise.1",
                "brised.1": prefix + "/share/man/man1/brised.1",
            ]
        }

        static func lines(_ result: ChildProcess.Result) -> [Substring] {
            (result.standardOutput + result.standardError).split(separator: "\n")
        }

        @Test(arguments: ["/usr/local", "/usr"])
        func installPutsEveryFileInPlace(prefix: String) throws {
            let root = try Self.makeRoot()
            defer { try? FileManager.default.removeItem(at: root) }
            let result = try Self.install(into: root, prefix: prefix)
            #expect(result.exitStatus == 0, "\(result.standardOutput)\(result.standardError)")

            let files = Self.layout(prefix: prefix)
            for (name, path) in files {
                let full = root.path + path
                #expect(FileManager.default.fileExists(atPath: full), "\(name) at \(path)")
                #expect(result.standardOutput.contains("installed \(full)"), "the script names \(full)")
            }
            for binary in ["brise", "brised"] {
                #expect(FileManager.default.isExecutableFile(atPath: root.path + files[binary]!))
            }
            let service = try String(contentsOfFile: root.path + files["service"]!, encoding: .utf8)
            let execStart = service.split(separator: "\n").filter { $0.hasPrefix("ExecStart=") }
            #expect(execStart == ["ExecStart=\(prefix)/bin/brised"])
            // Everything else is the repository's copy, unchanged.
            let original = try String(contentsOfFile: Self.repositoryPath("systemd/brised.service"), encoding: .utf8)
            #expect(service == original.replacingOccurrences(of: "ExecStart=/usr/local/bin/brised", with: "ExecStart=\(prefix)/bin/brised"))
            #expect(
                try String(contentsOfFile: root.path + files["config"]!, encoding: .utf8)
                    == String(contentsOfFile: Self.repositoryPath("systemd/brised.toml"), encoding: .utf8))
            // The completions are brise's own, naming its subcommands and their flags.
            let bash = try String(contentsOfFile: root.path + files["bash"]!, encoding: .utf8)
            #expect(bash.contains("complete") && bash.contains("generate") && bash.contains("--context"), "\(bash.prefix(300))")
            #expect(try String(contentsOfFile: root.path + files["zsh"]!, encoding: .utf8).hasPrefix("#compdef brise"))
            #expect(try String(contentsOfFile: root.path + files["fish"]!, encoding: .utf8).contains("complete -c 'brise'"))
            // A staging install never touches the running system.
            #expect(!result.standardOutput.contains("running:"))

            // A second install keeps an existing (edited) config.
            let edited = "model = \"/srv/models/mine.gguf\"\n"
            try edited.write(toFile: root.path + files["config"]!, atomically: true, encoding: .utf8)
            let again = try Self.install(into: root, prefix: prefix)
            #expect(again.exitStatus == 0)
            #expect(again.standardOutput.contains("kept the existing"))
            #expect(try String(contentsOfFile: root.path + files["config"]!, encoding: .utf8) == edited)
        }

        @Test func installOptions() throws {
            let help = try ChildProcess.run(Self.repositoryPath("scripts/install"), ["--help"])
            #expect(help.exitStatus == 0)
            for word in ["PREFIX", "DESTDIR", "--enable", "--bin-dir"] {
                #expect(help.standardOutput.contains(word), "--help mentions \(word)")
            }
            let root = try Self.makeRoot()
            defer { try? FileManager.default.removeItem(at: root) }
            // --enable is for the running system only.
            let enable = try Self.install(into: root, prefix: "/usr/local", ["--enable"])
            #expect(enable.exitStatus != 0)
            #expect(enable.standardError.contains("--enable"))
            let relative = try Self.install(into: root, prefix: "usr/local")
            #expect(relative.exitStatus != 0)
            #expect(relative.standardError.contains("PREFIX must be an absolute path"))
            let unknown = try ChildProcess.run(Self.repositoryPath("scripts/install"), ["--bogus"], environment: ["DESTDIR": root.path])
            #expect(unknown.exitStatus != 0)
            #expect(unknown.standardError.contains("unknown argument: --bogus"))
        }

        /// systemd-sysusers creates the client group and systemd-tmpfiles the state directory layout
        /// that DynamicUser= expects, in the staging root.
        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: UnitFiles.sysusers)
            && FileManager.default.isExecutableFile(atPath: UnitFiles.tmpfiles)))
        func sysusersAndTmpfilesApply() throws {
            let root = try Self.makeRoot()
            defer { try? FileManager.default.removeItem(at: root) }
            #expect(try Self.install(into: root, prefix: "/usr/local").exitStatus == 0)

            let users = try ChildProcess.run(Self.sysusers, ["--root=\(root.path)", "brise.conf"])
            #expect(users.exitStatus == 0, "\(users.standardError)")
            let group = try String(contentsOfFile: root.path + "/etc/group", encoding: .utf8)
            #expect(group.split(separator: "\n").contains { $0.hasPrefix("brise:x:") }, "\(group)")

            let files = try ChildProcess.run(Self.tmpfiles, ["--root=\(root.path)", "--create", "brise.conf"])
            #expect(files.exitStatus == 0, "\(files.standardError)")
            let link = try FileManager.default.destinationOfSymbolicLink(atPath: root.path + "/var/lib/brise")
            #expect(link == "private/brise")
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: root.path + "/var/lib/brise/models", isDirectory: &isDirectory))
            #expect(isDirectory.boolValue)
            let privateMode = try FileManager.default.attributesOfItem(atPath: root.path + "/var/lib/private")[.posixPermissions] as? Int
            #expect(privateMode == 0o700)
        }

        /// `systemd-analyze verify` on the installed units, in the staging root (so the ExecStart=
        /// binary is the installed one): exit 0 and not one line about our units.
        @Test(.enabled(if: UnitFiles.hasAnalyze), arguments: ["/usr/local", "/usr"])
        func verifyAcceptsTheInstalledUnits(prefix: String) throws {
            let root = try Self.makeRoot()
            defer { try? FileManager.default.removeItem(at: root) }
            #expect(try Self.install(into: root, prefix: prefix).exitStatus == 0)
            // verify --root= resolves dependencies (sockets.target, sysinit.target, …) in the root:
            // give it the host's unit files (ours are not among them, so nothing is overwritten).
            let hostUnits = URL(fileURLWithPath: "/usr/lib/systemd/system")
            let rootUnits = root.appendingPathComponent("usr/lib/systemd/system")
            try FileManager.default.createDirectory(at: rootUnits, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: hostUnits.path)
            where !FileManager.default.fileExists(atPath: rootUnits.appendingPathComponent(name).path) {
                try FileManager.default.copyItem(at: hostUnits.appendingPathComponent(name), to: rootUnits.appendingPathComponent(name))
            }

            let files = Self.layout(prefix: prefix)
            let units = [files["socket"]!, files["http-socket"]!, files["service"]!]
            let result = try ChildProcess.run(Self.analyze, ["verify", "--root=\(root.path)"] + units)
            print("systemd-analyze verify (PREFIX=\(prefix)): exit \(result.exitStatus.map(String.init) ?? "signal"), output: \"\(result.standardOutput + result.standardError)\"")
            #expect(result.exitStatus == 0, "\(result.standardOutput)\(result.standardError)")
            let ours = Self.lines(result).filter { $0.contains("brised.") || $0.contains("brised-http.") || $0.contains("brise.") }
            #expect(ours.isEmpty, "verify warned about our units: \(ours)")

            // The check is real: without the binary ExecStart= names, verify fails.
            try FileManager.default.removeItem(atPath: root.path + files["brised"]!)
            let missing = try ChildProcess.run(Self.analyze, ["verify", "--root=\(root.path)"] + units)
            #expect(missing.exitStatus != 0)
            #expect(missing.standardError.contains("\(prefix)/bin/brised"))
        }

        /// The overall exposure of `brised.service` (the repository's copy and an installed one).
        @Test(.enabled(if: UnitFiles.hasAnalyze))
        func securityExposureIsAtMostOnePointFive() throws {
            let root = try Self.makeRoot()
            defer { try? FileManager.default.removeItem(at: root) }
            #expect(try Self.install(into: root, prefix: "/usr").exitStatus == 0)
            for service in [Self.repositoryPath("systemd/brised.service"), root.path + Self.layout(prefix: "/usr")["service"]!] {
                let result = try ChildProcess.run(Self.analyze, ["security", "--offline=true", "--no-pager", service])
                #expect(result.exitStatus == 0, "\(result.standardError)")
                // "→ Overall exposure level for brised.service: 0.4 SAFE 😀"
                let line = try #require(
                    result.standardOutput.split(separator: "\n").first { $0.contains("Overall exposure level for brised.service:") },
                    "\(result.standardOutput)\(result.standardError)")
                let words = line.split(separator: ":").last?.split(separator: " ") ?? []
                let score = try #require(words.first.flatMap { Double($0) }, "\(line)")
                print("systemd-analyze security \(service): \(line.split(separator: ":").last.map(String.init) ?? "")")
                #expect(score <= Self.maximumExposure, "\(line)")
                #expect(words.dropFirst().first == "SAFE", "\(line)")
            }
        }

        /// Every directive in the units has a comment line right above it saying why.
        @Test(arguments: ["systemd/brised.service", "systemd/brised.socket", "systemd/brised-http.socket"])
        func everyDirectiveIsExplained(file: String) throws {
            let lines = try String(contentsOfFile: Self.repositoryPath(file), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() where !line.isEmpty && !line.hasPrefix("#") && !line.hasPrefix("[") {
                #expect(index > 0 && lines[index - 1].hasPrefix("#"), "\(file):\(index + 1) \(line) has no comment above it")
            }
        }

        /// The example config parses (`--print-config` validates without loading the model), names
        /// the default model, and documents every key brised has; with every key uncommented it
        /// still parses.
        @Test func exampleConfigParsesAndDocumentsEveryKey() throws {
            let brised = ChildProcess.builtProduct("brised")
            let example = Self.repositoryPath("systemd/brised.toml")
            let result = try ChildProcess.run(brised, ["--config", example, "--print-config"])
            #expect(result.exitStatus == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("model = \"/var/lib/brise/models/qwen2.5-coder-0.5b-instruct-q4.gguf\""))

            let help = try ChildProcess.run(brised, ["--help"])
            let keys = help.standardOutput.split(separator: "\n").compactMap { line -> String? in
                // "  --max-connections (max_connections, BRISE_MAX_CONNECTIONS)"
                guard line.hasPrefix("  --"), let open = line.firstIndex(of: "("), let comma = line.firstIndex(of: ",") else { return nil }
                return String(line[line.index(after: open)..<comma])
            }
            #expect(keys.count >= 20, "\(help.standardOutput)")
            let text = try String(contentsOfFile: example, encoding: .utf8)
            let documented = Set(text.split(separator: "\n").compactMap { line -> String? in
                let body = line.hasPrefix("#") ? line.dropFirst() : line[...]
                guard let equals = body.range(of: " = ") else { return nil }
                let key = body[..<equals.lowerBound]
                return key.allSatisfy { $0.isLowercase || $0 == "_" } ? String(key) : nil
            })
            for key in keys {
                #expect(documented.contains(key), "systemd/brised.toml documents \(key)")
            }

            let directory = try Self.makeRoot()
            defer { try? FileManager.default.removeItem(at: directory) }
            let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
                // "#threads = 0" → "threads = 0"; prose comments stay.
                guard line.hasPrefix("#"), line.dropFirst().split(separator: " ").dropFirst().first == "=" else { return line }
                return line.dropFirst()
            }
            let everything = directory.appendingPathComponent("brised.toml").path
            try uncommented.joined(separator: "\n").write(toFile: everything, atomically: true, encoding: .utf8)
            let all = try ChildProcess.run(brised, ["--config", everything, "--print-config"])
            #expect(all.exitStatus == 0, "\(all.standardError)")
            #expect(all.standardOutput.contains("socket_group = \"brise\""))
        }
    }
}
