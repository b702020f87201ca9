/// Why a grammar or a schema cannot be compiled, or why a text does not match: a code to branch
/// on, a message for people, and where (a JSON pointer into a schema, or a line:column in a GBNF
/// text) when there is a place to point at.
public struct GrammarError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The GBNF text does not parse.
        case syntax
        /// A rule is used but never defined.
        case undefinedRule
        /// A rule can reach itself without consuming a byte (left recursion): a pushdown matcher
        /// would loop.
        case leftRecursion
        /// The grammar or schema exceeds a limit (rules, elements, nesting, repetition counts).
        case tooLarge
        /// The schema is not a JSON Schema (a keyword of the wrong type, a bad value).
        case invalidSchema
        /// The schema uses a keyword or a value this compiler cannot enforce.
        case unsupported
        /// A `$ref` that points nowhere, or outside the document.
        case badReference
        /// The schema admits no value at all.
        case unsatisfiable
        /// A regular expression (`pattern`) does not parse or cannot be compiled.
        case badPattern
    }

    public var code: Code
    public var message: String
    /// A JSON pointer into the schema (`/properties/name/pattern`), or `line:column` in a GBNF text.
    public var location: String?
    /// The keyword at fault, when one is.
    public var keyword: String?

    public init(_ code: Code, _ message: String, location: String? = nil, keyword: String? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.keyword = keyword
    }

    public var description: String {
        if let location, !location.isEmpty { return "\(message) (at \(location))" }
        return message
    }
}
