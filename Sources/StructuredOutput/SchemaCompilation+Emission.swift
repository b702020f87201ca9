// MARK: - From merged constraints to rules

extension SchemaCompilation {
    /// The most leaves `anyOf`/`oneOf` distribution may make for one schema.
    static let maxBranches = 256

    /// The element for the values a merged view admits.
    mutating func emit(_ view: SchemaView, pointer: String) throws(GrammarError) -> Element {
        var view = view
        if view.unsatisfiable || view.types.isEmpty { return try kit.never() }
        if !view.groups.isEmpty { return try emitGroup(&view, pointer: pointer) }
        try applyNots(&view)
        if view.types.isEmpty { return try kit.never() }
        if let values = view.values { return try emitValues(values, view, pointer: pointer) }
        if view.isTypeOnly, view.types == .all { return try kit.anyValue() }
        var alternatives: [[Element]] = []
        func check(_ t: TypeSet) throws(GrammarError) {
            if let u = view.unsupported.first(where: { !$0.types.isDisjoint(with: t) }) {
                throw Self.unsupported(u.keyword, u.pointer)
            }
        }
        if view.types.contains(.null) {
            try check(.null)
            alternatives.append(kit.builder.literal("null"))
        }
        if view.types.contains(.boolean) {
            try check(.boolean)
            alternatives += [kit.builder.literal("true"), kit.builder.literal("false")]
        }
        let numeric = view.types.intersection(.number)
        if !numeric.isEmpty {
            try check(numeric)
            alternatives.append([try kit.number(numeric, lower: view.lower, upper: view.upper, multipleOf: view.multipleOf, pointer: pointer)])
        }
        if view.types.contains(.string) {
            try check(.string)
            alternatives.append([try emitString(view, pointer: pointer)])
        }
        if view.types.contains(.array) {
            try check(.array)
            alternatives.append([try emitArray(view, pointer: pointer)])
        }
        if view.types.contains(.object) {
            try check(.object)
            alternatives.append([try emitObject(view, pointer: pointer)])
        }
        return try kit.builder.group("v", alternatives)
    }

    /// `anyOf`/`oneOf`: the union over the first group's branches of (the rest ∧ branch).
    mutating func emitGroup(_ view: inout SchemaView, pointer: String) throws(GrammarError) -> Element {
        let group = view.groups.removeFirst()
        var rest = view
        rest.groups = []
        // What each branch is taken with: for a oneOf whose branches may overlap, the complements
        // of the other branches.
        let extras = group.exclusive ? try exclusiveExtras(group, within: rest) : nil
        let restIsFree = rest.isTypeOnly && rest.types == .all && view.groups.isEmpty
        var alternatives: [[Element]] = []
        for (index, branch) in group.branches.enumerated() {
            branchBudget += 1
            guard branchBudget <= Self.maxBranches else {
                throw GrammarError(
                    .tooLarge, "anyOf/oneOf combinations exceed \(Self.maxBranches)", location: group.pointer)
            }
            let others = (group.extras?[index] ?? []) + (extras?[index] ?? [])
            if restIsFree {
                // Nothing else constrains the value: share the branch's own rule.
                alternatives.append([try compile([branch] + others)])
                continue
            }
            var v = view
            var refStack: [String] = []
            try absorb(branch, into: &v, refStack: &refStack)
            for other in others {
                var otherStack: [String] = []
                try absorb(other, into: &v, refStack: &otherStack)
            }
            alternatives.append([try emit(v, pointer: branch.pointer)])
        }
        return try kit.builder.group("alt", alternatives)
    }

    /// Applies each `not` that can be applied exactly: a type-only subschema removes its types,
    /// an `enum`/`const` removes its values; anything else is refused.
    mutating func applyNots(_ view: inout SchemaView) throws(GrammarError) {
        for n in view.nots {
            var nv = SchemaView()
            var refStack: [String] = []
            try absorb(n, into: &nv, refStack: &refStack)
            if nv.unsatisfiable || nv.types.isEmpty { continue }
            if nv.isTypeOnly {
                view.types.subtract(nv.types)
                continue
            }
            var valuesOnly = nv
            valuesOnly.values = nil
            if let excludedAll = nv.values, valuesOnly.isTypeOnly {
                let excluded = excludedAll.filter { nv.types.contains(TypeSet(of: $0)) }
                if let values = view.values {
                    let keys = Set(excluded.map(\.semanticKey))
                    view.values = values.filter { !keys.contains($0.semanticKey) }
                    continue
                }
                let relevant = excluded.filter { !view.types.isDisjoint(with: TypeSet(of: $0)) }
                if relevant.isEmpty { continue }
                // Strings alone: taken out of the string grammar (see emitString).
                if relevant.allSatisfy({ $0.stringValue != nil }) {
                    view.excludedStrings += relevant.compactMap(\.stringValue)
                    continue
                }
            }
            throw Self.unsupported("not", n.pointer, "only 'not' of types, of strings, or of enum or const values beside an enum can be enforced")
        }
        view.nots = []  // every one applied
    }

