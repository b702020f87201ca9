/// Where models live, and why there.
///
/// One directory holds every model (USERS.md 10: services fail when the model path depends on whose
/// home it is). In order, the first that is set wins:
///
/// 1. `--models-dir DIR` (the `flag` argument);
/// 2. `$BRISE_MODELS_DIR`;
/// 3. `$STATE_DIRECTORY/models`: the system service, whose unit has `StateDirectory=brise` (systemd sets
///    the variable, a colon-separated list when the unit names several; the first is ours);
/// 4. `$XDG_DATA_HOME/brise/models` for a user (the XDG spec ignores a relative value, so do we);
/// 5. `$HOME/.local/share/brise/models` (the XDG default).
///
/// Resolution is a pure function of the flag and an environment dictionary, so tests can try every case.
public struct ModelsDirectory: Sendable, Hashable, CustomStringConvertible {
    /// Which rule chose the directory.
    public enum Source: String, Sendable, Hashable {
        /// `--models-dir`.
        case flag = "--models-dir"
        /// `$BRISE_MODELS_DIR`.
        case briseModelsDir = "$BRISE_MODELS_DIR"
        /// `$STATE_DIRECTORY` (the systemd service).
        case stateDirectory = "$STATE_DIRECTORY"
        /// `$XDG_DATA_HOME`.
        case xdgDataHome = "$XDG_DATA_HOME"
        /// `$HOME`, through the XDG default `~/.local/share`.
        case home = "$HOME"
    }

    /// The directory's path (not necessarily existing yet).
    public var path: String
    /// The rule that chose it.
    public var source: Source

    /// Creates a directory value.
    ///
    /// - Parameters:
    ///   - path: The path.
    ///   - source: The rule that chose it.
    public init(path: String, source: Source) {
        self.path = path
        self.source = source
    }

    public var description: String { "\(path) (from \(source.rawValue))" }

    /// Works out the models directory.
    ///
    /// Empty values count as unset. Trailing slashes are dropped so paths join cleanly.
    ///
    /// - Parameters:
    ///   - flag: The `--models-dir` value, if given.
    ///   - environment: The environment (`ProcessInfo.processInfo.environment` in the CLI).
    /// - Returns: The directory and the rule that chose it.
    /// - Throws: `ModelStoreError` `.noModelsDirectory` when nothing is set, not even `$HOME`.
    public static func resolve(flag: String?, environment: [String: String]) throws -> ModelsDirectory {
        func value(_ name: String) -> String? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
        if let flag, !flag.isEmpty {
            return ModelsDirectory(path: trimmed(flag), source: .flag)
        }
        if let directory = value("BRISE_MODELS_DIR") {
            return ModelsDirectory(path: trimmed(directory), source: .briseModelsDir)
        }
        if let list = value("STATE_DIRECTORY"),
            let first = list.split(separator: ":", omittingEmptySubsequences: true).first
        {
            return ModelsDirectory(path: joined(String(first), "models"), source: .stateDirectory)
        }
        if let data = value("XDG_DATA_HOME"), data.hasPrefix("/") {
            return ModelsDirectory(path: joined(data, "brise/models"), source: .xdgDataHome)
        }
        if let home = value("HOME") {
            return ModelsDirectory(path: joined(home, ".local/share/brise/models"), source: .home)
        }
        throw ModelStoreError(
            .noModelsDirectory,
            "no models directory: pass --models-dir, or set BRISE_MODELS_DIR, XDG_DATA_HOME or HOME")
    }

    /// The same directory with a relative path made absolute (a relative `--models-dir` is relative to
    /// the working directory; printed paths should not depend on it).
    ///
    /// - Parameter currentDirectory: The working directory.
    /// - Returns: The directory with an absolute path.
    public func absolute(currentDirectory: String) -> ModelsDirectory {
        guard !path.hasPrefix("/") else { return self }
        let relative = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
        return ModelsDirectory(path: Self.joined(currentDirectory, relative == "." ? "" : relative), source: source)
    }

    private static func trimmed(_ path: String) -> String {
        var path = Substring(path)
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }

    private static func joined(_ base: String, _ relative: String) -> String {
        let base = trimmed(base)
        if relative.isEmpty { return base }
        return base == "/" ? "/" + relative : base + "/" + relative
    }
}
