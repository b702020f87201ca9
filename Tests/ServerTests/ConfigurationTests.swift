import Foundation
import Testing

@testable import Server

@Suite struct ConfigurationTests {
    @Test func defaultsAndPrecedence() throws {
        let (action, defaults) = try DaemonConfiguration.load(arguments: ["--model", "m.gguf"], environment: [:])
        #expect(action == .serve)
        #expect(defaults.socket == "/run/brise/brised.sock" && defaults.socketMode == 0o660 && defaults.maxConnections == 64)
        #expect(defaults.threads == nil && defaults.context == nil && defaults.maxTokensPerSecond == nil)
        #expect(defaults.imageSliceMilliseconds == 250)
        let (_, sliced) = try DaemonConfiguration.load(arguments: ["--model", "m.gguf"], environment: ["BRISE_IMAGE_SLICE_MS": "40"])
        #expect(sliced.imageSliceMilliseconds == 40)

        let (_, mixed) = try DaemonConfiguration.load(
            arguments: ["--threads=2", "--allowed-users", "alice, 1000"],
            environment: ["BRISE_MODEL": "env.gguf", "BRISE_THREADS": "4", "BRISE_SOCKET_MODE": "0600", "BRISE_MLOCK": "yes"])
        #expect(mixed.model == "env.gguf" && mixed.threads == 2 && mixed.socketMode == 0o600 && mixed.mlock)
        #expect(mixed.allowedUsers == ["alice", "1000"])

        // A boolean flag alone means true (as brise generate --mlock); a boolean word after it is its value.
        for (arguments, mlock) in [
            (["--mlock", "--threads", "3"], true), (["--mlock", "false", "--threads", "3"], false), (["--mlock=no", "--threads", "3"], false),
            (["--threads", "3", "--mlock"], true),
        ] {
            let (_, parsed) = try DaemonConfiguration.load(arguments: ["--model", "m.gguf"] + arguments, environment: [:])
            #expect(parsed.mlock == mlock && parsed.threads == 3, "\(arguments)")
        }
    }

    @Test func everySettingHasAFlagAVariableAndHelp() {
        var flags = Set<String>()
        for setting in DaemonConfiguration.settings {
            #expect(!setting.help.isEmpty && !setting.defaultValue.isEmpty)
            #expect(flags.insert(setting.flag).inserted)
            #expect(DaemonConfiguration.usage.contains(setting.flag))
            #expect(setting.environmentVariable == "BRISE_" + setting.key.uppercased())
        }
        // The TOML that --print-config writes names every key.
        var configuration = DaemonConfiguration()
        configuration.model = "m"
        configuration.modelsDir = "/var/lib/brise/models"
        configuration.socketGroup = "brise"
        configuration.memoryBudget = 1 << 30
        configuration.draftModel = "ministral-3b"
        configuration.visionModel = "mmproj-ministral-3b"
        for setting in DaemonConfiguration.settings {
            #expect(configuration.tomlText.contains("\n\(setting.key) = ") || configuration.tomlText.hasPrefix("\(setting.key) = "))
        }
    }

    @Test func badValuesNameTheSetting() {
        let cases: [[String]] = [
            ["--model", "m", "--threads", "-1"], ["--model", "m", "--context", "x"], ["--model", "m", "--socket-mode", "999"],
            ["--model", "m", "--max-request-seconds", "0"], ["--model", "m", "--idle-timeout-seconds", "nan"],
            ["--model", "m", "--mlock", "maybe"], ["--model", "m", "--threads"], ["stray"], ["--model", ""],
            ["--model", "m", "--image-slice-ms", "0"], ["--model", "m", "--image-slice-ms", "9223372036854775807"],
        ]
        for arguments in cases {
            #expect(throws: DaemonError.self, "\(arguments)") { try DaemonConfiguration.load(arguments: arguments, environment: [:]) }
        }
    }

