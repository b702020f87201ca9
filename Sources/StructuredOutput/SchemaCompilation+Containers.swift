// MARK: - Arrays and objects

extension SchemaCompilation {
    /// An array under `prefixItems`/`items` (draft-07: array `items` + `additionalItems`),
    /// `minItems`/`maxItems`: a chain of rules by count, ending in a loop when unbounded.
    mutating func emitArray(_ view: SchemaView, pointer: String) throws(GrammarError) -> Element {
        let minItems = view.minItems
        var maxItems = view.maxItems
        if let m = maxItems, m < minItems { return try kit.never() }
        let prefixCount = view.arrayClauses.map(\.prefix.count).max() ?? 0
        func schemas(_ i: Int) -> [SchemaLocation] {
            view.arrayClauses.compactMap { c in i < c.prefix.count ? c.prefix[i] : c.items }
        }
        // uniqueItems: each item is checked against the earlier ones when it closes (ValueCheck).
        // Items from a finite set (enum, const, booleans, null, bounded integers) cannot outnumber
        // it: more required is unsatisfiable, and a small set also bounds the array, so no item is
        // opened that no value can close. (A large set is left to the matcher's way-out search: as a
        // bound it would unroll a rule per count, each a new position for the mask cache.)
        let unique = view.uniqueItems != nil && (maxItems ?? 2) > 1
        if unique, let k = try finiteDomainSize(schemas(prefixCount)) {
            let bound = prefixCount + k
            if minItems > bound { return try kit.never() }
            if k <= Self.maxBoundingDomain { maxItems = min(maxItems ?? bound, bound) }
        }
        guard minItems <= limits.maxRepetition, (maxItems ?? 0) <= limits.maxRepetition else {
            throw GrammarError(
                .tooLarge, "an array length bound above \(limits.maxRepetition)", location: pointer, keyword: "maxItems")
        }
        var elements: [Element] = []
        for i in 0..<prefixCount { elements.append(try compile(schemas(i))) }
        var tail = try compile(schemas(prefixCount))
        if unique {
            // A checked rule per item schema: the check is made where its reference returns.
            for i in elements.indices { elements[i] = try checkedItem(elements[i]) }
            tail = try checkedItem(tail)
        }
        func element(_ i: Int) -> Element { i < prefixCount ? elements[i] : tail }

        let ws = try kit.ws()
        let open = GrammarKit.byte("[")
        let close = GrammarKit.byte("]")
        let comma = GrammarKit.byte(",")
        var last = maxItems ?? max(prefixCount, minItems, 1)
        if maxItems == nil { last = max(last, 1) }
        var alternatives: [[Element]] = []
        if minItems == 0 { alternatives.append([open, ws, close]) }
        if last >= 1 {
            // next[c]: what may follow after c elements.
            var next: [Int] = [0]
            for _ in 1...last { next.append(try kit.builder.declare("items")) }
            for c in 1...last {
                var rule: [[Element]] = []
                if c >= minItems { rule.append([ws, close]) }
                if maxItems == nil, c == last {
                    rule.append([ws, comma, ws, tail, .rule(next[c])])
                } else if c < last {
                    rule.append([ws, comma, ws, element(c), .rule(next[c + 1])])
                }
                try kit.builder.define(next[c], rule)
            }
            alternatives.append([open, ws, element(0), .rule(next[1])])
        }
        guard unique else { return try kit.builder.group("array", alternatives) }
        // "[" then the checked frame (everything after the bracket), so items find the array's start.
        let frame = try kit.builder.declare("unique-items")
        try kit.builder.define(frame, alternatives.map { Array($0.dropFirst()) })
        kit.builder.check(frame, .uniqueArray)
        return try kit.builder.add("array", [[open, .rule(frame)]])
    }

    /// The largest finite item set that also bounds a unique array's length.
    static let maxBoundingDomain = 16

    /// `element` behind a rule of its own whose references are checked unique items.
    private mutating func checkedItem(_ element: Element) throws(GrammarError) -> Element {
        let r = try kit.builder.declare("unique-item")
        try kit.builder.define(r, [[element]])
        kit.builder.check(r, .uniqueItem)
        return .rule(r)
    }

