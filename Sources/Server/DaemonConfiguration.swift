public import Engine
import Foundation

/// Everything `brised` can be told, with its defaults. Every setting comes from (weakest first) its
/// default, the TOML config file, the environment (`BRISE_<KEY>`), or a flag (`--<key>`, dashes for
/// underscores); see `DaemonConfiguration.settings` and `load(arguments:environment:)`.
public struct DaemonConfiguration: Sendable, Equatable {
    /// The GGUF model to serve: a path, or a name in the models directory.
    public var model: String?
    /// The models directory names are looked up in (nil: `$STATE_DIRECTORY/models` under systemd,
    /// else `$XDG_DATA_HOME/brise/models`, as `brise pull` uses).
    public var modelsDir: String?
    /// The socket to bind when systemd does not hand one over.
    public var socket = "/run/brise/brised.sock"
    /// Permission bits of a socket brised binds itself.
    public var socketMode: UInt32 = 0o660
    /// Group that owns a socket brised binds itself (nil: the daemon's group).
    public var socketGroup: String?
    /// A second socket for the HTTP API (OpenAI / La Plateforme shapes); nil: no HTTP face.
    public var httpSocket: String?
    /// A TCP address for the HTTP API (`127.0.0.1:PORT`, `[::1]:PORT`); nil: none. Needs `apiKeyFile`.
    public var httpListen: HTTPAddress?
    /// The file holding the key TCP clients send as `Authorization: Bearer KEY`.
    public var apiKeyFile: String?
    /// Allow `httpListen` on an address other than loopback.
    public var httpListenAllowRemote = false
    /// Users (names or uids) allowed to call; with `allowedGroups` both empty, everyone who can open
    /// the socket is allowed (the socket's mode and group are then the only gate).
    public var allowedUsers: [String] = []
    /// Groups (names or gids) whose members may call (primary group of the peer).
    public var allowedGroups: [String] = []
    /// Worker threads (nil: what the affinity mask and CPU quota allow).
    public var threads: Int?
    /// KV-cache positions (nil: the largest the memory budget allows, at most 4096 and the model's).
    public var context: Int?
    /// The KV cache's element type (`f16`, or `q8_0` for about half the memory).
    public var kvType = "f16"
    /// Requests decoded side by side, each with its own KV cache of `context` positions (nil: as many
    /// as the memory budget holds, at most 4).
    public var parallel: Int?
    /// The most prompt tokens one step feeds beside the running streams.
    public var prefillChunk = 256
    /// The most image-encoder work per step while other requests run, in milliseconds.
    public var imageSliceMilliseconds = 250
    /// Memory budget in bytes (nil: the cgroup's limit or physical memory).
    public var memoryBudget: Int?
    /// Lock the weights in memory.
    public var mlock = false
    /// The largest request message, in bytes, when set (`max_message_bytes`).
    public var maxMessageBytesSetting: Int?
    /// The largest request message, in bytes: as set, else 1 MiB, or 24 MiB with a vision model (a
    /// photo in base64 is a few MiB; `ImageLimits` caps an image at 20 MiB).
    public var maxMessageBytes: Int { maxMessageBytesSetting ?? (visionModel == nil ? 1 << 20 : 24 << 20) }
    /// Connections open at once; more are refused.
    public var maxConnections = 64
    /// Requests waiting for the model; more get `Busy`.
    public var maxQueuedRequests = 16
    /// The longest a request may wait for the model before `Timeout`.
    public var maxQueueWaitSeconds = 120.0
    /// The longest a request may run (prompt and generation) before it is stopped with `Timeout`.
    public var maxRequestSeconds = 600.0
    /// A connection that sends nothing complete for this long (between requests, or mid-message) is closed.
    public var idleTimeoutSeconds = 60.0
    /// On SIGTERM, how long in-flight requests may take to finish before they are cancelled.
    public var shutdownTimeoutSeconds = 10.0
    /// `max_tokens` when a request does not say.
    public var defaultMaxTokens = 512
    /// How tokens are guessed ahead when a request does not say (`speculative`).
    public var speculative = SpeculativeMode.off
    /// A smaller model with the same vocabulary that guesses tokens ahead (`speculative` draft/auto).
    public var draftModel: String?
    /// The vision projector (`mmproj`) for the model: prompts may then carry images.
    public var visionModel: String?
    /// The directory holding `thermal_zone*`.
    public var thermalZones = "/sys/class/thermal"
    /// °C where pacing starts.
    public var thermalSoftLimit = 70.0
    /// °C where generation pauses.
    public var thermalHardLimit = 85.0
    /// Seconds a token may wait in a thermal pause before the request fails.
    public var thermalMaxWaitSeconds = 60.0
    /// A cap on generated tokens per second (nil: none).
    public var maxTokensPerSecond: Double?
    /// Log level: trace, debug, info, notice, warning, error, critical.
    public var logLevel = "info"

