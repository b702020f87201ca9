/// An error loading or running a model.
public struct ModelError: Error, Sendable, CustomStringConvertible {
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

    public var description: String { "model error (\(code)): \(message)" }

    /// The kind of a `ModelError`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case missingTensor
            case wrongShape
            case unsupportedTensorType
            case unsupportedArchitecture
            case contextOverflow
            case invalidToken
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A tensor the architecture needs is not in the file.
        public static var missingTensor: Self { .init(.missingTensor) }
        /// A tensor's shape disagrees with the hyperparameters.
        public static var wrongShape: Self { .init(.wrongShape) }
        /// A tensor's type is one the kernels cannot compute with.
        public static var unsupportedTensorType: Self { .init(.unsupportedTensorType) }
        /// The architecture has no forward pass in this build.
        public static var unsupportedArchitecture: Self { .init(.unsupportedArchitecture) }
        /// More tokens than the KV cache holds.
        public static var contextOverflow: Self { .init(.contextOverflow) }
        /// A token id outside the vocabulary.
        public static var invalidToken: Self { .init(.invalidToken) }

        public var description: String { base.rawValue }
    }
}
