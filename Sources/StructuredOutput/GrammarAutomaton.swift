/// A built grammar flattened for matching: every alternative laid out in one array of element
/// codes, so a matcher position is one integer and a pushdown stack is a chain of positions.
///
/// Codes: `>= 0` is a byte set (an index into `byteSets`), `end` closes an alternative, and
/// `<= ruleBase` refers to rule `ruleBase - code`.
public final class GrammarAutomaton: Sendable {
    /// The grammar this was built from.
    public let grammar: Grammar
    let codes: [Int32]
    let byteSets: [ByteSet]
    /// For each rule, where each of its alternatives starts in `codes`.
    let starts: [[Int32]]
    /// Where the root's alternatives start.
    var rootStarts: [Int32] { starts[grammar.root] }
    /// For each rule, the check its references make (`none`, `frame` or `item`).
    let ruleChecks: [UInt8]
    /// For each position, the check of the reference just before it (what returning there means).
    let checkAfter: [UInt8]
    /// Whether any rule is checked (the matcher then keeps the text it has read).
    let hasChecks: Bool

    static let noCheck: UInt8 = 0
    static let frameCheck: UInt8 = 1
    static let itemCheck: UInt8 = 2

    static let end: Int32 = -1
    static let ruleBase: Int32 = -2

    public init(_ grammar: Grammar) {
        self.grammar = grammar
        var codes: [Int32] = []
        var setIndex: [ByteSet: Int32] = [:]
        var byteSets: [ByteSet] = []
        var starts: [[Int32]] = []
        codes.reserveCapacity(grammar.elementCount + grammar.rules.count * 2)
        for rule in grammar.rules {
            var ruleStarts: [Int32] = []
            for alternative in rule.alternatives {
                ruleStarts.append(Int32(codes.count))
                for element in alternative {
                    switch element {
                    case .bytes(let set):
                        if let i = setIndex[set] {
                            codes.append(i)
                        } else {
                            let i = Int32(byteSets.count)
                            byteSets.append(set)
                            setIndex[set] = i
                            codes.append(i)
                        }
                    case .rule(let r):
                        codes.append(Self.ruleBase - Int32(r))
                    }
                }
                codes.append(Self.end)
            }
            starts.append(ruleStarts)
        }
        var ruleChecks = [UInt8](repeating: Self.noCheck, count: grammar.rules.count)
        for (rule, check) in grammar.checks where rule < ruleChecks.count {
            ruleChecks[rule] = check == .uniqueArray ? Self.frameCheck : Self.itemCheck
        }
        var checkAfter = [UInt8](repeating: Self.noCheck, count: codes.count)
        if !grammar.checks.isEmpty {
            for (i, code) in codes.enumerated() where code <= Self.ruleBase && i + 1 < codes.count {
                checkAfter[i + 1] = ruleChecks[Int(Self.ruleBase - code)]
            }
        }
        self.codes = codes
        self.byteSets = byteSets
        self.starts = starts
        self.ruleChecks = ruleChecks
        self.checkAfter = checkAfter
        self.hasChecks = !grammar.checks.isEmpty
    }

    /// The byte set at a terminal position.
    @inline(__always)
    func set(at position: Int32) -> ByteSet { byteSets[Int(codes[Int(position)])] }

    @inline(__always)
    func isTerminal(_ position: Int32) -> Bool { codes[Int(position)] >= 0 }
}
