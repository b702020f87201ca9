public import GGUF
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A `*.gguf` file in the models directory, with what its header says or why it could not be read.
public struct InstalledModel: Sendable {
    /// The file's name in the directory (`Ministral-3-3B-Instruct-2512-Q4_K_M.gguf`).
    public var fileName: String
    /// The file's full path.
    public var path: String
    /// The file's size in bytes (0 when it could not be stat'ed).
    public var fileSize: Int
    /// The summary, or the error that reading the header gave: a corrupt file is listed, not fatal.
    public var summary: Result<ModelSummary, GGUFError>

    /// Creates an entry.
    ///
    /// - Parameters:
    ///   - fileName: The name in the directory.
    ///   - path: The full path.
    ///   - fileSize: The size in bytes.
    ///   - summary: The summary or the read error.
    public init(fileName: String, path: String, fileSize: Int, summary: Result<ModelSummary, GGUFError>) {
        self.fileName = fileName
        self.path = path
        self.fileSize = fileSize
        self.summary = summary
    }

    /// Reads one file's header.
    ///
    /// - Parameter path: The file.
    /// - Returns: The entry; a file that is not valid GGUF gets its `GGUFError` as the summary.
    public static func read(path: String) -> InstalledModel {
        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        var info = stat()
        let size = stat(path, &info) == 0 ? Int(info.st_size) : 0
        do {
            let file = try GGUFFile(path: path)
            return InstalledModel(
                fileName: fileName, path: path, fileSize: size, summary: .success(ModelSummary(file: file)))
        } catch let error as GGUFError {
            return InstalledModel(fileName: fileName, path: path, fileSize: size, summary: .failure(error))
        } catch {
            let wrapped = GGUFError(.io, "cannot read \(path): \(error)")
            return InstalledModel(fileName: fileName, path: path, fileSize: size, summary: .failure(wrapped))
        }
    }

    /// Lists every `*.gguf` file directly in `directory`, sorted by name.
    ///
    /// Hidden names (the `.partial` downloads among them) are skipped. A directory that does not exist
    /// yet lists as empty: nothing has been pulled.
    ///
    /// - Parameter directory: The models directory.
    /// - Returns: One entry per file, valid or not.
    /// - Throws: `ModelStoreError` `.io` when the directory exists but cannot be read.
    public static func list(in directory: String) throws -> [InstalledModel] {
        guard let handle = opendir(directory) else {
            let error = errno
            if error == ENOENT { return [] }
            throw ModelStoreError(
                .io, "cannot read the models directory \(directory)", underlying: Errno(rawValue: error))
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard !name.hasPrefix("."), name.lowercased().hasSuffix(".gguf") else { continue }
            names.append(name)
        }
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        return names.sorted().map { read(path: base + $0) }
    }
}
