/// A subschema and where it sits in the document (a JSON pointer, for errors and sharing).
struct SchemaLocation: Sendable {
    var node: JSONNode
    var pointer: String

    func child(_ token: String) -> SchemaLocation? {
        guard let value = node[token] else { return nil }
        return SchemaLocation(node: value, pointer: pointer + "/" + Self.escape(token))
    }

    func element(_ index: Int, of token: String) -> SchemaLocation? {
        guard let array = node[token]?.elements, index < array.count else { return nil }
        return SchemaLocation(node: array[index], pointer: pointer + "/" + Self.escape(token) + "/\(index)")
    }

    /// A location for a schema the compiler writes itself (a complement): below `pointer`, under a
    /// token no escaped key can spell (`~2`), so rules memoized by pointer never mix it up with the
    /// schema's own subschemas.
    static func synthesized(_ node: JSONNode, below pointer: String, _ name: String) -> SchemaLocation {
        SchemaLocation(node: node, pointer: pointer + "/~2" + name)
    }

    static func escape(_ token: String) -> String {
        // Most keys have neither "~" nor "/": one byte scan, no copies.
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
        return token.replacingOccurrences("~", "~0").replacingOccurrences("/", "~1")
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        guard contains(target) else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

/// JSON's value types as a bit set; `number` is `integer ∪ fraction` (whole and non-whole numbers).
struct TypeSet: OptionSet, Sendable, Hashable {
    let rawValue: UInt8
    static let null = TypeSet(rawValue: 1)
    static let boolean = TypeSet(rawValue: 2)
    static let integer = TypeSet(rawValue: 4)
    static let fraction = TypeSet(rawValue: 8)
    static let string = TypeSet(rawValue: 16)
    static let array = TypeSet(rawValue: 32)
    static let object = TypeSet(rawValue: 64)
    static let number: TypeSet = [.integer, .fraction]
    static let all: TypeSet = [.null, .boolean, .number, .string, .array, .object]

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init?(name: String) {
        switch name {
        case "null": self = .null
        case "boolean": self = .boolean
        case "integer": self = .integer
        case "number": self = .number
        case "string": self = .string
        case "array": self = .array
        case "object": self = .object
        default: return nil
        }
    }

    /// The type of a value.
    init(of value: JSONNode) {
        switch value {
        case .null: self = .null
        case .bool: self = .boolean
        case .number(let n): self = n.isInteger ? .integer : .fraction
        case .string: self = .string
        case .array: self = .array
        case .object: self = .object
        }
    }
}

/// A numeric bound: the value and whether it is exclusive.
struct NumberBound: Sendable {
    var value: DecimalValue
    var exclusive: Bool
}

/// The constraints of a conjunction of subschemas (a list of `allOf` members, `$ref` targets and
/// siblings) merged keyword by keyword, exactly: a keyword that cannot be merged exactly is refused.
///
/// Per-type keywords stay per clause where merging them would lose exactness (`properties` with
/// `additionalProperties`, `prefixItems` with `items`): each schema's pair is kept as a clause and
/// applied together at emission.
struct SchemaView: Sendable {
    var types: TypeSet = .all
    /// `enum`/`const`: the allowed values (nil: unconstrained).
    var values: [JSONNode]?
    var unsatisfiable = false

    var minLength = 0
    var maxLength: Int?
    var patterns: [(pattern: String, pointer: String)] = []
    var formats: [(format: String, pointer: String)] = []
    /// Strings a `not` of `enum`/`const` takes out (where no enum lists the values).
    var excludedStrings: [String] = []

    var lower: NumberBound?
    var upper: NumberBound?
    /// `multipleOf` (several: their least common multiple).
    var multipleOf: Divisor?

    struct ArrayClause: Sendable {
        var prefix: [SchemaLocation] = []
        var items: SchemaLocation?
    }
    var arrayClauses: [ArrayClause] = []
    var minItems = 0
    var maxItems: Int?
    var uniqueItems: String?

    struct ObjectClause: Sendable {
        var properties: [(key: String, schema: SchemaLocation)] = []
        /// `patternProperties`: a regular expression over keys and the schema of their values.
        var patterns: [(pattern: String, schema: SchemaLocation)] = []
        var additional: SchemaLocation?
    }
    var objectClauses: [ObjectClause] = []
    /// `propertyNames`: schemas every key (as a string) must satisfy.
    var propertyNames: [SchemaLocation] = []
    var required: [String] = []
    var dependentRequired: [(key: String, needs: [String])] = []
    var minProperties = 0
    var maxProperties: Int?

    struct Group: Sendable {
        var branches: [SchemaLocation]
        var exclusive: Bool
        var pointer: String
        /// Per branch, more schemas it is taken with (`then` beside `if`, `else` beside its complement).
        var extras: [[SchemaLocation]]? = nil
    }
    var groups: [Group] = []
    var nots: [SchemaLocation] = []

    /// Keywords this compiler cannot enforce, which matter only if a value of `types` is generated.
    var unsupported: [(types: TypeSet, keyword: String, pointer: String)] = []

    /// Whether this view constrains nothing but `types`.
    var isTypeOnly: Bool {
        values == nil && !unsatisfiable && minLength == 0 && maxLength == nil && patterns.isEmpty && formats.isEmpty
            && excludedStrings.isEmpty
            && lower == nil && upper == nil && multipleOf == nil && arrayClauses.isEmpty && minItems == 0 && maxItems == nil
            && uniqueItems == nil && objectClauses.isEmpty && propertyNames.isEmpty && required.isEmpty && dependentRequired.isEmpty
            && minProperties == 0 && maxProperties == nil && groups.isEmpty && nots.isEmpty && unsupported.isEmpty
    }

    mutating func intersectValues(_ new: [JSONNode]) {
        var keys = Set<String>()
        var unique: [JSONNode] = []
        for v in new where keys.insert(v.semanticKey).inserted { unique.append(v) }
        if let old = values {
            values = old.filter { keys.contains($0.semanticKey) }
        } else {
            values = unique
        }
    }

    mutating func tightenLower(_ b: NumberBound) {
        guard let old = lower else { return lower = b }
        if old.value < b.value || (old.value == b.value && b.exclusive) { lower = b }
    }

    mutating func tightenUpper(_ b: NumberBound) {
        guard let old = upper else { return upper = b }
        if b.value < old.value || (old.value == b.value && b.exclusive) { upper = b }
    }
}
