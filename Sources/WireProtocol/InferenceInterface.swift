/// The `io.brise.Inference` Varlink interface: its name, methods and errors.
public enum InferenceInterface {
    /// The interface name.
    public static let name = "io.brise.Inference"

    /// The methods, as they appear on the wire (`io.brise.Inference.Generate`).
    public enum Method: String, Sendable, CaseIterable {
        case generate = "Generate"
        case chat = "Chat"
        case complete = "Complete"
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

extension VarlinkService {
    /// The interface's description, as the Varlink specification defines it.
    public static let description = """
        # The Varlink Service Interface is provided by every varlink service. It
        # describes the service and the interfaces it implements.
        interface org.varlink.service

        # Get a list of all the interfaces a service provides and information
        # about the implementation.
        method GetInfo() -> (
          vendor: string,
          product: string,
          version: string,
          url: string,
          interfaces: []string
        )

        # Get the description of an interface that is implemented by this service.
        method GetInterfaceDescription(interface: string) -> (description: string)

        # The requested interface was not found.
        error InterfaceNotFound (interface: string)

        # The requested method was not found
        error MethodNotFound (method: string)

        # The interface defines the requested method, but the service does not
        # implement it.
        error MethodNotImplemented (method: string)

        # One of the passed parameters is invalid.
        error InvalidParameter (parameter: string)

        # Client is denied access
        error PermissionDenied ()

        # Method is expected to be called with 'more' set to true, but wasn't
        error ExpectedMore ()

        """
}
