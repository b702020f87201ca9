public import ArgumentParser
import Foundation
import GGUF
import ModelStore

/// `brise models`: the models in the models directory, read from their GGUF headers.
public struct Models: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "List the GGUF models in the models directory (name, architecture, quantization, size).",
        discussion: """
            The models directory is the first of: --models-dir; $BRISE_MODELS_DIR; $STATE_DIRECTORY/models \
            (the systemd service, StateDirectory=); $XDG_DATA_HOME/brise/models; \
            ~/.local/share/brise/models. Every *.gguf file there is listed; one that is not valid GGUF is \
            listed with its error. Only headers are read, so listing is instant.
            """
    )

    @Option(help: "The models directory (overrides the rules above).")
    var modelsDir: String?

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "List the short names brise pull knows instead (URL, size, SHA-256).")
    var known = false

    public init() {}

    public func run() throws {
        if known {
            try printKnown()
            return
        }
        var stderr = StandardError()
        let directory: ModelsDirectory
        let models: [InstalledModel]
        do {
            directory = try ModelsDirectory.resolve(flag: modelsDir, environment: ProcessInfo.processInfo.environment)
                .absolute(currentDirectory: FileManager.default.currentDirectoryPath)
            models = try InstalledModel.list(in: directory.path)
        } catch let error as ModelStoreError {
            print("brise models: \(error)", to: &stderr)
            throw ExitCode.failure
        }
        if json {
            try printJSON(ModelsReport(directory: directory, models: models))
            return
        }
        print("models in \(directory)")
        guard !models.isEmpty else {
            print("(none: brise pull URL|NAME downloads one; brise models --known lists the names)")
            return
        }
        var rows = [["NAME", "ARCH", "QUANT", "PARAMS", "SIZE"]]
        var errors: [String] = []
        for model in models {
            switch model.summary {
            case .success(let summary):
                rows.append([
                    model.fileName, summary.architecture ?? "?", summary.quantization ?? "?",
                    formatCount(summary.parameterCount), formatBytes(model.fileSize),
                ])
            case .failure(let error):
                rows.append([model.fileName, "-", "-", "-", formatBytes(model.fileSize)])
                errors.append("\(model.fileName): \(error)")
            }
        }
        print(formatTable(rows), terminator: "")
        if !errors.isEmpty {
            print("\nnot valid GGUF:")
            for error in errors { print("  \(error)") }
        }
    }

    private func printKnown() throws {
        if json {
            try printJSON(KnownModels.all.map(KnownModelReport.init))
            return
        }
        var rows = [["NAME", "SIZE", "FILE"]]
        for model in KnownModels.all {
            rows.append([model.name, model.size.map(formatBytes) ?? "?", model.fileName])
        }
        print(formatTable(rows), terminator: "")
        for model in KnownModels.all {
            print("\n\(model.name): \(model.summary)\n  \(model.url)")
            if let sha256 = model.sha256 { print("  sha256 \(sha256)") }
        }
    }

    private func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

// MARK: - Reports

/// `brise models --json`.
struct ModelsReport: Encodable {
    struct Entry: Encodable {
        var file: String
        var path: String
        var size: Int
        var name: String?
        var architecture: String?
        var quantization: String?
        var quantizationSource: String?
        var parameters: Int?
        var error: String?
    }

    var directory: String
    var directorySource: String
    var models: [Entry]

    init(directory: ModelsDirectory, models: [InstalledModel]) {
        self.directory = directory.path
        directorySource = directory.source.rawValue
        self.models = models.map { model in
            var entry = Entry(file: model.fileName, path: model.path, size: model.fileSize)
            switch model.summary {
            case .success(let summary):
                entry.name = summary.name
                entry.architecture = summary.architecture
                entry.quantization = summary.quantization
                entry.quantizationSource = summary.quantizationSource?.rawValue
                entry.parameters = summary.parameterCount
            case .failure(let error):
                entry.error = error.description
            }
            return entry
        }
    }
}

/// One entry of `brise models --known --json`.
struct KnownModelReport: Encodable {
    var name: String
    var summary: String
    var url: String
    var file: String
    var size: Int?
    var sha256: String?

    init(_ model: KnownModel) {
        name = model.name
        summary = model.summary
        url = model.url
        file = model.fileName
        size = model.size
        sha256 = model.sha256
    }
}

// MARK: - Formatting

/// A count as `950`, `107K`, `3.4B`.
func formatCount(_ count: Int) -> String {
    let units: [(Double, String)] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")]
    for (scale, suffix) in units where Double(count) >= scale {
        let value = Double(count) / scale
        return (value < 10 ? "\((value * 10).rounded() / 10)" : "\(Int(value.rounded()))") + suffix
    }
    return "\(count)"
}

/// Rows as left-aligned columns separated by two spaces, one line each.
func formatTable(_ rows: [[String]]) -> String {
    let columns = rows.map(\.count).max() ?? 0
    var widths = [Int](repeating: 0, count: columns)
    for row in rows {
        for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    var text = ""
    for row in rows {
        var line = ""
        for (index, cell) in row.enumerated() {
            line += index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
        }
        text += line + "\n"
    }
    return text
}
