import Foundation
import Server

/// Fuzz target 4: the daemon's configuration — TOML text through the config loader, or (first byte
/// odd) NUL-separated command-line arguments — then the cross-checks `validate` makes. A bad value
/// must be a `DaemonError` naming it.
public enum ConfigurationFuzzer {
    public static func run(_ data: [UInt8]) {
        guard let mode = data.first else { return }
        let payload = data.dropFirst()
        if mode & 1 == 0 {
            var configuration = DaemonConfiguration()
            try? configuration.apply(configText: String(decoding: payload, as: UTF8.self), source: "fuzz.toml")
            try? configuration.validate()
            _ = configuration.tomlText
        } else {
            // --config would read a file the fuzzer names; the loader's file reading is tested apart.
            let arguments = payload.split(separator: 0).prefix(32).map { String(decoding: $0, as: UTF8.self) }
                .filter { !$0.hasPrefix("--config") }
            let environment = ["BRISE_CONFIG": "", "CONFIGURATION_DIRECTORY": "/nonexistent"]
            if let (_, configuration) = try? DaemonConfiguration.load(arguments: arguments, environment: environment) {
                _ = configuration.tomlText
            }
        }
    }
}
