import Foundation

extension DaemonConfiguration {
    /// brised's flags as swift-argument-parser describes a command (`--experimental-dump-help`,
    /// serialization version 0), so the tools that read that description work on brised too, its
    /// parser being its own: the `generate-manual` plugin writes brised.1 from it
    /// (`scripts/generate-manuals`).
    public static var toolInfoJSON: String {
        struct Name: Encodable {
            var kind = "long"
            var name: String
        }
        struct Argument: Encodable {
            var kind: String
            var shouldDisplay = true
            var isOptional = true
            var isRepeating = false
            var parsingStrategy = "default"
            var names: [Name]
            var preferredName: Name
            var valueName: String?
            var defaultValue: String?
            var abstract: String
            var discussion: String?
        }
        struct Command: Encodable {
            var commandName = "brised"
            var abstract = "The Brise daemon: serves a GGUF model over Varlink on a Unix socket (io.brise.Inference)."
            var discussion: String
            var shouldDisplay = true
            var arguments: [Argument]
        }
        struct Tool: Encodable {
            var serializationVersion = 0
            var command: Command
        }
        func flag(_ name: String, _ abstract: String, value: String? = nil, defaultValue: String? = nil, discussion: String? = nil) -> Argument {
            Argument(
                kind: value == nil ? "flag" : "option", names: [Name(name: name)], preferredName: Name(name: name),
                valueName: value, defaultValue: defaultValue, abstract: abstract, discussion: discussion)
        }
        var arguments = [
            flag(
                "config", "The config file (TOML).", value: "file",
                discussion: "Else BRISE_CONFIG, else $CONFIGURATION_DIRECTORY/brised.toml (under systemd), else /etc/brise/brised.toml if it exists.")
        ]
        for setting in settings {
            let name = String(setting.flag.dropFirst(2))
            arguments.append(
                flag(
                    name, setting.help, value: setting.isBoolean ? nil : setting.key,
                    defaultValue: setting.defaultValue.isEmpty || setting.defaultValue.hasPrefix("(") ? nil : setting.defaultValue,
                    discussion: "Config key \(setting.key); environment \(setting.environmentVariable)."
                        + (setting.isBoolean ? " The flag alone means true; --\(name)=false turns it off." : "")))
        }
        arguments += [
            flag("print-config", "Print the effective configuration as TOML and exit (after checking it)."),
            flag("version", "Print the version and exit."),
            flag("help", "Print every setting with its flag, key, variable and default, and exit."),
        ]
        let discussion = """
            Settings come from defaults, the config file, the environment (BRISE_<KEY>) and flags, flags winning; lists \
            are comma-separated in flags and the environment. Under systemd, brised takes its listening socket from \
            socket activation (LISTEN_FDS), reports readiness and status through NOTIFY_SOCKET and pings the watchdog; \
            SIGTERM or SIGINT stops accepting, lets running answers finish within the drain time, and exits 0. \
            Clients: brise(1) (ask, chat, status) or any Varlink client (varlinkctl call unix:/run/brise/brised.sock \
            io.brise.Inference.GetStatus {}). Exit status: 0 after a clean stop, 1 when the model cannot be loaded or \
            the socket not served, 78 for a bad configuration.
            """
        let tool = Tool(command: Command(discussion: discussion, arguments: arguments))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(tool)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
