// MARK: - $ref resolution

extension SchemaCompilation {
    /// The keywords whose values are subschemas (so `$id`/`$anchor` inside `enum`/`const` values
    /// are not identifiers).
    static let schemaKeywords: Set<String> = [
        "not", "if", "then", "else", "additionalProperties", "additionalItems", "contains", "propertyNames",
        "unevaluatedProperties", "unevaluatedItems", "items",
    ]
    static let schemaArrayKeywords: Set<String> = ["allOf", "anyOf", "oneOf", "prefixItems", "items"]
    static let schemaMapKeywords: Set<String> = [
        "properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies",
    ]

    /// The schema resources (`$id`) and anchors of a document, by absolute URI.
    struct Identifiers: Sendable {
        var resources: [String: SchemaLocation] = [:]
        var anchors: [String: SchemaLocation] = [:]
        /// Each resource's absolute id by its pointer.
        var idsByPointer: [String: String] = [:]
    }

    static func identifiers(of root: SchemaLocation, legacyRef: Bool) -> Identifiers {
        var ids = Identifiers()
        var stack: [(SchemaLocation, String)] = [(root, "")]
        var visited = 0
        while let (location, parentBase) = stack.popLast() {
            visited += 1
            if visited > 1_000_000 { break }
            guard let members = location.node.members else { continue }
            var base = parentBase
            if let id = location.node["$id"]?.stringValue, !legacyRef || location.node["$ref"] == nil || location.pointer.isEmpty {
                if id.hasPrefix("#") {
                    ids.anchors[base + id] = location
                } else {
                    base = resolveURI(id, against: parentBase)
                    ids.resources[base] = location
                    ids.idsByPointer[location.pointer] = base
                }
            }
            if let anchor = location.node["$anchor"]?.stringValue { ids.anchors[base + "#" + anchor] = location }
            for m in members {
                if schemaKeywords.contains(m.key), m.value.elements == nil {
                    if let c = location.child(m.key) { stack.append((c, base)) }
                }
                if schemaArrayKeywords.contains(m.key), let a = m.value.elements {
                    for i in a.indices { if let c = location.element(i, of: m.key) { stack.append((c, base)) } }
                }
                if schemaMapKeywords.contains(m.key), let map = m.value.members {
                    let prefix = location.pointer + "/" + SchemaLocation.escape(m.key) + "/"
                    for e in map {
                        stack.append((SchemaLocation(node: e.value, pointer: prefix + SchemaLocation.escape(e.key)), base))
                    }
                }
            }
        }
        return ids
    }

    /// A reference resolved against a base URI (RFC 3986, simplified: absolute references, paths
    /// from the authority's root, and sibling paths).
    static func resolveURI(_ reference: String, against base: String) -> String {
        var ref = reference
        if ref.hasSuffix("#") { ref.removeLast() }
        if ref.isEmpty { return base }
        if ref.contains("://") || ref.hasPrefix("urn:") || base.isEmpty { return ref }
        if ref.hasPrefix("/") {
            guard let scheme = base.firstRange(of: "://") else { return ref }
            let afterScheme = base[scheme.upperBound...]
            let authorityEnd = afterScheme.firstIndex(of: "/") ?? base.endIndex
            return String(base[..<authorityEnd]) + ref
        }
        guard let slash = base.lastIndex(of: "/") else { return ref }
        return String(base[...slash]) + ref
    }

    /// The base URI in force at `pointer`: the innermost enclosing resource's id.
    func baseURI(at pointer: String) -> (uri: String, location: SchemaLocation) {
        var best = (uri: identifiers.idsByPointer[""] ?? "", location: root)
        for (p, id) in identifiers.idsByPointer where !p.isEmpty && (pointer == p || pointer.hasPrefix(p + "/")) {
            if best.location.pointer.count <= p.count, let loc = identifiers.resources[id] { best = (id, loc) }
        }
        return best
    }

    /// The subschema `ref` names, seen from `location`.
    ///
    /// - Throws: `.badReference` for a reference outside the document or to nothing.
    func resolve(_ ref: String, from location: SchemaLocation) throws(GrammarError) -> SchemaLocation {
        let fail = { (why: String) in
            GrammarError(.badReference, "$ref \"\(ref)\": \(why)", location: location.pointer + "/$ref", keyword: "$ref")
        }
        let hash = ref.firstIndex(of: "#")
        let uriPart = String(ref[..<(hash ?? ref.endIndex)])
        let fragment = hash.map { String(ref[ref.index(after: $0)...]) } ?? ""
        let base = baseURI(at: location.pointer)
        var target = base.location
        var targetURI = base.uri
        if !uriPart.isEmpty {
            targetURI = Self.resolveURI(uriPart, against: base.uri)
            guard let found = identifiers.resources[targetURI] else { throw fail("a remote or unknown reference") }
            target = found
        }
        guard let decoded = Self.percentDecoded(fragment) else { throw fail("bad percent-encoding") }
        if decoded.isEmpty { return target }
        if !decoded.hasPrefix("/") {
            guard let anchored = identifiers.anchors[targetURI + "#" + decoded] else { throw fail("no such anchor") }
            return anchored
        }
        var current = target
        for raw in decoded.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = String(raw).replacingOccurrences("~1", "/").replacingOccurrences("~0", "~")
            switch current.node {
            case .object:
                guard let next = current.child(token) else { throw fail("no such location") }
                current = next
            case .array(let a):
                guard let i = Int(token), i >= 0, i < a.count, String(i) == token else { throw fail("no such location") }
                current = SchemaLocation(node: a[i], pointer: current.pointer + "/" + token)
            default:
                throw fail("no such location")
            }
        }
        return current
    }

    static func percentDecoded(_ s: String) -> String? {
        guard s.contains("%") else { return s }
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else {
                    return nil
                }
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