    /// `enum`/`const`: the values that pass the other constraints, each as a constant.
    mutating func emitValues(_ values: [JSONNode], _ view: SchemaView, pointer: String) throws(GrammarError)
        -> Element
    {
        // Each value costs at least a rule: refuse an oversized enum before building any.
        guard values.count <= limits.maxRules else {
            throw GrammarError(.tooLarge, "an enum of \(values.count) values", location: pointer, keyword: "enum")
        }
        var alternatives: [[Element]] = []
        for v in values {
            guard let ok = admits(v, view) else {
                throw Self.unsupported("enum", pointer, "enum/const next to constraints that cannot be checked")
            }
            if ok { alternatives.append([try constant(v)]) }
        }
        if alternatives.isEmpty { return try kit.never() }
        return try kit.builder.group("enum", alternatives)
    }

    /// Whether `value` satisfies the view's non-enum constraints; nil when that cannot be decided here.
    func admits(_ value: JSONNode, _ view: SchemaView) -> Bool? {
        let t = TypeSet(of: value)
        guard view.types.contains(t) else { return false }
        if view.unsupported.contains(where: { $0.types.contains(t) }) || !view.groups.isEmpty || !view.nots.isEmpty {
            return nil
        }
        switch value {
        case .null, .bool: return true
        case .number(let n):
            if let l = view.lower, n.decimal < l.value || (l.exclusive && n.decimal == l.value) { return false }
            if let u = view.upper, u.value < n.decimal || (u.exclusive && n.decimal == u.value) { return false }
            if let m = view.multipleOf, !m.divides(n.decimal) { return false }
            return true
        case .string(let s):
            let length = s.unicodeScalars.count
            if length < view.minLength || length > (view.maxLength ?? Int.max) { return false }
            var kit = GrammarKit(limits: limits)
            for (pattern, _) in view.patterns {
                guard let grammar = try? RegexCompiler(limits: limits).grammar(for: pattern) else { return nil }
                if !GrammarMatcher.matches(grammar, Array(s.utf8)) { return false }
            }
            for (format, _) in view.formats {
                guard let content = try? kit.format(format),
                    let root = try? kit.builder.add("root", [[GrammarKit.byte("\""), content, GrammarKit.byte("\"")]]),
                    case .rule(let r) = root, let grammar = try? kit.builder.build(root: r)
                else { return nil }
                if !GrammarMatcher.matches(grammar, Array(JSONNode.string(s).serialized().utf8)) { return false }
            }
            return true
        case .array(let a):
            if !view.arrayClauses.isEmpty { return nil }
            if view.uniqueItems != nil, Set(a.map(\.semanticKey)).count != a.count { return false }
            return a.count >= view.minItems && a.count <= (view.maxItems ?? Int.max)
        case .object(let m):
            if !view.objectClauses.isEmpty { return nil }
            let keys = Set(m.map(\.key.scalarKey))
            if !view.required.allSatisfy({ keys.contains($0.scalarKey) }) { return false }
            for d in view.dependentRequired where keys.contains(d.key.scalarKey) && !d.needs.allSatisfy({ keys.contains($0.scalarKey) }) {
                return false
            }
            return m.count >= view.minProperties && m.count <= (view.maxProperties ?? Int.max)
        }
    }

    /// A value equal (in JSON Schema's sense) to `value`: any member order, `1` as `1.0`, with
    /// whitespace between tokens; strings spelled canonically.
    mutating func constant(_ value: JSONNode) throws(GrammarError) -> Element {
        switch value {
        case .null: return try kit.builder.literalRule("null")
        case .bool(let b): return try kit.builder.literalRule(b ? "true" : "false")
        case .string(let s): return try kit.builder.group("str", [try kit.stringLiteral(s)])
        case .number(let n):
            let b = NumberBound(value: n.decimal, exclusive: false)
            if let e = try? kit.number(.number, lower: b, upper: b, pointer: "") { return e }
            return try kit.builder.literalRule(n.lexeme)
        case .array(let elements):
            let ws = try kit.ws()
            if elements.isEmpty { return try kit.builder.group("arr", [[GrammarKit.byte("["), ws, GrammarKit.byte("]")]]) }
            var sequence: [Element] = [GrammarKit.byte("["), ws]
            for (i, e) in elements.enumerated() {
                if i > 0 { sequence += [ws, GrammarKit.byte(","), ws] }
                sequence.append(try constant(e))
            }
            sequence += [ws, GrammarKit.byte("]")]
            return try kit.builder.group("arr", [sequence])
        case .object(let members):
            var named: [(key: String, value: Element)] = []
            for m in members { named.append((m.key, try constant(m.value))) }
            return try objectRule(
                named: named, required: Set(members.map(\.key.scalarKey)), additional: nil, dependentRequired: [],
                minProperties: 0, maxProperties: nil, pointer: "")
        }
    }