    /// Creates the defaults.
    public init() {}
}

extension DaemonConfiguration {
    /// One setting: its key (TOML key; `--key-with-dashes` flag; `BRISE_KEY` environment variable),
    /// what it means, its default, and how a text value is applied.
    public struct Setting: Sendable {
        public var key: String
        public var help: String
        public var defaultValue: String
        /// Other command-line flags for it (`--mmproj`, llama.cpp's name).
        public var aliases: [String] = []
        let apply: @Sendable (inout DaemonConfiguration, String) throws -> Void

        /// The command-line flag.
        public var flag: String { "--" + key.replacingOccurrences(of: "_", with: "-") }
        /// Whether the setting is a boolean: its flag alone means true (`--mlock`), as in `brise generate`.
        public var isBoolean: Bool { defaultValue == "false" || defaultValue == "true" }
        /// The environment variable.
        public var environmentVariable: String { "BRISE_" + key.uppercased() }
    }

    /// Every setting, in documentation order.
    public static let settings: [Setting] = [
        Setting(
            key: "model", help: "The GGUF model to serve: a path, or a file or known name in models_dir (see brise pull).",
            defaultValue: "(required)"
        ) { $0.model = try path($1, "model") },
        Setting(
            key: "models_dir", help: "Where model names are looked up (BRISE_MODELS_DIR works too, as for brise pull).",
            defaultValue: "$STATE_DIRECTORY/models under systemd, else ~/.local/share/brise/models"
        ) { $0.modelsDir = try path($1, "models_dir") },
        Setting(key: "socket", help: "The socket path to bind when systemd does not pass one.", defaultValue: "/run/brise/brised.sock") {
            $0.socket = try path($1, "socket")
        },
        Setting(key: "socket_mode", help: "Permission bits (octal) of a socket brised binds.", defaultValue: "0660") {
            guard let mode = UInt32($1.hasPrefix("0o") ? String($1.dropFirst(2)) : $1, radix: 8), mode <= 0o777 else {
                throw invalid("socket_mode", $1, "an octal mode like 0660")
            }
            $0.socketMode = mode
        },
        Setting(key: "socket_group", help: "Group owning a socket brised binds (name or gid).", defaultValue: "the daemon's group") {
            $0.socketGroup = try nonEmpty($1, "socket_group")
        },
        Setting(
            key: "http_socket",
            help: "A Unix socket for the HTTP API (OpenAI / La Plateforme shapes; same mode, group and peer check as socket); empty: off.",
            defaultValue: "(off)"
        ) { $0.httpSocket = $1.isEmpty ? nil : try path($1, "http_socket") },
        Setting(
            key: "http_listen",
            help: "A loopback TCP address for the HTTP API (127.0.0.1:PORT or [::1]:PORT), only with api_key_file; empty: off.",
            defaultValue: "(off)"
        ) { $0.httpListen = $1.isEmpty ? nil : try HTTPAddress(parsing: $1) },
        Setting(
            key: "api_key_file",
            help: "A file with the key TCP clients must send as Authorization: Bearer KEY (its first line).",
            defaultValue: "(none)"
        ) { $0.apiKeyFile = $1.isEmpty ? nil : try path($1, "api_key_file") },
        Setting(
            key: "http_listen_allow_remote",
            help: "Allow http_listen on an address other than loopback (the key is then all that guards the model).",
            defaultValue: "false"
        ) { $0.httpListenAllowRemote = try boolean($1, "http_listen_allow_remote") },
        Setting(
            key: "allowed_users",
            help: "Users (names or uids) allowed to call. With allowed_groups, both empty means anyone who can open the socket.",
            defaultValue: "[] (anyone who can open the socket)"
        ) { $0.allowedUsers = list($1) },
        Setting(key: "allowed_groups", help: "Groups (names or gids) allowed to call (the peer's primary group).", defaultValue: "[]") {
            $0.allowedGroups = list($1)
        },
        Setting(key: "threads", help: "Worker threads; 0 = what the CPU affinity and cgroup quota allow.", defaultValue: "0") {
            let n = try integer($1, "threads", 0...1024)
            $0.threads = n == 0 ? nil : n
        },
        Setting(key: "context", help: "KV-cache positions; 0 = the largest the memory budget allows (at most 4096).", defaultValue: "0") {
            let n = try integer($1, "context", 0...(1 << 24))
            $0.context = n == 0 ? nil : n
        },
        Setting(key: "kv_type", help: "KV cache type: f16, or q8_0 (about half the memory, slightly different logits).", defaultValue: "f16") {
            guard ["f16", "q8_0"].contains($1) else { throw invalid("kv_type", $1, "f16 or q8_0") }
            $0.kvType = $1
        },
        Setting(
            key: "parallel",
            help: "Requests decoded side by side, each with a KV cache of `context` positions; 0 = as many as the memory budget holds (at most 4).",
            defaultValue: "0"
        ) {
            let n = try integer($1, "parallel", 0...MemoryPlan.maximumSlots)
            $0.parallel = n == 0 ? nil : n
        },
        Setting(
            key: "prefill_chunk", help: "The most prompt tokens one step feeds beside running streams (they pause at most that long).",
            defaultValue: "256"
        ) { $0.prefillChunk = try integer($1, "prefill_chunk", 1...512) },
        Setting(key: "memory_budget", help: "Memory budget (e.g. 2G, 512M); the cgroup limit applies when lower.", defaultValue: "the cgroup limit or physical memory") {
            guard let bytes = MemoryBudget.parse($1), bytes > 0 else { throw invalid("memory_budget", $1, "a size like 2G, 512M or 1000000") }
            $0.memoryBudget = bytes
        },
        Setting(key: "mlock", help: "Lock the weights in memory (needs RLIMIT_MEMLOCK / LimitMEMLOCK=).", defaultValue: "false") {
            $0.mlock = try boolean($1, "mlock")
        },
        Setting(
            key: "max_message_bytes", help: "The largest request message in bytes (images travel in base64 inside it).",
            defaultValue: "1048576, or 25165824 with a vision_model") {
            $0.maxMessageBytesSetting = try integer($1, "max_message_bytes", 1024...(64 << 20))
        },
        Setting(key: "max_connections", help: "Connections open at once; more are closed at once.", defaultValue: "64") {
            $0.maxConnections = try integer($1, "max_connections", 1...65536)
        },
        Setting(key: "max_queued_requests", help: "Requests waiting for the model; more get Busy.", defaultValue: "16") {
            $0.maxQueuedRequests = try integer($1, "max_queued_requests", 0...65536)
        },
        Setting(key: "max_queue_wait_seconds", help: "Longest wait for the model before Timeout.", defaultValue: "120") {
            $0.maxQueueWaitSeconds = try seconds($1, "max_queue_wait_seconds")
        },
        Setting(key: "max_request_seconds", help: "Longest a request may run before it is stopped with Timeout.", defaultValue: "600") {
            $0.maxRequestSeconds = try seconds($1, "max_request_seconds")
        },
        Setting(key: "idle_timeout_seconds", help: "A connection with no complete message for this long is closed.", defaultValue: "60") {
            $0.idleTimeoutSeconds = try seconds($1, "idle_timeout_seconds")
        },
        Setting(key: "shutdown_timeout_seconds", help: "On SIGTERM, how long in-flight requests may finish before they are cancelled.", defaultValue: "10") {
            $0.shutdownTimeoutSeconds = try seconds($1, "shutdown_timeout_seconds")
        },
        Setting(key: "default_max_tokens", help: "max_tokens when a request does not give one.", defaultValue: "512") {
            $0.defaultMaxTokens = try integer($1, "default_max_tokens", 1...(1 << 24))
        },
        Setting(
            key: "speculative",
            help: "Speculative decoding when a request does not say: off, ngram (guesses from the prompt and the text so far), draft (needs a draft model) or auto; the text is the same either way.",
            defaultValue: "off"
        ) {
            guard let mode = SpeculativeMode(rawValue: $1) else { throw invalid("speculative", $1, SpeculativeMode.names) }
            $0.speculative = mode
        },
        Setting(
            key: "draft_model",
            help: "A smaller GGUF with the same vocabulary that guesses tokens ahead for speculative draft and auto (e.g. Ministral 3 3B for 8B, or a lower-bit copy of the model): a path or a name in models_dir; planned in what the memory budget leaves.",
            defaultValue: "(none)"
        ) { $0.draftModel = try path($1, "draft_model") },
        Setting(
            key: "vision_model",
            help: "The model's vision projector (llama.cpp's mmproj GGUF, projector type pixtral: Ministral 3, Mistral Small 3.1, Pixtral), a path or a name in models_dir: Chat messages may then carry images; planned in what the memory budget leaves.",
            defaultValue: "(none)", aliases: ["--mmproj"]
        ) { $0.visionModel = try path($1, "vision_model") },
        Setting(
            key: "image_slice_ms",
            help: "While other requests are running, the most image-encoding work (milliseconds, whole layers) one step does, so their tokens keep coming; an image alone encodes in one step.",
            defaultValue: "250"
        ) { $0.imageSliceMilliseconds = try integer($1, "image_slice_ms", 10...60_000) },
        Setting(key: "thermal_zones", help: "Directory holding thermal_zone*/temp.", defaultValue: "/sys/class/thermal") {
            $0.thermalZones = try path($1, "thermal_zones")
        },
        Setting(key: "thermal_soft_limit", help: "°C where generation starts pacing (pauses between tokens).", defaultValue: "70") {
            $0.thermalSoftLimit = try number($1, "thermal_soft_limit", -50...200)
        },
        Setting(key: "thermal_hard_limit", help: "°C where generation pauses until below the soft limit.", defaultValue: "85") {
            $0.thermalHardLimit = try number($1, "thermal_hard_limit", -50...200)
        },
        Setting(key: "thermal_max_wait_seconds", help: "Longest a token may wait in a thermal pause before the request fails.", defaultValue: "60") {
            $0.thermalMaxWaitSeconds = try seconds($1, "thermal_max_wait_seconds")
        },
        Setting(key: "max_tokens_per_second", help: "Cap on generated tokens per second; 0 = none.", defaultValue: "0") {
            let rate = try number($1, "max_tokens_per_second", 0...100_000)
            guard rate == 0 || rate >= 0.001 else { throw invalid("max_tokens_per_second", $1, "0 (no cap) or a rate in 0.001…100000") }
            $0.maxTokensPerSecond = rate == 0 ? nil : rate
        },
        Setting(key: "log_level", help: "trace, debug, info, notice, warning, error or critical.", defaultValue: "info") {
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains($1) else { throw invalid("log_level", $1, "one of \(levels.joined(separator: ", "))") }
            $0.logLevel = $1
        },
    ]

