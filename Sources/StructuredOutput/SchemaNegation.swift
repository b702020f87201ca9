/// The complement of a schema written as a union of schemas the compiler enforces exactly, where
/// such a union exists: how a `oneOf` whose branches may overlap is compiled ("exactly one" is
/// each branch together with the complements of the others).
///
/// A schema is the conjunction of its keywords, and a keyword that applies to one type holds for
/// every value of another type, so ¬(K₁ ∧ K₂ …) = ¬K₁ ∨ ¬K₂ …, where ¬K is "of K's type, and failing
/// K": ¬`minimum: m` is `{"type": "number", "exclusiveMaximum": m}`, ¬`required: [k]` is
/// `{"type": "object", "properties": {k: false}}`, ¬`properties: {k: S}` is `k` present with a value
/// in ¬S, ¬`type` the other types, ¬`not: S` is S, ¬`anyOf` the conjunction of the complements,
/// ¬`allOf` their union, ¬`const`/`enum` a `not` of them. Anything else (`$ref`, `pattern`, `items`,
/// `additionalProperties`…) has no such complement here: nil.
enum SchemaNegation {
    /// The deepest nesting followed.
    static let maxDepth = 32

    /// ¬`schema` as alternatives (an empty list: no value), or nil when it cannot be written.
    ///
    /// The alternatives are compiled where the schema was not (below a made-up pointer), so a
    /// schema that sets a base URI or an anchor inside it (`$id`, `$anchor`, `$dynamicAnchor`, which
    /// references resolve through by pointer) has no complement here.
    static func complement(_ schema: JSONNode, depth: Int = 0) -> [JSONNode]? {
        guard depth <= maxDepth else { return nil }
        if depth == 0, setsScope(schema) { return nil }
        switch schema {
        case .bool(let b): return b ? [] : [.bool(true)]
        case .object(let members):
            var out: [JSONNode] = []
            for member in members where !SchemaCompilation.annotations.contains(member.key) {
                guard let alternatives = keyword(member.key, member.value, in: schema, depth: depth) else { return nil }
                out += alternatives
            }
            return out
        default: return nil
        }
    }

    /// Whether `node` or anything inside it has a `$id`, `$anchor` or `$dynamicAnchor` member
    /// (conservatively, also inside `enum`/`const` values).
    static func setsScope(_ node: JSONNode) -> Bool {
        var stack = [node]
        while let n = stack.popLast() {
            switch n {
            case .object(let members):
                for m in members {
                    if m.key == "$id" || m.key == "$anchor" || m.key == "$dynamicAnchor" || m.key == "id" { return true }
                    stack.append(m.value)
                }
            case .array(let elements): stack += elements
            default: continue
            }
        }
        return false
    }

    /// `alternatives` as one schema: `false` for none, the schema itself for one, else `anyOf`.
    static func union(_ alternatives: [JSONNode]) -> JSONNode {
        switch alternatives.count {
        case 0: return .bool(false)
        case 1: return alternatives[0]
        default: return object(["anyOf": .array(alternatives)])
        }
    }

    private static func object(_ members: KeyValuePairs<String, JSONNode>) -> JSONNode {
        .object(members.map { JSONNode.Member(key: $0.key, value: $0.value) })
    }

    private static func types(_ names: [String]) -> JSONNode { .array(names.map { .string($0) }) }

    /// A non-negative integer count (`2`, `2.0`).
    private static func count(_ node: JSONNode) -> Int? {
        guard let lexeme = node.numberValue?.lexeme else { return nil }
        if let n = Int(lexeme), n >= 0 { return n }
        guard let d = Double(lexeme), d >= 0, d < 1e9, d == d.rounded() else { return nil }
        return Int(d)
    }