    // MARK: - oneOf

    /// For a `oneOf`: nil when its branches are provably disjoint (then it is an `anyOf`); else, per
    /// branch, the complements of the other branches (`SchemaNegation`) to take it with. Refused
    /// when a branch that may overlap has no complement the compiler can enforce.
    mutating func exclusiveExtras(_ group: SchemaView.Group, within rest: SchemaView) throws(GrammarError) -> [[SchemaLocation]]? {
        guard let (i, j) = try overlappingBranches(group, within: rest) else { return nil }
        var complements: [SchemaLocation] = []
        for (k, branch) in group.branches.enumerated() {
            guard let alternatives = SchemaNegation.complement(branch.node) else {
                throw Self.unsupported(
                    "oneOf", group.pointer,
                    "branches \(i) and \(j) may both match, and branch \(k) has no complement a grammar can enforce")
            }
            complements.append(.synthesized(SchemaNegation.union(alternatives), below: branch.pointer, "complement"))
        }
        return group.branches.indices.map { k in complements.indices.filter { $0 != k }.map { complements[$0] } }
    }

    /// The first pair of branches of a `oneOf` not provably disjoint, each branch taken together
    /// with what the schema around it says (`rest`: its type, its properties, its required keys),
    /// as it is emitted; nil when every pair is.
    mutating func overlappingBranches(_ group: SchemaView.Group, within rest: SchemaView) throws(GrammarError) -> (Int, Int)? {
        var views: [SchemaView] = []
        for b in group.branches {
            var v = rest
            var refStack: [String] = []
            try absorb(b, into: &v, refStack: &refStack)
            if let values = v.values { v.values = values.filter { v.types.contains(TypeSet(of: $0)) } }
            views.append(v)
        }
        for i in views.indices {
            for j in views.indices where j > i {
                if try !disjoint(views[i], views[j]) { return (i, j) }
            }
        }
        return nil
    }

    func effectiveTypes(_ v: SchemaView) -> TypeSet {
        if v.unsatisfiable { return [] }
        guard let values = v.values else { return v.types }
        var t = TypeSet()
        for x in values { t.formUnion(TypeSet(of: x)) }
        return t.intersection(v.types)
    }

    mutating func disjoint(_ a: SchemaView, _ b: SchemaView) throws(GrammarError) -> Bool {
        let common = effectiveTypes(a).intersection(effectiveTypes(b))
        if common.isEmpty { return true }
        if let va = a.values, let vb = b.values {
            let keys = Set(vb.map(\.semanticKey))
            return !va.contains { keys.contains($0.semanticKey) }
        }
        if let va = a.values, va.allSatisfy({ admits($0, b) == false }) { return true }
        if let vb = b.values, vb.allSatisfy({ admits($0, a) == false }) { return true }
        if common.isSubset(of: .number), let ua = a.upper, let lb = b.lower, Self.below(ua, lb) { return true }
        if common.isSubset(of: .number), let ub = b.upper, let la = a.lower, Self.below(ub, la) { return true }
        if common.isSubset(of: .object) {
            // A discriminator: a property both require, with disjoint constant values.
            for key in a.required where b.required.contains(where: { $0.scalarKey == key.scalarKey }) {
                if let xa = try propertyValues(a, key), let xb = try propertyValues(b, key),
                    !xa.contains(where: { x in xb.contains { $0.isSemanticallyEqual(to: x) } })
                {
                    return true
                }
            }
        }
        return false
    }

    /// Whether every number ≤ `upper` is < every number ≥ `lower`.
    static func below(_ upper: NumberBound, _ lower: NumberBound) -> Bool {
        upper.value < lower.value || (upper.value == lower.value && (upper.exclusive || lower.exclusive))
    }

    /// The finite set of values property `key` may take in `view`, if its schema is an enum/const.
    mutating func propertyValues(_ view: SchemaView, _ key: String) throws(GrammarError) -> [JSONNode]? {
        for clause in view.objectClauses {
            guard let p = clause.properties.first(where: { $0.key.scalarKey == key.scalarKey }) else { continue }
            var v = SchemaView()
            var refStack: [String] = []
            try absorb(p.schema, into: &v, refStack: &refStack)
            if let values = v.values { return values }
        }
        return nil
    }
}
