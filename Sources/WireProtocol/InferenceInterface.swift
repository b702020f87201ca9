/// The `io.brise.Inference` Varlink interface: its name, methods and errors.
public enum InferenceInterface {
    /// The interface name.
    public static let name = "io.brise.Inference"

    /// The methods, as they appear on the wire (`io.brise.Inference.Generate`).
    public enum Method: String, Sendable, CaseIterable {
        case generate = "Generate"
        case chat = "Chat"
        case tokenize = "Tokenize"
        case detokenize = "Detokenize"
        case getModel = "GetModel"
        case getStatus = "GetStatus"

        /// The fully qualified method name.
        public var qualifiedName: String { "\(InferenceInterface.name).\(rawValue)" }
    }
}

/// The `org.varlink.service` interface every Varlink service implements.
public enum VarlinkService {
    /// The interface name.
    public static let name = "org.varlink.service"
    /// `GetInfo`: vendor, product, version, URL and interfaces.
    public static let getInfo = "org.varlink.service.GetInfo"
    /// `GetInterfaceDescription(interface)`: the interface's text.
    public static let getInterfaceDescription = "org.varlink.service.GetInterfaceDescription"
}
