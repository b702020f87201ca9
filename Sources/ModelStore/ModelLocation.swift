import Foundation

/// Where a model named on a command line or in brised's config is: a path as given, or a name in the
/// models directory — a file name (with or without `.gguf`) or a known short name (`ministral-3-3b`)
/// whose file `brise pull` put there. brised and every `brise` command that takes a model use it.
public enum ModelLocation {
    /// A model that is neither a path nor in the models directory.
    public struct NotFound: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Resolves `model`.
    ///
    /// - Parameters:
    ///   - model: The configured value.
    ///   - modelsDirectory: The `models_dir` setting, if any.
    ///   - environment: The process environment (`STATE_DIRECTORY`, `XDG_DATA_HOME`, `HOME`, …).
    /// - Returns: The file's path.
    /// - Throws: `NotFound` naming the places it looked and what to do.
    public static func resolve(_ model: String, modelsDirectory: String?, environment: [String: String]) throws(NotFound) -> String {
        if model.contains("/") || FileManager.default.fileExists(atPath: model) { return model }
        let directory: ModelsDirectory
        do {
            directory = try ModelsDirectory.resolve(flag: modelsDirectory, environment: environment)
        } catch {
            throw NotFound(message: "model \"\(model)\" is not a path, and there is no models directory: \(error)")
        }
        var names = [model, model + ".gguf"]
        if let known = KnownModels.model(named: model) { names.append(known.fileName) }
        let candidates = names.map { directory.path + "/" + $0 }
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        // Suggest `brise pull` only for a name it knows.
        let advice =
            KnownModels.model(named: model) != nil
            ? "`brise pull \(model)` downloads it there, or give a path"
            : "give a path, or a file in that directory (`brise models` lists them; `brise models --known` the names `brise pull` downloads)"
        throw NotFound(message: "model \"\(model)\" is not in \(directory) (looked for \(names.joined(separator: ", "))); \(advice)")
    }
}
