/// Pushdown stacks as shared, interned chains: a node is (position, parent node), so a stack is
/// one node id and two equal stacks are the same id. Expanding a position into the stacks whose
/// top is a byte set is `expand`.
///
/// `StackArena.root` is below every real stack (reaching it means the text may end);
/// `StackArena.bottom` stands for an unknown context (the per-position mask cache walks with it).
struct StackArena {
    static let root: Int32 = -1
    static let bottom: Int32 = -2

    private(set) var positions: [Int32] = []
    private(set) var parents: [Int32] = []
    private var table: [UInt64: Int32] = [:]
    private var work: [(Int32, Int32)] = []
    private var seen: Set<UInt64> = []

    var count: Int { positions.count }

    mutating func node(_ position: Int32, _ parent: Int32) -> Int32 {
        let key = UInt64(UInt32(bitPattern: position)) << 32 | UInt64(UInt32(bitPattern: parent))
        if let id = table[key] { return id }
        let id = Int32(positions.count)
        positions.append(position)
        parents.append(parent)
        table[key] = id
        return id
    }

    /// Forgets every node made after `count` (a walk's scratch nodes).
    mutating func rollback(to count: Int) {
        guard count < positions.count else { return }
        for id in count..<positions.count {
            let key = UInt64(UInt32(bitPattern: positions[id])) << 32 | UInt64(UInt32(bitPattern: parents[id]))
            table[key] = nil
        }
        positions.removeSubrange(count...)
        parents.removeSubrange(count...)
    }

    /// What expanding position `position` over stack `parent` gives.
    struct Expansion {
        /// Stacks whose top is a byte set (unsorted, may repeat).
        var stacks: [Int32] = []
        /// The root was reached: the text so far is complete.
        var accepting = false
        /// `bottom` was reached: what follows depends on the unknown context.
        var reachedBottom = false
    }

    /// Expands (position, parent) until every stack's top is a byte set, appending to `into`.
    mutating func expand(_ position: Int32, _ parent: Int32, _ automaton: GrammarAutomaton, into out: inout Expansion) {
        work.removeAll(keepingCapacity: true)
        seen.removeAll(keepingCapacity: true)
        work.append((position, parent))
        while let (position, parent) = work.popLast() {
            let key = UInt64(UInt32(bitPattern: position)) << 32 | UInt64(UInt32(bitPattern: parent))
            guard seen.insert(key).inserted else { continue }
            let code = automaton.codes[Int(position)]
            if code >= 0 {
                out.stacks.append(node(position, parent))
            } else if code == GrammarAutomaton.end {
                if parent == Self.root {
                    out.accepting = true
                } else if parent == Self.bottom {
                    out.reachedBottom = true
                } else {
                    work.append((positions[Int(parent)], parents[Int(parent)]))
                }
            } else {
                let rule = Int(GrammarAutomaton.ruleBase - code)
                // The continuation after the reference; at the end of an alternative, the parent
                // itself (a tail call: right recursion runs in constant depth).
                let next = position + 1
                let continuation = automaton.codes[Int(next)] == GrammarAutomaton.end ? parent : node(next, parent)
                for start in automaton.starts[rule] {
                    work.append((start, continuation))
                }
            }
        }
    }

    /// Advances every stack in `stacks` over `byte`.
    mutating func advance(_ stacks: [Int32], _ byte: UInt8, _ automaton: GrammarAutomaton) -> Expansion {
        var out = Expansion()
        for stack in stacks {
            let position = positions[Int(stack)]
            guard automaton.set(at: position).contains(byte) else { continue }
            expand(position + 1, parents[Int(stack)], automaton, into: &out)
        }
        if out.stacks.count > 1 {
            out.stacks.sort()
            var unique = 0
            for i in out.stacks.indices where i == 0 || out.stacks[i] != out.stacks[i - 1] {
                out.stacks[unique] = out.stacks[i]
                unique += 1
            }
            out.stacks.removeSubrange(unique...)
        }
        return out
    }
}