    /// Checks the values that depend on each other.
    ///
    /// - Throws: `DaemonError` `.configuration`.
    public func validate() throws(DaemonError) {
        guard model != nil else {
            throw DaemonError(.configuration, "no model: give --model FILE, BRISE_MODEL or model = \"…\" in the config file")
        }
        if let httpListen {
            guard apiKeyFile != nil else {
                throw DaemonError(.configuration, "http_listen = \"\(httpListen)\" needs api_key_file: TCP clients have no credentials to check")
            }
            guard httpListen.isLoopback || httpListenAllowRemote else {
                throw DaemonError(
                    .configuration,
                    "http_listen = \"\(httpListen)\" is not a loopback address; set http_listen_allow_remote = true to serve other machines")
            }
        }
        guard thermalSoftLimit < thermalHardLimit else {
            throw DaemonError(
                .configuration,
                "thermal_soft_limit (\(thermalSoftLimit)) must be below thermal_hard_limit (\(thermalHardLimit))")
        }
    }

    // MARK: - Value parsers

    static func invalid(_ key: String, _ value: String, _ expected: String) -> DaemonError {
        DaemonError(.configuration, "\(key) = \"\(value)\" is not valid: expected \(expected)")
    }

    static func path(_ value: String, _ key: String) throws(DaemonError) -> String {
        guard !value.isEmpty, !value.contains("\0") else { throw invalid(key, value, "a path") }
        return value
    }

    static func nonEmpty(_ value: String, _ key: String) throws(DaemonError) -> String {
        guard !value.isEmpty else { throw invalid(key, value, "a name") }
        return value
    }

    static func list(_ value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func integer(_ value: String, _ key: String, _ range: ClosedRange<Int>) throws(DaemonError) -> Int {
        guard let n = Int(value), range.contains(n) else {
            throw invalid(key, value, "a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    static func number(_ value: String, _ key: String, _ range: ClosedRange<Double>) throws(DaemonError) -> Double {
        guard let x = Double(value), x.isFinite, range.contains(x) else {
            throw invalid(key, value, "a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return x
    }

    static func seconds(_ value: String, _ key: String) throws(DaemonError) -> Double {
        guard let x = Double(value), x.isFinite, x > 0, x <= 86_400 * 365 else {
            throw invalid(key, value, "a positive number of seconds")
        }
        return x
    }

    static func boolean(_ value: String, _ key: String) throws(DaemonError) -> Bool {
        switch value.lowercased() {
        case "true", "yes", "1", "on": return true
        case "false", "no", "0", "off": return false
        default: throw invalid(key, value, "true or false")
        }
    }
}
