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
        self.codes = codes
        self.byteSets = byteSets
        self.starts = starts
    }

    /// The byte set at a terminal position.
    @inline(__always)
    func set(at position: Int32) -> ByteSet { byteSets[Int(codes[Int(position)])] }

    @inline(__always)
    func isTerminal(_ position: Int32) -> Bool { codes[Int(position)] >= 0 }
}
