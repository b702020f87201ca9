/// Grammars made of other grammars and literal texts: what a forced tool call needs around the JSON
/// of its arguments (ChatML's `<tool_call>` tags, a choice among function names).
extension Grammar {
    /// `prefix`, this grammar's text, `suffix`; with `separator`, one or more of this grammar's texts
    /// joined by it: `prefix t (separator t)* suffix`.
    ///
    /// - Throws: `.tooLarge` when the result would pass `limits.maxRules`.
    public func framed(
        prefix: String, suffix: String, repeatedWith separator: String? = nil, limits: GrammarLimits = GrammarLimits()
    ) throws(GrammarError) -> Grammar {
        guard rules.count + 2 <= limits.maxRules else {
            throw GrammarError(.tooLarge, "the grammar has more than \(limits.maxRules) rules")
        }
        var rules = self.rules
        let body = Element.rule(root)
        var sequence = Self.literal(prefix) + [body]
        if let separator {
            // rest ::= separator body rest | ε  (right recursion: no left recursion is introduced).
            let rest = rules.count
            rules.append(Rule(name: "framed-rest", alternatives: [Self.literal(separator) + [body, .rule(rest)], []]))
            sequence.append(.rule(rest))
        }
        sequence += Self.literal(suffix)
        let top = rules.count
        rules.append(Rule(name: "framed", alternatives: [sequence]))
        return try GrammarCheck.pruned(Grammar(rules: rules, root: top, checks: checks))
    }

    /// Exactly one of `texts` (at least one, each non-empty).
    ///
    /// - Throws: `.invalidSchema` for no text or an empty one.
    public static func choice(of texts: [String]) throws(GrammarError) -> Grammar {
        guard !texts.isEmpty, texts.allSatisfy({ !$0.isEmpty }) else {
            throw GrammarError(.invalidSchema, "a choice needs at least one non-empty text")
        }
        return Grammar(rules: [Rule(name: "root", alternatives: texts.map(literal))], root: 0)
    }

    /// The text of any one of `grammars` (at least one): their rules side by side under a new root.
    ///
    /// - Throws: `.invalidSchema` for no grammar, `.tooLarge` past `limits.maxRules`.
    public static func alternatives(_ grammars: [Grammar], limits: GrammarLimits = GrammarLimits()) throws(GrammarError) -> Grammar {
        guard !grammars.isEmpty else { throw GrammarError(.invalidSchema, "a choice needs at least one grammar") }
        guard grammars.count == 1 || grammars.reduce(1, { $0 + $1.rules.count }) <= limits.maxRules else {
            throw GrammarError(.tooLarge, "the grammars have more than \(limits.maxRules) rules together")
        }
        if grammars.count == 1 { return grammars[0] }
        var rules: [Rule] = []
        var roots: [[Element]] = []
        var checks: [Int: ValueCheck] = [:]
        for grammar in grammars {
            let offset = rules.count
            for (rule, check) in grammar.checks { checks[rule + offset] = check }
            for rule in grammar.rules {
                let alternatives = rule.alternatives.map { alternative in
                    alternative.map { element -> Element in
                        if case .rule(let r) = element { return .rule(r + offset) }
                        return element
                    }
                }
                rules.append(Rule(name: rule.name, alternatives: alternatives))
            }
            roots.append([.rule(grammar.root + offset)])
        }
        rules.append(Rule(name: "alternatives", alternatives: roots))
        return Grammar(rules: rules, root: rules.count - 1, checks: checks)
    }

    private static func literal(_ text: String) -> [Element] {
        text.utf8.map { .bytes(ByteSet($0)) }
    }
}
