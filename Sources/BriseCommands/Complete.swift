public import ArgumentParser
import BriseClient
import Foundation
import WireProtocol

/// `brise complete`: the code that belongs between a prefix and a suffix (fill in the middle), from
/// brised's model, as an editor asks for it.
public struct Complete: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Fill in the middle: the code between a prefix file and a suffix file, from brised's model.",
        discussion: """
            Uses the model's fill-in-the-middle tokens (Codestral's [SUFFIX]/[PREFIX], Qwen2.5-Coder's \
            <|fim_prefix|>…); a model without them is refused. Prints the middle (nothing added after it), or with \
            --whole the prefix, the middle and the suffix. A prompt too long for the context keeps what is \
            nearest the gap.
            """)

    @Option(help: "The file with the text before the gap (- reads standard input).")
    var prefix: String

    @Option(help: "The file with the text after the gap (absent: nothing after it).")
    var suffix: String?

    @Flag(help: "Print the prefix, the middle and the suffix: the file with the gap filled.")
    var whole = false

    @OptionGroup var daemon: DaemonOptions

    public init() {}

    public func validate() throws {
        if suffix == "-", prefix == "-" { throw ValidationError("only one of --prefix and --suffix can read standard input") }
    }

    static func read(_ path: String) throws -> String {
        if path == "-" { return try TextArgument.resolve("-") }
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let data = try handle.read(upToCount: TextArgument.maximumBytes + 1) ?? Data()
        guard data.count <= TextArgument.maximumBytes else {
            throw TextArgumentError(message: "\(path) holds more than \(TextArgument.maximumBytes >> 20) MiB")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw TextArgumentError(message: "\(path) is not UTF-8 text") }
        return text
    }

    public func run() async throws {
        let before: String
        let after: String
        do {
            before = try Self.read(prefix)
            after = try suffix.map(Self.read) ?? ""
        } catch {
            FileHandle.standardError.write(Data("brise complete: \(error is TextArgumentError ? "\(error)" : error.localizedDescription)\n".utf8))
            throw ExitCode(66)
        }
        if whole { FileHandle.standardOutput.write(Data(before.utf8)) }
        do {
            let stream = daemon.client.complete(before, suffix: after, options: daemon.options)
            if case .cancelled = try await AnswerPrinter.print(stream, verbose: daemon.verbose, endLine: false) { throw ExitCode(130) }
        } catch let error as BriseClientError {
            FileHandle.standardError.write(Data("brise complete: \(error.message)\n".utf8))
            throw ExitCode(error.code == .connection ? 69 : 1)
        }
        if whole { FileHandle.standardOutput.write(Data(after.utf8)) }
    }
}
