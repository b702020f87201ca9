public import GGUF

/// An error finding, listing or pulling models.
///
/// Each error has a stable code (the daemon and scripts can branch on it) and a message that names the
/// file, URL or number involved. Syscall failures carry the `Errno` they failed with in `underlying`.
public struct ModelStoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// The error this one wraps, for example the `Errno` of a failed system call.
    public var underlying: (any Error & Sendable)?
    /// For `.invalidGGUF`: what the GGUF reader found (its code, message and byte offset are also in
    /// `message`).
    public var ggufError: GGUFError?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The error code.
    ///   - message: A human-readable explanation.
    ///   - underlying: The wrapped error, if any.
    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        var text = "model store error (\(code)): \(message)"
        if let underlying { text += " (\(underlying))" }
        return text
    }

    /// The kind of a `ModelStoreError`.
    ///
    /// A struct wrapping a private enum, so new codes can be added without breaking users who switch
    /// over them (the NIOFileSystem `FileSystemError.Code` pattern).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case noModelsDirectory
            case invalidSource
            case unknownModel
            case httpStatus
            case network
            case invalidResponse
            case sizeMismatch
            case hashMismatch
            case invalidGGUF
            case alreadyExists
            case busy
            case noSpace
            case io
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// No models directory can be worked out (no flag, no variable, no home directory).
        public static var noModelsDirectory: Self { .init(.noModelsDirectory) }
        /// The argument of a pull is neither an http(s) URL nor a usable file name.
        public static var invalidSource: Self { .init(.invalidSource) }
        /// A short name that is not in the known-model table.
        public static var unknownModel: Self { .init(.unknownModel) }
        /// The server answered with an error status (404, 403, 500, …).
        public static var httpStatus: Self { .init(.httpStatus) }
        /// The connection failed or dropped, and the retries ran out (the partial file is kept).
        public static var network: Self { .init(.network) }
        /// The server's answer makes no sense (a `Content-Range` that does not match, a missing status).
        public static var invalidResponse: Self { .init(.invalidResponse) }
        /// The download's size is not the expected one.
        public static var sizeMismatch: Self { .init(.sizeMismatch) }
        /// The download's SHA-256 is not the expected one.
        public static var hashMismatch: Self { .init(.hashMismatch) }
        /// The download is not a valid GGUF file.
        public static var invalidGGUF: Self { .init(.invalidGGUF) }
        /// A different file is already in place under the final name.
        public static var alreadyExists: Self { .init(.alreadyExists) }
        /// Another pull is writing the same partial file.
        public static var busy: Self { .init(.busy) }
        /// The file system has too little free space for the rest of the download.
        public static var noSpace: Self { .init(.noSpace) }
        /// A file system call failed (create, open, write, fsync, rename).
        public static var io: Self { .init(.io) }

        public var description: String { base.rawValue }
    }
}
