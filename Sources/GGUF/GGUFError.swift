/// An error reading or writing a GGUF file.
///
/// Parser errors carry the byte offset in the file where the problem was found, so a user can look at
/// the bytes (`xxd -s OFFSET`). Syscall failures carry the `errno` they failed with in `underlying`.
public struct GGUFError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable code (the daemon maps it to a wire string later).
    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// The byte offset in the file where the problem was found, when it is about a byte.
    public var offset: Int?
    /// The error this one wraps, for example the `Errno` of a failed system call.
    public var underlying: (any Error & Sendable)?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The error code.
    ///   - message: A human-readable explanation.
    ///   - offset: The byte offset in the file, if the error is about a byte.
    ///   - underlying: The wrapped error, if any.
    public init(_ code: Code, _ message: String, offset: Int? = nil, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
        self.underlying = underlying
    }

    public var description: String {
        var text = "GGUF error (\(code)): \(message)"
        if let offset { text += " at byte \(offset)" }
        if let underlying { text += " (\(underlying))" }
        return text
    }

    /// The kind of a `GGUFError`.
    ///
    /// A struct wrapping a private enum, so new codes can be added without breaking users who switch
    /// over them (the NIOFileSystem `FileSystemError.Code` pattern).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case io
            case truncated
            case badMagic
            case unsupportedVersion
            case limitExceeded
            case invalidValueType
            case invalidString
            case duplicateKey
            case invalidAlignment
            case invalidTensor
            case duplicateTensor
            case unknownTensorType
            case tensorOutOfBounds
            case misalignedTensor
            case overlappingTensors
            case missingKey
            case wrongValueType
            case invalidValue
            case unsupportedArchitecture
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A system call on the file failed (open, fstat, mmap, mlock, write).
        public static var io: Self { .init(.io) }
        /// The file ends before a structure that must be there.
        public static var truncated: Self { .init(.truncated) }
        /// The file does not start with `GGUF`.
        public static var badMagic: Self { .init(.badMagic) }
        /// The version is not 2 or 3.
        public static var unsupportedVersion: Self { .init(.unsupportedVersion) }
        /// A count or length is larger than `GGUFParsingLimits` allows.
        public static var limitExceeded: Self { .init(.limitExceeded) }
        /// A metadata value type id is not one GGUF defines.
        public static var invalidValueType: Self { .init(.invalidValueType) }
        /// A string is not valid UTF-8 where UTF-8 is required (keys, tensor names).
        public static var invalidString: Self { .init(.invalidString) }
        /// A metadata key appears twice.
        public static var duplicateKey: Self { .init(.duplicateKey) }
        /// `general.alignment` is not a power of two of the right type.
        public static var invalidAlignment: Self { .init(.invalidAlignment) }
        /// A tensor's dimensions are invalid (too many, negative, overflowing, not a whole number of blocks).
        public static var invalidTensor: Self { .init(.invalidTensor) }
        /// Two tensors share a name.
        public static var duplicateTensor: Self { .init(.duplicateTensor) }
        /// A tensor's ggml type id is not one ggml defines.
        public static var unknownTensorType: Self { .init(.unknownTensorType) }
        /// A tensor's bytes do not lie inside the data section.
        public static var tensorOutOfBounds: Self { .init(.tensorOutOfBounds) }
        /// A tensor's offset is not a multiple of the alignment.
        public static var misalignedTensor: Self { .init(.misalignedTensor) }
        /// Two tensors' byte ranges overlap.
        public static var overlappingTensors: Self { .init(.overlappingTensors) }
        /// A metadata key the caller needs is absent.
        public static var missingKey: Self { .init(.missingKey) }
        /// A metadata key has a type the caller cannot use.
        public static var wrongValueType: Self { .init(.wrongValueType) }
        /// A metadata value is out of its meaningful range.
        public static var invalidValue: Self { .init(.invalidValue) }
        /// `general.architecture` names an architecture this build does not know.
        public static var unsupportedArchitecture: Self { .init(.unsupportedArchitecture) }

        public var description: String { base.rawValue }
    }
}
