import ArgumentParser
import Foundation
import ModelStore

/// A model given to a `brise` command: a path, or a name in the models directory (a file there, with
/// or without `.gguf`, or a name `brise pull` knows), as brised's `--model` takes it.
enum ModelArgument {
    /// The model's path; an unknown name prints where brise looked and exits 66.
    static func path(_ value: String, command: String) throws -> String {
        do {
            return try ModelLocation.resolve(value, modelsDirectory: nil, environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("brise \(command): \(error.message)\n".utf8))
            throw ExitCode(66)
        }
    }
}