    private static func keyword(_ key: String, _ value: JSONNode, in schema: JSONNode, depth: Int) -> [JSONNode]? {
        switch key {
        case "type":
            let names = value.stringValue.map { [$0] } ?? value.elements?.compactMap(\.stringValue) ?? []
            var set = TypeSet()
            for name in names {
                guard let t = TypeSet(name: name) else { return nil }
                set.formUnion(t)
            }
            var out: [JSONNode] = []
            let others = [("null", TypeSet.null), ("boolean", .boolean), ("string", .string), ("array", .array), ("object", .object)]
                .filter { !set.contains($0.1) }.map(\.0)
            if set.isDisjoint(with: .number) {
                out.append(object(["type": types(others + ["number"])]))
            } else {
                if !others.isEmpty { out.append(object(["type": types(others)])) }
                // Integers allowed, other numbers not: the numbers with a fraction.
                if !set.contains(.fraction) { out.append(object(["type": .string("number"), "not": object(["type": .string("integer")])])) }
            }
            return out
        case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
            // Draft-04's boolean exclusiveMinimum/Maximum change what minimum/maximum mean.
            guard value.numberValue != nil else { return nil }
            if key == "minimum", case .bool? = schema["exclusiveMinimum"] { return nil }
            if key == "maximum", case .bool? = schema["exclusiveMaximum"] { return nil }
            let opposite = ["minimum": "exclusiveMaximum", "maximum": "exclusiveMinimum", "exclusiveMinimum": "maximum", "exclusiveMaximum": "minimum"][key]!
            return [.object([.init(key: "type", value: .string("number")), .init(key: opposite, value: value)])]
        case "minLength", "minItems", "minProperties":
            guard let n = count(value) else { return nil }
            if n == 0 { return [] }
            let (type, bound) = [
                "minLength": ("string", "maxLength"), "minItems": ("array", "maxItems"), "minProperties": ("object", "maxProperties"),
            ][key]!
            return [.object([.init(key: "type", value: .string(type)), .init(key: bound, value: .number(JSONNumber(n - 1)))])]
        case "maxLength", "maxItems", "maxProperties":
            guard let n = count(value), n < Int.max / 2 else { return nil }
            let (type, bound) = [
                "maxLength": ("string", "minLength"), "maxItems": ("array", "minItems"), "maxProperties": ("object", "minProperties"),
            ][key]!
            return [.object([.init(key: "type", value: .string(type)), .init(key: bound, value: .number(JSONNumber(n + 1)))])]
        case "required":
            guard let names = value.elements else { return nil }
            var out: [JSONNode] = []
            for name in names {
                guard let k = name.stringValue else { return nil }
                out.append(object(["type": .string("object"), "properties": .object([.init(key: k, value: .bool(false))])]))
            }
            return out
        case "properties":
            // additionalProperties and patternProperties depend on which keys properties names.
            guard let members = value.members, schema["additionalProperties"] == nil, schema["patternProperties"] == nil else {
                return nil
            }
            var out: [JSONNode] = []
            for member in members {
                guard let inner = complement(member.value, depth: depth + 1) else { return nil }
                for alternative in inner {
                    out.append(
                        object([
                            "type": .string("object"), "required": .array([.string(member.key)]),
                            "properties": .object([.init(key: member.key, value: alternative)]),
                        ]))
                }
            }
            return out
        case "not":
            return [value]
        case "const", "enum":
            // Enforced where the compiler can take the values out (beside an enum, or of a type
            // the value does not allow); refused there otherwise.
            return [object(["not": object([key: value])])]
        case "allOf":
            guard let branches = value.elements else { return nil }
            var out: [JSONNode] = []
            for b in branches {
                guard let inner = complement(b, depth: depth + 1) else { return nil }
                out += inner
            }
            return out
        case "anyOf":
            guard let branches = value.elements, !branches.isEmpty else { return nil }
            var all: [JSONNode] = []
            for b in branches {
                guard let inner = complement(b, depth: depth + 1) else { return nil }
                if inner.isEmpty { return [] }  // one branch accepts everything
                all.append(union(inner))
            }
            return [object(["allOf": .array(all)])]
        default:
            return nil
        }
    }
}
