/// An error choosing or running kernels.
public struct KernelError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
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

    public var description: String { "kernel error (\(code)): \(message)" }

    /// The kind of a `KernelError`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unknownPath
            case unsupportedPath
            case unsupportedType
            case shapeMismatch
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A kernel path name is not one Brise knows (`BRISE_KERNEL_PATH=…`).
        public static var unknownPath: Self { .init(.unknownPath) }
        /// The path exists but this CPU (or build) cannot run it.
        public static var unsupportedPath: Self { .init(.unsupportedPath) }
        /// A tensor type the kernels cannot compute with.
        public static var unsupportedType: Self { .init(.unsupportedType) }
        /// A tensor's shape does not fit the operation (row length not whole blocks, sizes differ).
        public static var shapeMismatch: Self { .init(.shapeMismatch) }

        public var description: String { base.rawValue }
    }
}
