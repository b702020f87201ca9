public import Foundation

/// What `brise pull` fetches: a URL, the file name it gets, and what it must check.
public struct PullSource: Sendable, Hashable {
    /// The http(s) URL.
    public var url: URL
    /// The name in the models directory (always ends in `.gguf`).
    public var fileName: String
    /// The expected size in bytes, when known.
    public var expectedSize: Int?
    /// The expected SHA-256 as lowercase hex, when known.
    public var expectedSHA256: String?

    /// Creates a source.
    ///
    /// - Parameters:
    ///   - url: The http(s) URL.
    ///   - fileName: The name in the models directory.
    ///   - expectedSize: The size in bytes, if known.
    ///   - expectedSHA256: The SHA-256 as hex, if known.
    public init(url: URL, fileName: String, expectedSize: Int? = nil, expectedSHA256: String? = nil) {
        self.url = url
        self.fileName = fileName
        self.expectedSize = expectedSize
        self.expectedSHA256 = expectedSHA256
    }

    /// Works out a source from `brise pull`'s argument.
    ///
    /// An argument with `://` is a URL (http or https); the file name is its last path component, with
    /// `.gguf` added when missing. Anything else is a short name from `KnownModels`, which brings its
    /// size and hash. `sha256` (from `--sha256`) replaces the known hash.
    ///
    /// - Parameters:
    ///   - argument: A URL or a known name.
    ///   - sha256: A SHA-256 the file must have, as 64 hex digits.
    /// - Returns: The source.
    /// - Throws: `ModelStoreError` `.invalidSource` for a bad URL, file name or hash; `.unknownModel`
    ///   for a name that is not known.
    public static func resolve(_ argument: String, sha256: String? = nil) throws -> PullSource {
        let hash = try sha256.map(normalizedSHA256)
        if argument.contains("://") {
            guard let url = URL(string: argument), let scheme = url.scheme?.lowercased(),
                scheme == "http" || scheme == "https", url.host != nil
            else {
                throw ModelStoreError(.invalidSource, "\(argument) is not an http:// or https:// URL")
            }
            let last = url.lastPathComponent
            guard isUsableFileName(last) else {
                throw ModelStoreError(.invalidSource, "\(argument) does not end in a usable file name")
            }
            let fileName = last.lowercased().hasSuffix(".gguf") ? last : last + ".gguf"
            return PullSource(url: url, fileName: fileName, expectedSHA256: hash)
        }
        guard let known = KnownModels.model(named: argument) else {
            let names = KnownModels.all.map(\.name).joined(separator: ", ")
            throw ModelStoreError(
                .unknownModel, "\(argument) is not a known model name (known: \(names)); give a URL instead")
        }
        guard let url = URL(string: known.url) else {
            throw ModelStoreError(.invalidSource, "the known model \(known.name) has a malformed URL")
        }
        return PullSource(
            url: url, fileName: known.fileName, expectedSize: known.size, expectedSHA256: hash ?? known.sha256)
    }

    /// A SHA-256 given by a user, checked and lowercased.
    ///
    /// - Parameter text: 64 hex digits (an optional `sha256:` prefix is accepted).
    /// - Returns: The lowercase hex.
    /// - Throws: `ModelStoreError` `.invalidSource` when it is not 64 hex digits.
    public static func normalizedSHA256(_ text: String) throws -> String {
        var hex = text.lowercased()
        if hex.hasPrefix("sha256:") { hex.removeFirst("sha256:".count) }
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else {
            throw ModelStoreError(.invalidSource, "\(text) is not a SHA-256 (64 hex digits)")
        }
        return hex
    }

    /// Whether `name` can be a file name in the models directory: not empty, not hidden, no slash, no
    /// control character.
    static func isUsableFileName(_ name: String) -> Bool {
        guard !name.isEmpty, !name.hasPrefix("."), name.utf8.count <= 240 else { return false }
        return !name.unicodeScalars.contains { $0 == "/" || $0.value < 0x20 || $0.value == 0x7f }
    }
}
