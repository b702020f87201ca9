public import ArgumentParser
import Foundation
import ModelStore

#if canImport(Glibc)
    import Glibc
#endif

/// `brise pull URL|NAME`: downloads a GGUF model into the models directory, resumably, and puts it in
/// place only once its size, SHA-256 (when known) and GGUF structure check out.
public struct Pull: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Download a GGUF model into the models directory (resumable, verified, atomic).",
        discussion: """
            SOURCE is an http:// or https:// URL, or a known name (brise models --known: Mistral's \
            official Ministral 3 GGUFs, pinned with their size and SHA-256). The download goes to \
            <models>/.partial/<file>.part; a dropped connection is retried and resumed with a Range \
            request, and a pull that was interrupted resumes where it stopped when run again. The file \
            gets its final name only after it is complete and checked. Prints the final path on \
            standard output; progress goes to standard error. Exit status 1 on any failure.
            """
    )

    @Argument(help: "An http(s) URL of a .gguf file, or a known model name.")
    var source: String

    @Option(help: "The models directory (default: see brise models --help).")
    var modelsDir: String?

    @Option(help: "The SHA-256 the file must have (64 hex digits).")
    var sha256: String?

    @Option(help: "Failed attempts in a row (without progress) before giving up.")
    var retries = 5

    public init() {}

    public func validate() throws {
        if retries < 0 { throw ValidationError("--retries must be 0 or more") }
    }

    public func run() throws {
        var stderr = StandardError()
        do {
            let pullSource = try PullSource.resolve(source, sha256: sha256)
            let directory = try ModelsDirectory.resolve(
                flag: modelsDir, environment: ProcessInfo.processInfo.environment
            )
            .absolute(currentDirectory: FileManager.default.currentDirectoryPath)
            let bar = PullProgressBar(label: pullSource.fileName, interactive: isatty(STDERR_FILENO) == 1)
            let puller = ModelPull(directory: directory.path, options: PullOptions(maxRetries: retries))
            let result: PullResult
            do {
                result = try puller.pull(pullSource) { bar.update($0) }
            } catch {
                bar.finish()
                throw error
            }
            bar.finish()
            if result.alreadyPresent {
                print(
                    "pull: \(pullSource.fileName) is already in \(directory.path) (sha256 \(result.sha256))",
                    to: &stderr)
            } else {
                print(
                    "pull: \(pullSource.fileName): \(formatBytes(result.size)), sha256 \(result.sha256)"
                        + (pullSource.expectedSHA256 == nil ? " (not checked: no known hash)" : " (checked)"),
                    to: &stderr)
            }
            print(result.path)
        } catch let error as ModelStoreError {
            print("brise pull: \(error)", to: &stderr)
            throw ExitCode.failure
        }
    }
}
