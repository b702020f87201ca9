extension Grammar {
    /// The grammar without the alternatives that can never finish (those through a rule that
    /// derives no text, such as a schema branch that admits nothing), so that every prefix the
    /// matcher accepts can still be completed; rules are kept (unreachable ones become harmless).
    ///
    /// Linear in the grammar's size: a worklist over "alternatives still waiting for N rules".
    ///
    /// - Throws: `.unsatisfiable` when the root itself derives no text.
    func pruned() throws(GrammarError) -> Grammar {
        var productive = [Bool](repeating: false, count: rules.count)
        // For each alternative (rule, index): how many rule references are not yet productive.
        var waiting: [[Int]] = []
        // For each rule: the alternatives that reference it (one entry per reference).
        var users = [[(rule: Int, alternative: Int)]](repeating: [], count: rules.count)
        var work: [Int] = []
        for (i, rule) in rules.enumerated() {
            var counts: [Int] = []
            for (a, alternative) in rule.alternatives.enumerated() {
                var n = 0
                for element in alternative {
                    if case .rule(let r) = element {
                        n += 1
                        users[r].append((i, a))
                    }
                }
                counts.append(n)
                if n == 0, !productive[i] {
                    productive[i] = true
                    work.append(i)
                }
            }
            waiting.append(counts)
        }
        while let r = work.popLast() {
            for (rule, alternative) in users[r] {
                waiting[rule][alternative] -= 1
                if waiting[rule][alternative] == 0, !productive[rule] {
                    productive[rule] = true
                    work.append(rule)
                }
            }
        }
        guard productive[root] else { throw GrammarError(.unsatisfiable, "the schema admits no value") }
        let kept = rules.map { rule in
            Rule(
                name: rule.name,
                alternatives: rule.alternatives.filter { alternative in
                    alternative.allSatisfy { element in
                        if case .rule(let r) = element { return productive[r] }
                        return true
                    }
                })
        }
        return Grammar(rules: kept, root: root, checks: checks)
    }
}
