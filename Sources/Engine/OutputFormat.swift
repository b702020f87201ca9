/// What shape a request's answer must have, as a client states it (before compilation).
public enum OutputFormat: Sendable, Hashable {
    /// Any JSON object (`response_format` `json_object`).
    case jsonObject
    /// A JSON Schema, as JSON text (key order kept: it is the order properties are offered in).
    case jsonSchema(String)
    /// A GBNF grammar (llama.cpp's syntax).
    case grammar(String)

    /// The request parameter that carries it, for errors.
    public var parameter: String {
        switch self {
        case .jsonObject, .jsonSchema: "responseFormat"
        case .grammar: "grammar"
        }
    }
}
