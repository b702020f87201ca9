/// One schema's compilation: the grammar under construction, the document (for `$ref`), and the
/// rules made so far for each conjunction of subschemas (so shared and recursive subschemas
/// become shared and recursive rules).
struct SchemaCompilation {
    typealias Element = Grammar.Element

    var kit: GrammarKit
    let root: SchemaLocation
    let limits: GrammarLimits
    /// Draft-04/06/07: `$ref` siblings are ignored.
    let legacyRef: Bool
    let maxOrderFreeProperties: Int
    let identifiers: Identifiers
    /// Rules by the pointers of the schemas they conjoin (a list, not a joined string: a key may
    /// hold any character, NUL included).
    var memo: [[String]: Element] = [:]
    var depth = 0
    /// Leaves made while distributing `anyOf`/`oneOf` over their siblings, for the current schema.
    var branchBudget = 0

    static let annotations: Set<String> = [
        "title", "description", "examples", "default", "$schema", "$id", "$comment", "deprecated", "readOnly",
        "writeOnly", "contentMediaType", "contentEncoding", "contentSchema", "$anchor", "$dynamicAnchor", "$defs",
        "definitions", "$vocabulary",
    ]

    init(root: JSONNode, limits: GrammarLimits, maxIndent: Int, maxOrderFreeProperties: Int) {
        self.kit = GrammarKit(limits: limits, maxIndent: maxIndent)
        self.root = SchemaLocation(node: root, pointer: "")
        self.limits = limits
        self.maxOrderFreeProperties = maxOrderFreeProperties
        let schemaURI = root["$schema"]?.stringValue ?? ""
        let legacy = ["draft-03", "draft-04", "draft-05", "draft-06", "draft-07"].contains { schemaURI.contains($0) }
        self.legacyRef = legacy
        self.identifiers = Self.identifiers(of: SchemaLocation(node: root, pointer: ""), legacyRef: legacy)
    }

    static func invalid(_ message: String, _ pointer: String, _ keyword: String? = nil) -> GrammarError {
        GrammarError(.invalidSchema, message, location: pointer, keyword: keyword)
    }

    static func unsupported(_ keyword: String, _ pointer: String, _ detail: String = "") -> GrammarError {
        GrammarError(
            .unsupported, "the keyword '\(keyword)' is not supported" + (detail.isEmpty ? "" : ": " + detail),
            location: pointer, keyword: keyword)
    }

    // MARK: - Compiling a conjunction

    /// The element matching the JSON text of a value valid against every schema in `list` (an empty
    /// list: any value).
    mutating func compile(_ list: [SchemaLocation]) throws(GrammarError) -> Element {
        var list = list
        // A schema that is only a `$ref` (and annotations) is its target: follow such chains so a
        // recursive schema becomes a recursive rule.
        if list.count == 1 {
            var hops = 0
            while let target = try pureReferenceTarget(list[0]) {
                hops += 1
                guard hops <= 64 else {
                    throw GrammarError(.badReference, "a cycle of $ref", location: list[0].pointer, keyword: "$ref")
                }
                list[0] = target
            }
        }
        let key = list.map(\.pointer)
        if let e = memo[key] { return e }
        if list.isEmpty { return try kit.anyValue() }
        if list.count == 1, case .bool(let b) = list[0].node {
            return b ? try kit.anyValue() : try kit.never()
        }
        depth += 1
        defer { depth -= 1 }
        guard depth <= limits.maxNesting else {
            throw GrammarError(
                .tooLarge, "the schema nests deeper than \(limits.maxNesting)", location: list.first?.pointer)
        }
        let rule = try kit.builder.declare("s")
        memo[key] = .rule(rule)
        var view = SchemaView()
        var refStack: [String] = []
        for location in list { try absorb(location, into: &view, refStack: &refStack) }
        let savedBudget = branchBudget
        branchBudget = 0
        defer { branchBudget = savedBudget }
        let body = try emit(view, pointer: list.first?.pointer ?? "")
        try kit.builder.define(rule, [[body]])
        return .rule(rule)
    }

