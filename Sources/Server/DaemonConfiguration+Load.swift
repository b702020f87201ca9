import Engine
import Foundation
import TOMLKit

extension DaemonConfiguration {
    /// What the command line asked for besides settings.
    public enum Action: Sendable, Equatable {
        /// Serve.
        case serve
        /// Print the usage and every setting, then exit.
        case help
        /// Print the version, then exit.
        case version
        /// Print the effective configuration as TOML, then exit (after validating it).
        case printConfiguration
        /// Print the flags as swift-argument-parser's tool description (JSON), then exit.
        case dumpHelp
    }

    /// The config file used when none is named: `$CONFIGURATION_DIRECTORY/brised.toml` under systemd
    /// (`ConfigurationDirectory=brise`), else `/etc/brise/brised.toml`; only if it exists.
    public static func defaultConfigFile(environment: [String: String]) -> String? {
        var candidates: [String] = []
        if let directory = environment["CONFIGURATION_DIRECTORY"], !directory.isEmpty {
            // systemd may pass several, colon-separated; the first is ours.
            candidates.append(String(directory.split(separator: ":").first ?? "") + "/brised.toml")
        }
        candidates.append("/etc/brise/brised.toml")
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Builds the configuration from defaults, the config file, the environment and the flags (flags win).
    ///
    /// The config file is `--config PATH`, else `BRISE_CONFIG`, else `defaultConfigFile`.
    ///
    /// - Parameters:
    ///   - arguments: The command-line arguments, without the program name.
    ///   - environment: The process environment.
    /// - Returns: The action and the configuration (validated when the action is `.serve`).
    /// - Throws: `DaemonError` `.configuration` naming the bad flag, variable, key or value.
    public static func load(arguments: [String], environment: [String: String]) throws(DaemonError) -> (Action, DaemonConfiguration) {
        var action = Action.serve
        var configFile: String?
        var flagValues: [(Setting, String)] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            switch argument {
            case "-h", "--help": action = .help; continue
            case "--version": action = .version; continue
            case "--print-config": action = .printConfiguration; continue
            case "--experimental-dump-help": action = .dumpHelp; continue
            default: break
            }
            guard argument.hasPrefix("--") else {
                throw DaemonError(.configuration, "unexpected argument \"\(argument)\" (see brised --help)")
            }
            var name = argument
            var value: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            let setting = settings.first(where: { $0.flag == name || $0.aliases.contains(name) })
            if value == nil, setting?.isBoolean == true {
                // A boolean flag alone means true; a following true/false (or yes/no, 1/0, on/off) is its value.
                if index < arguments.count, (try? DaemonConfiguration.boolean(arguments[index], "")) != nil {
                    value = arguments[index]
                    index += 1
                } else {
                    value = "true"
                }
            }
            if value == nil {
                guard index < arguments.count else { throw DaemonError(.configuration, "\(name) needs a value") }
                value = arguments[index]
                index += 1
            }
            if name == "--config" {
                configFile = value
                continue
            }
            guard let setting else {
                throw DaemonError(.configuration, "unknown option \(name) (see brised --help)")
            }
            flagValues.append((setting, value ?? ""))
        }

        var configuration = DaemonConfiguration()
        if let file = configFile ?? environment["BRISE_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 })
            ?? defaultConfigFile(environment: environment)
        {
            try configuration.apply(configFile: file)
        }
        for setting in settings {
            if let value = environment[setting.environmentVariable] {
                do {
                    try setting.apply(&configuration, value)
                } catch {
                    throw DaemonError(.configuration, "\(setting.environmentVariable): \(Self.message(of: error))")
                }
            }
        }
        for (setting, value) in flagValues {
            do {
                try setting.apply(&configuration, value)
            } catch {
                throw DaemonError(.configuration, "\(setting.flag): \(Self.message(of: error))")
            }
        }
        if action == .serve || action == .printConfiguration { try configuration.validate() }
        return (action, configuration)
    }

    /// Applies a TOML config file: top-level `key = value` pairs, keys as in `settings`.
    ///
    /// - Parameter path: The file.
    /// - Throws: `DaemonError` `.configuration` for an unreadable file, a TOML syntax error (with its
    ///   line and column), an unknown key or a bad value.
    public mutating func apply(configFile path: String) throws(DaemonError) {
        // Read at most 1 MiB + 1 byte: a path naming a device or a pipe (/dev/zero) must not hang
        // the daemon or fill its memory.
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DaemonError(.configuration, "cannot read the config file \(path)")
        }
        defer { try? handle.close() }
        let limit = 1 << 20
        var data = Data()
        while data.count <= limit {
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: limit + 1 - data.count)
            } catch {
                throw DaemonError(.configuration, "cannot read the config file \(path): \(error)")
            }
            guard let chunk, !chunk.isEmpty else { break }  // nil or empty: the end of the file
            data.append(chunk)
        }
        guard data.count <= limit, let text = String(data: data, encoding: .utf8) else {
            throw DaemonError(.configuration, "the config file \(path) is not UTF-8 text of at most 1 MiB")
        }
        try apply(configText: text, source: path)
    }

    /// Applies TOML text (a config file's contents).
    ///
    /// - Parameters:
    ///   - text: The TOML text.
    ///   - source: What errors name as the text's origin (the file's path).
    /// - Throws: `DaemonError` `.configuration` for a TOML syntax error, an unknown key or a bad value.
    public mutating func apply(configText text: String, source path: String) throws(DaemonError) {
        try TOMLPrecheck.check(text, source: path)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw DaemonError(.configuration, "\(path): \(error.description) (\(error.source))")
        } catch {
            throw DaemonError(.configuration, "\(path): \(error)")
        }
        for key in table.keys.sorted() {
            guard let setting = Self.settings.first(where: { $0.key == key }) else {
                throw DaemonError(.configuration, "\(path): unknown key \"\(key)\" (see brised --help for the keys)")
            }
            guard let value = table[key], let text = Self.text(of: value) else {
                throw DaemonError(.configuration, "\(path): \(key) must be a string, number, boolean or array of those")
            }
            do {
                try setting.apply(&self, text)
            } catch {
                throw DaemonError(.configuration, "\(path): \(Self.message(of: error))")
            }
        }
    }

    private static func message(of error: any Error) -> String {
        (error as? DaemonError)?.message ?? "\(error)"
    }

    /// A TOML value as the text a flag would carry (arrays comma-separated).
    private static func text(of value: any TOMLValueConvertible) -> String? {
        switch value.type {
        case .string: return value.string
        case .int: return value.int.map(String.init)
        case .double: return value.double.map { String($0) }
        case .bool: return value.bool.map { $0 ? "true" : "false" }
        case .array:
            guard let array = value.array else { return nil }
            var parts: [String] = []
            for element in array {
                guard element.type != .array, let part = text(of: element), !part.contains(",") else { return nil }
                parts.append(part)
            }
            return parts.joined(separator: ",")
        default: return nil
        }
    }

    /// The usage text: every setting with its flag, variable and default.
    public static var usage: String {
        var lines = [
            "usage: brised [--config FILE] [--<setting> VALUE ...]",
            "       brised --help | --version | --print-config",
            "",
            "The Brise daemon: serves a GGUF model over Varlink on a Unix socket (io.brise.Inference).",
            "Settings come from defaults, the config file (TOML; --config, BRISE_CONFIG, or",
            "$CONFIGURATION_DIRECTORY/brised.toml, /etc/brise/brised.toml), the environment (BRISE_<KEY>)",
            "and flags, flags winning. Lists are comma-separated in flags and the environment.",
            "",
        ]
        for setting in settings {
            lines.append("  \(setting.flag) (\(setting.key), \(setting.environmentVariable))")
            lines.append("      \(setting.help) Default: \(setting.defaultValue).")
        }
        return lines.joined(separator: "\n")
    }

    /// The effective configuration as TOML (what `--print-config` prints).
    public var tomlText: String {
        func quote(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        func list(_ items: [String]) -> String { "[" + items.map(quote).joined(separator: ", ") + "]" }
        var lines: [String] = []
        lines.append("model = \(model.map(quote) ?? "\"\"")")
        if let modelsDir { lines.append("models_dir = \(quote(modelsDir))") }
        lines.append("socket = \(quote(socket))")
        lines.append("socket_mode = \"0\(String(socketMode, radix: 8))\"")
        if let socketGroup { lines.append("socket_group = \(quote(socketGroup))") }
        lines.append("http_socket = \(quote(httpSocket ?? ""))")
        lines.append("http_listen = \(quote(httpListen?.description ?? ""))")
        lines.append("api_key_file = \(quote(apiKeyFile ?? ""))")
        lines.append("http_listen_allow_remote = \(httpListenAllowRemote)")
        lines.append("allowed_users = \(list(allowedUsers))")
        lines.append("allowed_groups = \(list(allowedGroups))")
        lines.append("threads = \(threads ?? 0)")
        lines.append("context = \(context ?? 0)")
        lines.append("kv_type = \(quote(kvType))")
        lines.append("parallel = \(parallel ?? 0)")
        lines.append("prefill_chunk = \(prefillChunk)")
        if let memoryBudget { lines.append("memory_budget = \"\(memoryBudget)\"") }
        lines.append("mlock = \(mlock)")
        lines.append("max_message_bytes = \(maxMessageBytes)")
        lines.append("max_connections = \(maxConnections)")
        lines.append("max_queued_requests = \(maxQueuedRequests)")
        lines.append("max_queue_wait_seconds = \(maxQueueWaitSeconds)")
        lines.append("max_request_seconds = \(maxRequestSeconds)")
        lines.append("idle_timeout_seconds = \(idleTimeoutSeconds)")
        lines.append("shutdown_timeout_seconds = \(shutdownTimeoutSeconds)")
        lines.append("default_max_tokens = \(defaultMaxTokens)")
        lines.append("speculative = \(quote(speculative.rawValue))")
        if let draftModel { lines.append("draft_model = \(quote(draftModel))") }
        if let visionModel { lines.append("vision_model = \(quote(visionModel))") }
        lines.append("image_slice_ms = \(imageSliceMilliseconds)")
        lines.append("thermal_zones = \(quote(thermalZones))")
        lines.append("thermal_soft_limit = \(thermalSoftLimit)")
        lines.append("thermal_hard_limit = \(thermalHardLimit)")
        lines.append("thermal_max_wait_seconds = \(thermalMaxWaitSeconds)")
        lines.append("max_tokens_per_second = \(maxTokensPerSecond ?? 0)")
        lines.append("log_level = \(quote(logLevel))")
        return lines.joined(separator: "\n") + "\n"
    }
}
