/// An error decoding an image.
///
/// Image bytes come from clients, so every problem with them is one of these, never a trap. The codes
/// are stable (the daemon maps them to wire strings); the message says what was seen, for a person.
public struct ImageError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable code.
    public var code: Code
    /// A human-readable explanation.
    public var message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The error code.
    ///   - message: A human-readable explanation.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "image error (\(code)): \(message)" }

    /// The kind of an `ImageError`.
    ///
    /// A struct wrapping a private enum, so new codes can be added without breaking users who switch
    /// over them (the NIOFileSystem `FileSystemError.Code` pattern, as `GGUFError.Code`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case empty
            case unknownFormat
            case truncated
            case malformed
            case tooLarge
            case unsupported
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// There are no bytes at all.
        public static var empty: Self { .init(.empty) }
        /// The bytes start with neither a PNG nor a JPEG signature.
        public static var unknownFormat: Self { .init(.unknownFormat) }
        /// The bytes end before the image does.
        public static var truncated: Self { .init(.truncated) }
        /// The bytes are not a valid image of their format: a bad header, corrupt compressed data, a
        /// zero width or height.
        public static var malformed: Self { .init(.malformed) }
        /// The encoded size, the pixel count or a side exceeds `ImageLimits`, or the decoder would need
        /// more working memory than they allow.
        public static var tooLarge: Self { .init(.tooLarge) }
        /// A valid image of a kind this decoder does not handle (a 12-bit JPEG, an unknown colour space).
        public static var unsupported: Self { .init(.unsupported) }

        public var description: String { base.rawValue }
    }
}