    /// The target when `location` is a schema holding only `$ref` (and annotations).
    func pureReferenceTarget(_ location: SchemaLocation) throws(GrammarError) -> SchemaLocation? {
        guard let members = location.node.members, let ref = location.node["$ref"]?.stringValue else { return nil }
        if !legacyRef {
            for m in members where m.key != "$ref" && !Self.annotations.contains(m.key) { return nil }
        }
        return try resolve(ref, from: location)
    }

    // MARK: - Merging keywords

    mutating func absorb(
        _ location: SchemaLocation, into view: inout SchemaView, refStack: inout [String]
    ) throws(GrammarError) {
        let p = location.pointer
        switch location.node {
        case .bool(let b):
            if !b { view.unsatisfiable = true }
            return
        case .object: break
        default: throw Self.invalid("a schema must be an object or a boolean", p)
        }
        guard refStack.count < 64 else { throw GrammarError(.tooLarge, "too many nested $ref merges", location: p) }
        let node = location.node
        if let refNode = node["$ref"] {
            guard let ref = refNode.stringValue else { throw Self.invalid("$ref must be a string", p, "$ref") }
            let target = try resolve(ref, from: location)
            guard !refStack.contains(target.pointer) else {
                throw Self.unsupported("$ref", p + "/$ref", "a schema that includes itself through $ref")
            }
            refStack.append(target.pointer)
            try absorb(target, into: &view, refStack: &refStack)
            refStack.removeLast()
            if legacyRef { return }
        }
        let members = node.members ?? []
        let hasIf = node["if"] != nil
        let arrayItems = node["items"]?.elements != nil
        for m in members {
            let key = m.key
            let kp = p + "/" + SchemaLocation.escape(key)
            let value = m.value
            if Self.annotations.contains(key) || key == "$ref" { continue }
            switch key {
            case "type":
                var t = TypeSet()
                let names: [JSONNode] = value.elements ?? [value]
                for n in names {
                    guard let s = n.stringValue, let one = TypeSet(name: s) else {
                        throw Self.invalid("an unknown type", kp, key)
                    }
                    t.formUnion(one)
                }
                view.types.formIntersection(t)
            case "enum":
                guard let values = value.elements else { throw Self.invalid("enum must be an array", kp, key) }
                view.intersectValues(values)
            case "const":
                view.intersectValues([value])
            case "allOf", "anyOf", "oneOf":
                guard let branches = value.elements, !branches.isEmpty else {
                    throw Self.invalid("\(key) must be a non-empty array", kp, key)
                }
                let locations = branches.indices.map {
                    SchemaLocation(node: branches[$0], pointer: kp + "/\($0)")
                }
                if key == "allOf" {
                    for l in locations { try absorb(l, into: &view, refStack: &refStack) }
                } else {
                    view.groups.append(.init(branches: locations, exclusive: key == "oneOf", pointer: kp))
                }
            case "not":
                // A not of types, enum or const is applied as such (it can take values out); another
                // is its complement written as a schema (SchemaNegation), where there is one.
                let simple: Bool
                switch value {
                case .bool: simple = true
                case .object(let members):
                    simple = members.allSatisfy { ["type", "enum", "const"].contains($0.key) || Self.annotations.contains($0.key) }
                default: simple = false
                }
                if !simple, let complement = SchemaNegation.complement(value) {
                    try absorb(.synthesized(SchemaNegation.union(complement), below: kp, "complement"), into: &view, refStack: &refStack)
                } else {
                    view.nots.append(SchemaLocation(node: value, pointer: kp))
                }
            case "if":
                // Without `then` and `else`, `if` asserts nothing. With them: (if ∧ then) ∨ (¬if ∧ else),
                // where ¬if is written as a schema (SchemaNegation).
                guard node["then"] != nil || node["else"] != nil else { continue }
                guard let complement = SchemaNegation.complement(value) else {
                    throw Self.unsupported(
                        key, kp,
                        "an if whose complement a grammar cannot enforce (it may use types, bounds, lengths, required, properties, const, enum, not, allOf, anyOf)")
                }
                let thenSchema = location.child("then") ?? SchemaLocation.synthesized(.bool(true), below: kp, "then")
                let elseSchema = location.child("else") ?? SchemaLocation.synthesized(.bool(true), below: kp, "else")
                let otherwise = SchemaLocation.synthesized(SchemaNegation.union(complement), below: kp, "complement")
                view.groups.append(
                    .init(
                        branches: [SchemaLocation(node: value, pointer: kp), otherwise], exclusive: false, pointer: kp,
                        extras: [[thenSchema], [elseSchema]]))
            case "then", "else":
                if hasIf { continue }  // reported at "if"
            // MARK: strings
            case "minLength":
                view.minLength = max(view.minLength, try count(value, kp, key))
            case "maxLength":
                let n = try count(value, kp, key)
                view.maxLength = min(view.maxLength ?? n, n)
            case "pattern":
                guard let s = value.stringValue else { throw Self.invalid("pattern must be a string", kp, key) }
                if !view.patterns.contains(where: { $0.pattern == s }) { view.patterns.append((s, kp)) }
            case "format":
                guard let s = value.stringValue else { throw Self.invalid("format must be a string", kp, key) }
                if !view.formats.contains(where: { $0.format == s }) { view.formats.append((s, kp)) }
            // MARK: numbers
            case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
                if case .bool(let exclusive) = value {
                    // Draft-04: a flag on `minimum`/`maximum`.
                    guard exclusive else { continue }
                    let base = key == "exclusiveMinimum" ? "minimum" : "maximum"
                    guard let bound = node[base]?.numberValue else { continue }
                    let b = NumberBound(value: bound.decimal, exclusive: true)
                    if base == "minimum" { view.tightenLower(b) } else { view.tightenUpper(b) }
                    continue
                }
                guard let n = value.numberValue else { throw Self.invalid("\(key) must be a number", kp, key) }
                let draft4Exclusive: Bool
                if key == "minimum" || key == "maximum" {
                    if case .bool(true) = node[key == "minimum" ? "exclusiveMinimum" : "exclusiveMaximum"] {
                        continue  // applied with the flag
                    }
                    draft4Exclusive = false
                } else {
                    draft4Exclusive = true
                }
                let b = NumberBound(value: n.decimal, exclusive: draft4Exclusive)
                if key == "minimum" || key == "exclusiveMinimum" { view.tightenLower(b) } else { view.tightenUpper(b) }
            case "multipleOf":
                guard let n = value.numberValue, !n.decimal.negative, !n.decimal.isZero else {
                    throw Self.invalid("multipleOf must be a positive number", kp, key)
                }
                guard let divisor = Divisor(n.decimal), let combined = view.multipleOf.map({ $0.combined(with: divisor) }) ?? divisor else {
                    view.unsupported.append((.number, key, kp))
                    continue
                }
                view.multipleOf = combined
            // MARK: arrays
            case "items":
                if let array = value.elements {
                    var clause = SchemaView.ArrayClause()
                    clause.prefix = array.indices.map { SchemaLocation(node: array[$0], pointer: kp + "/\($0)") }
                    clause.items = location.child("additionalItems")
                    view.arrayClauses.append(clause)
                } else if node["prefixItems"] == nil {
                    view.arrayClauses.append(.init(prefix: [], items: SchemaLocation(node: value, pointer: kp)))
                }
            case "prefixItems":
                guard let array = value.elements else { throw Self.invalid("prefixItems must be an array", kp, key) }
                var clause = SchemaView.ArrayClause()
                clause.prefix = array.indices.map { SchemaLocation(node: array[$0], pointer: kp + "/\($0)") }
                clause.items = location.child("items")
                view.arrayClauses.append(clause)
            case "additionalItems":
                if arrayItems { continue }  // applied with `items`; alone it asserts nothing
            case "minItems":
                view.minItems = max(view.minItems, try count(value, kp, key))
            case "maxItems":
                let n = try count(value, kp, key)
                view.maxItems = min(view.maxItems ?? n, n)
            case "uniqueItems":
                if case .bool(true) = value { view.uniqueItems = kp }
            case "contains", "unevaluatedItems":
                view.unsupported.append((.array, key, kp))
            case "minContains", "maxContains":
                if node["contains"] != nil { continue }  // reported at "contains"
            // MARK: objects
            case "properties", "patternProperties":
                // One clause per schema: its properties, patterns and additionalProperties together.
                if key == "patternProperties", node["properties"] != nil { continue }
                var clause = SchemaView.ObjectClause()
                if let props = node["properties"] {
                    guard let members = props.members else {
                        throw Self.invalid("properties must be an object", location.pointer + "/properties", "properties")
                    }
                    clause.properties = members.map {
                        (key: $0.key, schema: SchemaLocation(node: $0.value, pointer: location.pointer + "/properties/" + SchemaLocation.escape($0.key)))
                    }
                }
                if let patterns = node["patternProperties"] {
                    let pp = location.pointer + "/patternProperties"
                    guard let members = patterns.members else {
                        throw Self.invalid("patternProperties must be an object", pp, "patternProperties")
                    }
                    clause.patterns = members.map {
                        (pattern: $0.key, schema: SchemaLocation(node: $0.value, pointer: pp + "/" + SchemaLocation.escape($0.key)))
                    }
                }
                clause.additional = location.child("additionalProperties")
                view.objectClauses.append(clause)
            case "additionalProperties":
                if node["properties"] == nil && node["patternProperties"] == nil {
                    view.objectClauses.append(.init(properties: [], additional: SchemaLocation(node: value, pointer: kp)))
                }
            case "propertyNames":
                if case .bool(true) = value { continue }
                if let props = value.members, props.isEmpty { continue }
                view.propertyNames.append(SchemaLocation(node: value, pointer: kp))
            case "required":
                guard let names = value.elements else { throw Self.invalid("required must be an array", kp, key) }
                for n in names {
                    guard let s = n.stringValue else { throw Self.invalid("required must list strings", kp, key) }
                    view.required.append(s)  // duplicates are harmless; sets are made where it matters
                }
            case "dependentRequired", "dependencies":
                guard let deps = value.members else { throw Self.invalid("\(key) must be an object", kp, key) }
                for d in deps {
                    if let names = d.value.elements {
                        let needs = names.compactMap(\.stringValue)
                        guard needs.count == names.count else { throw Self.invalid("\(key) must list strings", kp, key) }
                        view.dependentRequired.append((d.key, needs))
                    } else if key == "dependencies" {
                        if case .bool(true) = d.value { continue }
                        view.unsupported.append((.object, key, kp))
                    } else {
                        throw Self.invalid("dependentRequired must map to arrays", kp, key)
                    }
                }
            case "minProperties":
                view.minProperties = max(view.minProperties, try count(value, kp, key))
            case "maxProperties":
                let n = try count(value, kp, key)
                view.maxProperties = min(view.maxProperties ?? n, n)
            case "dependentSchemas", "unevaluatedProperties":
                view.unsupported.append((.object, key, kp))
            default:
                throw Self.unsupported(key, kp)
            }
        }
    }

    /// A non-negative integer keyword value (`2.0` counts).
    func count(_ value: JSONNode, _ pointer: String, _ keyword: String) throws(GrammarError) -> Int {
        guard let n = value.numberValue, n.isInteger, !n.decimal.negative else {
            throw Self.invalid("\(keyword) must be a non-negative integer", pointer, keyword)
        }
        return n.int ?? Int.max / 4
    }
}