    @Test func accessPolicy() throws {
        let open = try AccessPolicy(users: [], groups: [])
        #expect(open.allows(PeerCredentials(pid: 1, uid: 12345, gid: 12345)))
        let strict = try AccessPolicy(users: ["4242"], groups: ["5151"])
        #expect(strict.allows(PeerCredentials(pid: 1, uid: 4242, gid: 1)))
        #expect(strict.allows(PeerCredentials(pid: 1, uid: 99999, gid: 5151)))
        #expect(!strict.allows(PeerCredentials(pid: 1, uid: 99999, gid: 99999)))
        #expect(strict.allows(PeerCredentials(pid: 1, uid: 0, gid: 0)), "root always may")
        #expect(throws: DaemonError.self) { try AccessPolicy(users: ["no-such-user-xyz"], groups: []) }
        #expect(throws: DaemonError.self) { try AccessPolicy(users: [], groups: ["no-such-group-xyz"]) }
    }

    @Test func socketActivationWithoutSystemdIsNil() throws {
        unsetenv("LISTEN_FDS")
        #expect(try SocketActivation.takeListeningSockets() == SocketActivation.Sockets())
        #expect(!SystemdNotifier(environment: [:]).notify("READY=1"))
        #expect(SystemdNotifier.oneLine("a\nb") == "a b")
    }
    /// What toml++ would abort on (found by the config fuzz target), and files that never end, are
    /// clear errors naming the line or the file.
    @Test func hostileConfigTextIsRefusedWithItsLine() throws {
        for (text, expected) in [
            ("# x\n[\u{FFFD}le]\nM = 0", "line 2 is a table header"),
            ("model = \"m\"\n\n[# The GGUF model", "line 3 is a table header"),
            ("caf\u{E9} = 1", "line 1 has a non-ASCII character"),
            ("threads = { a = 1 }", "inline table"),
            ("threads =[[[}a", "inline table"),
            ("threads = 2\u{0}", "NUL"),
            (":ts =6999-0\u{8}--= 3\n", "line 1 has \":\" where a key should be"),
            ("ts =6999-0>--= 3\n", "line 1 has the value 6999-0, which is not a string, number, boolean or array"),
            ("threads = 2 \u{8}", "holds the control character 0x8"),
            ("when = 1979-05-27T07:32:00Z", "holds no dates or times"),
            ("a.b = 1", "dotted key"),
            ("\"model\" = \"m\"", "quoted key"),
            ("threads = 2 3", "has \"3\" where the end of the line should be"),
            ("threads = 02", "not a string, number"),
            ("allowed_users = [\"a\" \"b\"]", "where \",\" or \"]\" in an array should be"),
            ("allowed_users = [\"a\",", "ends inside an array"),
            ("model = \"m", "a closing \" is missing"),
            ("model = \"m\nthreads = 2", "not closed on its line"),
            ("threads = " + String(repeating: "[", count: 9) + String(repeating: "]", count: 9), "nests arrays deeper than 8"),
            ("threads = 2\rx", "carriage return"),
            ("model = \"a\u{1B}[2J\"", "control character 0x1B"),
            ("# a comment with DEL \u{7F}\nthreads = 2", "line 1 holds the control character 0x7F"),
        ] {
            var configuration = DaemonConfiguration()
            do {
                try configuration.apply(configText: text, source: "t.toml")
                Issue.record("\(text.debugDescription) was accepted")
            } catch {
                #expect(error.message.contains(expected), "\(text.debugDescription): \(error.message)")
            }
        }
        // Non-ASCII inside strings and comments, multi-line arrays and literal strings stay fine.
        var configuration = DaemonConfiguration()
        try configuration.apply(
            configText: "# café\r\nmodel = \"/m/modèle.gguf\"\t# ok\nallowed_users = [\n  \"root\", # the admin\n  \"1000\",\n]\nsocket_group = '''brise'''\n"
                + "threads = +2\r\ncontext = 4_096\nmax_tokens_per_second = 1.5e1\nmlock = false\n\n  # indented comment\n",
            source: "t.toml")
        #expect(configuration.model == "/m/modèle.gguf" && configuration.allowedUsers == ["root", "1000"])
        #expect(configuration.socketGroup == "brise")
        #expect(configuration.threads == 2 && configuration.context == 4096 && configuration.maxTokensPerSecond == 15)
        // A config file that never ends is read up to its bound, not forever.
        var endless = DaemonConfiguration()
        #expect(throws: DaemonError.self) { try endless.apply(configFile: "/dev/zero") }
        #expect(throws: DaemonError.self) {
            _ = try DaemonConfiguration.load(arguments: ["--max-tokens-per-second", "1e-300"], environment: [:])
        }
    }
}