    /// How many values at most the schemas (a conjunction) admit, when that is known to be finite:
    /// `enum`/`const`, `false`, booleans and null, integers between two whole bounds (up to
    /// `limits.maxRepetition` of them); nil otherwise.
    private mutating func finiteDomainSize(_ list: [SchemaLocation]) throws(GrammarError) -> Int? {
        var view = SchemaView()
        var refStack: [String] = []
        for location in list { try absorb(location, into: &view, refStack: &refStack) }
        if view.unsatisfiable { return 0 }
        if let values = view.values { return values.count }
        if view.types == .integer, let lower = view.lower, let upper = view.upper,
            let low = lower.value.int, let high = upper.value.int
        {
            let first = lower.exclusive ? low + 1 : low
            let last = upper.exclusive ? high - 1 : high
            if last < first { return 0 }
            let (count, overflow) = (last - first).addingReportingOverflow(1)
            return !overflow && count <= limits.maxRepetition ? count : nil
        }
        guard !view.types.isEmpty, view.types.isSubset(of: [.null, .boolean]) else { return nil }
        return (view.types.contains(.null) ? 1 : 0) + (view.types.contains(.boolean) ? 2 : 0)
    }

    /// An object under `properties`/`additionalProperties`/`required`/`dependentRequired`/
    /// `minProperties`/`maxProperties`.
    mutating func emitObject(_ view: SchemaView, pointer: String) throws(GrammarError) -> Element {
        var names: [String] = []
        var seen = Set<String>()  // scalar keys: JSON Schema compares keys code point by code point
        func add(_ name: String) {
            if seen.insert(name.scalarKey).inserted { names.append(name) }
        }
        for clause in view.objectClauses { for p in clause.properties { add(p.key) } }
        for r in view.required { add(r) }
        for d in view.dependentRequired {
            add(d.key)
            for n in d.needs { add(n) }
        }
        // Per clause, its properties by key (the first of a duplicated key, as `JSONNode[key]`).
        let byKey: [[String: SchemaLocation]] = view.objectClauses.map { c in
            Dictionary(c.properties.map { ($0.key.scalarKey, $0.schema) }, uniquingKeysWith: { first, _ in first })
        }
        // propertyNames: a named key it refuses cannot appear (an object requiring it has no valid value).
        var required = Set(view.required.map(\.scalarKey))
        if !view.propertyNames.isEmpty {
            let refused = try keysRefused(names, by: view.propertyNames)
            if !refused.isEmpty {
                if refused.contains(where: { required.contains($0.scalarKey) }) { return try kit.never() }
                names.removeAll { refused.contains($0) }
                required.subtract(refused.map(\.scalarKey))
            }
        }
        var named: [(key: String, value: Element)] = []
        for name in names {
            let list = view.objectClauses.indices.compactMap { i in
                byKey[i][name.scalarKey] ?? view.objectClauses[i].additional
            }
            named.append((name, try compile(list)))
        }
        let additionalList = view.objectClauses.compactMap(\.additional)
        var additional: Element?
        var extraKey: Element?
        if view.objectClauses.contains(where: { !$0.patterns.isEmpty }) {
            if let first = view.propertyNames.first {
                throw Self.unsupported("propertyNames", first.pointer, "enforced beside properties and additionalProperties, not patternProperties")
            }
            (extraKey, additional) = try patternMembers(view, names: names)
        } else if !additionalList.contains(where: Self.isFalse) {
            additional = try compile(additionalList)
            if !view.propertyNames.isEmpty {
                // Other keys: strings the propertyNames schemas accept, other than the named keys.
                let others = JSONNode.object([
                    .init(key: "type", value: .string("string")),
                    .init(key: "not", value: .object([.init(key: "enum", value: .array(names.map { .string($0) }))])),
                ])
                extraKey = try compile(view.propertyNames + [.synthesized(others, below: pointer, "propertyNames")])
            }
        }
        return try objectRule(
            named: named, required: required, additional: additional, extraKey: extraKey,
            dependentRequired: view.dependentRequired, minProperties: view.minProperties,
            maxProperties: view.maxProperties, pointer: pointer)
    }

