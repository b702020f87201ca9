// MARK: - Strings

extension SchemaCompilation {
    /// A string (under its pattern and length bounds, if any) that is none of `view.excludedStrings`:
    /// the pattern's automaton (any text without one) paired with a count and a trie of the excluded
    /// strings. Spelled canonically throughout, so an escape cannot spell an excluded string past
    /// the trie.
    mutating func excludingStrings(_ view: SchemaView, pointer: String) throws(GrammarError) -> Element {
        if let format = view.formats.first {
            throw Self.unsupported("not", format.pointer, "strings taken out of a format")
        }
        guard view.minLength <= limits.maxRepetition, (view.maxLength ?? 0) <= limits.maxRepetition else {
            throw GrammarError(
                .tooLarge, "a string length bound above \(limits.maxRepetition)", location: pointer, keyword: "maxLength")
        }
        let scalars = view.excludedStrings.reduce(0) { $0 + $1.unicodeScalars.count }
        guard scalars <= limits.maxRules else {
            throw GrammarError(
                .tooLarge, "the strings a not takes out have more than \(limits.maxRules) characters", location: pointer,
                keyword: "not")
        }
        let compiler = RegexCompiler(limits: limits)
        var branches = [PositionAutomaton.Branch(body: .empty, anchoredStart: true, anchoredEnd: false)]
        if let (pattern, p) = view.patterns.first {
            do {
                branches = try compiler.branches(pattern)
            } catch {
                var e = error
                e.location = p
                e.keyword = "pattern"
                throw e
            }
        }
        let automaton = try PositionAutomaton(branches: branches, maxPositions: limits.maxRules / 8, maxFollows: limits.maxElements)
        let content = try kit.lengthBounded(
            automaton, minLength: view.minLength, maxLength: view.maxLength, maxStates: limits.maxRules / 2,
            excluding: view.excludedStrings)
        return try kit.builder.group("str", [[GrammarKit.byte("\""), content, GrammarKit.byte("\"")]])
    }

    /// A string under `minLength`/`maxLength` (code points), `pattern` and `format`.
    ///
    /// A free string accepts every JSON spelling of its characters (a surrogate-pair escape is one
    /// code point). A pattern or a format is enforced on the canonical spelling (see
    /// `GrammarKit.character`). A pattern combines with any length bounds (its automaton paired
    /// with a count, see `PositionAutomaton`); a format only with bounds it implies (else
    /// `.unsupported`); neither with another pattern or format.
    mutating func emitString(_ view: SchemaView, pointer: String) throws(GrammarError) -> Element {
        let quote = GrammarKit.byte("\"")
        if let maxLength = view.maxLength, maxLength < view.minLength { return try kit.never() }
        if view.patterns.count + view.formats.count > 1 {
            let p = view.patterns.count > 1 ? view.patterns[1].pointer : view.formats.last?.pointer ?? pointer
            throw Self.unsupported(
                view.patterns.count > 1 ? "pattern" : "format", p, "more than one pattern or format on one string")
        }
        if !view.excludedStrings.isEmpty {
            return try excludingStrings(view, pointer: pointer)
        }
        var content: Element
        var bounds: (min: Int, max: Int?)
        if let (pattern, p) = view.patterns.first {
            do {
                let c = try RegexCompiler(limits: limits).content(pattern, kit: &kit, encoding: .jsonString)
                content = c.element
                bounds = (c.minLength, c.maxLength)
            } catch {
                var e = error
                e.location = p
                e.keyword = "pattern"
                throw e
            }
        } else if let (format, p) = view.formats.first {
            do {
                content = try kit.format(format)
                bounds = GrammarKit.formatLengths[format] ?? (0, nil)
            } catch {
                var e = error
                e.location = p
                e.keyword = "format"
                throw e
            }
        } else {
            guard view.minLength <= limits.maxRepetition, (view.maxLength ?? 0) <= limits.maxRepetition else {
                throw GrammarError(
                    .tooLarge, "a string length bound above \(limits.maxRepetition)", location: pointer,
                    keyword: "maxLength")
            }
            let chars = try kit.builder.repeated(
                [try kit.freeCharacter()], min: view.minLength, max: view.maxLength, base: "chars")
            return try kit.builder.group("str", [[quote, chars, quote]])
        }
        // Length bounds the pattern or format implies need nothing more; contradictory ones leave
        // no string.
        let implied = bounds.min >= view.minLength && (view.maxLength.map { m in bounds.max.map { $0 <= m } ?? false } ?? true)
        if implied { return try kit.builder.group("str", [[quote, content, quote]]) }
        if let m = view.maxLength, bounds.min > m { return try kit.never() }
        if let bmax = bounds.max, bmax < view.minLength { return try kit.never() }
        // A pattern (or a format written as one) with other bounds: its automaton paired with a count
        // of characters.
        let formatPattern = view.formats.first.flatMap { f in GrammarKit.formatPatterns[f.0].map { (pattern: $0, pointer: f.1) } }
        guard let (pattern, p) = view.patterns.first ?? formatPattern else {
            throw Self.unsupported(
                view.maxLength != nil ? "maxLength" : "minLength", pointer,
                "length bounds together with a format are enforced only when implied by it")
        }
        guard view.minLength <= limits.maxRepetition, (view.maxLength ?? 0) <= limits.maxRepetition else {
            throw GrammarError(
                .tooLarge, "a string length bound above \(limits.maxRepetition)", location: pointer, keyword: "maxLength")
        }
        do {
            let bounded = try RegexCompiler(limits: limits).lengthBoundedContent(
                pattern, minLength: view.minLength, maxLength: view.maxLength, kit: &kit)
            return try kit.builder.group("str", [[quote, bounded, quote]])
        } catch {
            var e = error
            e.location = e.keyword == "maxLength" ? pointer : p
            throw e
        }
    }
}
