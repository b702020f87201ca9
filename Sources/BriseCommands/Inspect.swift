public import ArgumentParser
import Foundation
import GGUF

/// `brise inspect FILE [--json]`: what is inside a GGUF model, and what it needs to run.
///
/// Reads only the header, metadata and tensor table: no tensor byte is touched, so inspecting a
/// multi-GB file is instant and costs a few MB.
public struct Inspect: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Show a GGUF model's architecture, hyperparameters, tokenizer, tensors and memory needs.",
        discussion: """
            Reads the header, metadata and tensor table only; tensor data is never read. A malformed \
            file is reported with the byte offset of the problem and exit status 1.
            """
    )

    @Argument(help: "The GGUF file, or a model name in the models directory (as brised --model takes it).")
    var file: String

    @Flag(help: "Print JSON: the summary, every metadata key (arrays: type, length, first elements) and every tensor.")
    var json = false

    @Flag(help: "Also list every metadata key (text output).")
    var metadata = false

    @Flag(help: "Also list every tensor (text output).")
    var tensors = false

    @Option(help: "Context length for the KV-cache estimate (default: 4096 and the model's training context).")
    var context: Int?

    public init() {}

    public func run() throws {
        let file = try ModelArgument.path(self.file, command: "inspect")
        if let context, context <= 0 {
            throw ValidationError("--context must be a positive number of tokens")
        }
        let report: InspectReport
        do {
            let gguf = try GGUFFile(path: file)
            report = try InspectReport(file: gguf, path: file, contextLength: context)
        } catch let error as GGUFError {
            var stderr = StandardError()
            print("brise inspect: \(file): \(error)", to: &stderr)
            throw ExitCode.failure
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]  // the same order every run
            let data = try encoder.encode(report)
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(report.renderText(listMetadata: metadata, listTensors: tensors), terminator: "")
        }
    }
}

/// Writes to standard error with `print(_:to:)`.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