    /// The keys of `names` that the `propertyNames` schemas refuse: each key's JSON string matched
    /// against the grammar of the strings they all accept (compiled apart, over the same document, so
    /// their references resolve as in place).
    func keysRefused(_ names: [String], by schemas: [SchemaLocation]) throws(GrammarError) -> [String] {
        guard !names.isEmpty else { return [] }
        var checker = SchemaCompilation(
            root: root.node, limits: limits, maxIndent: kit.maxIndent, maxOrderFreeProperties: maxOrderFreeProperties)
        let string = JSONNode.object([.init(key: "type", value: .string("string"))])
        let element = try checker.compile(schemas + [.synthesized(string, below: schemas[0].pointer, "key")])
        guard case .rule(let r) = try checker.kit.builder.add("root", [[element]]) else { return [] }
        let grammar: Grammar
        do {
            grammar = try checker.kit.builder.build(root: r)
        } catch where error.code == .unsatisfiable {
            return names  // no string is a valid key
        }
        return names.filter { !GrammarMatcher.matches(grammar, Array(JSONNode.string($0).serialized().utf8)) }
    }

    static func isFalse(_ location: SchemaLocation?) -> Bool {
        if case .bool(false)? = location?.node { return true }
        return false
    }

    /// `patternProperties`, where a grammar enforces it exactly: one pattern (in one or more
    /// clauses), `additionalProperties: false` beside it, and no named property whose key the pattern
    /// matches. Then the other keys are exactly the keys the pattern matches (canonically spelled),
    /// and their values satisfy the pattern's schemas and what the other clauses say of keys they do
    /// not name. Returns the key and value elements of those members.
    mutating func patternMembers(_ view: SchemaView, names: [String]) throws(GrammarError) -> (key: Element, value: Element) {
        let entries = view.objectClauses.flatMap(\.patterns)
        guard let (pattern, first) = entries.first else { throw GrammarError(.unsupported, "internal: no pattern") }
        let pointer = first.pointer
        if let other = entries.first(where: { $0.pattern != pattern }) {
            throw Self.unsupported("patternProperties", other.schema.pointer, "more than one pattern for keys")
        }
        for clause in view.objectClauses where !clause.patterns.isEmpty && !Self.isFalse(clause.additional) {
            throw Self.unsupported(
                "patternProperties", pointer, "enforced only beside additionalProperties: false (other keys would need the pattern's complement)")
        }
        let compiler = RegexCompiler(limits: limits)
        let key: Element
        do throws(GrammarError) {
            let keys = try compiler.grammar(for: pattern)
            if let name = names.first(where: { GrammarMatcher.matches(keys, Array($0.utf8)) }) {
                throw Self.unsupported(
                    "patternProperties", pointer, "the named property \"\(name)\" also matches the pattern")
            }
            let content = try compiler.content(pattern, kit: &kit, encoding: .jsonString)
            let quote = GrammarKit.byte("\"")
            key = try kit.builder.group("pkey", [[quote, content.element, quote]])
        } catch {
            var e = error
            if e.location == nil { e.location = pointer }
            if e.keyword == nil || e.keyword == "pattern" { e.keyword = "patternProperties" }
            throw e
        }
        var values = entries.map(\.schema)
        for clause in view.objectClauses where clause.patterns.isEmpty {
            if let a = clause.additional { values.append(a) }
        }
        return (key, try compile(values))
    }

    /// The rules of an object with named members (each at most once, in any order when there are
    /// at most `maxOrderFreeProperties` of them, else in the given order), and other keys (distinct
    /// from the named ones, or `extraKey`'s) with values `additional` when not nil.
    /// `required` holds scalar keys (`String.scalarKey`).
    mutating func objectRule(
        named: [(key: String, value: Element)], required: Set<String>, additional: Element?, extraKey: Element? = nil,
        dependentRequired: [(key: String, needs: [String])], minProperties: Int, maxProperties: Int?,
        pointer: String
    ) throws(GrammarError) -> Element {
        let ws = try kit.ws()
        let colon = GrammarKit.byte(":")
        let comma = GrammarKit.byte(",")
        let open = GrammarKit.byte("{")
        let close = GrammarKit.byte("}")
        let n = named.count
        let requiredIndices = named.indices.filter { required.contains(named[$0].key.scalarKey) }
        if let maxProperties, maxProperties < requiredIndices.count { return try kit.never() }
        var members: [Element] = []
        for m in named {
            members.append(try kit.builder.add("prop", [[try kit.builder.group("key", [try kit.stringLiteral(m.key)]), ws, colon, ws, m.value]]))
        }
        var extra: Element?
        if let additional {
            let key: Element
            if let extraKey { key = extraKey } else { key = try kit.string(excluding: named.map(\.key)) }
            extra = try kit.builder.add("extra", [[key, ws, colon, ws, additional]])
        }
        let countsMatter = minProperties > requiredIndices.count || maxProperties.map { $0 < n || extra != nil } ?? false
        if extra != nil, countsMatter {
            throw Self.unsupported(
                maxProperties != nil ? "maxProperties" : "minProperties", pointer,
                "property counts are enforced only when additionalProperties is false")
        }
        var alternatives: [[Element]] = []
        if n <= maxOrderFreeProperties {
            // Any order: a state per set of named keys used so far.
            let index = Dictionary(named.enumerated().map { ($1.key.scalarKey, $0) }, uniquingKeysWith: { first, _ in first })
            let requiredMask = requiredIndices.reduce(0) { $0 | (1 << $1) }
            let dependencies: [(Int, Int)] = dependentRequired.compactMap { d in
                guard let k = index[d.key.scalarKey] else { return nil }
                return (1 << k, d.needs.reduce(0) { $0 | (index[$1.scalarKey].map { 1 << $0 } ?? 0) })
            }
            func accepts(_ s: Int) -> Bool {
                guard s & requiredMask == requiredMask else { return false }
                for (trigger, needs) in dependencies where s & trigger != 0 && s & needs != needs { return false }
                let count = s.nonzeroBitCount
                return count >= minProperties && count <= (maxProperties ?? Int.max)
            }
            var after: [Int] = []
            var member: [Int] = []
            for _ in 0..<(1 << n) {
                after.append(try kit.builder.declare("after"))
                member.append(try kit.builder.declare("member"))
            }
            for s in 0..<(1 << n) {
                var m: [[Element]] = []
                for i in 0..<n where s & (1 << i) == 0 { m.append([members[i], .rule(after[s | (1 << i)])]) }
                if let extra { m.append([extra, .rule(after[s])]) }
                try kit.builder.define(member[s], m)
                var a: [[Element]] = []
                if accepts(s) { a.append([ws, close]) }
                if !m.isEmpty { a.append([ws, comma, ws, .rule(member[s])]) }
                try kit.builder.define(after[s], a)
            }
            if accepts(0) { alternatives.append([open, ws, close]) }
            alternatives.append([open, ws, .rule(member[0])])
        } else {
            // Declared order only: slot p may emit key p or skip it (when not required).
            if !dependentRequired.isEmpty {
                throw Self.unsupported(
                    "dependentRequired", pointer, "with more than \(maxOrderFreeProperties) named properties")
            }
            if countsMatter {
                throw Self.unsupported(
                    "maxProperties", pointer, "with more than \(maxOrderFreeProperties) named properties")
            }
            let lastRequired = requiredIndices.last ?? -1
            var slot: [Int] = []
            var after: [Int] = []
            var member: [Int] = []
            for _ in 0...n {
                slot.append(try kit.builder.declare("slot"))
                after.append(try kit.builder.declare("after"))
                member.append(try kit.builder.declare("member"))
            }
            for p in 0...n {
                var s: [[Element]] = []
                if p < n {
                    s.append([members[p], .rule(after[p + 1])])
                    if !required.contains(named[p].key.scalarKey) { s.append([.rule(slot[p + 1])]) }
                }
                try kit.builder.define(slot[p], s)
                var m: [[Element]] = [[.rule(slot[p])]]
                if let extra { m.append([extra, .rule(after[p])]) }
                try kit.builder.define(member[p], m)
                var a: [[Element]] = []
                if p > lastRequired { a.append([ws, close]) }
                a.append([ws, comma, ws, .rule(member[p])])
                try kit.builder.define(after[p], a)
            }
            if lastRequired < 0 { alternatives.append([open, ws, close]) }
            alternatives.append([open, ws, .rule(member[0])])
        }
        return try kit.builder.group("object", alternatives)
    }
}
