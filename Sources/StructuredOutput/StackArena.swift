/// Pushdown stacks as shared, interned chains: a node is (position, parent node), so a stack is
/// one node id and two equal stacks are the same id. Expanding a position into the stacks whose
/// top is a byte set is `expand`.
///
/// `StackArena.root` is below every real stack (reaching it means the text may end);
/// `StackArena.bottom` stands for an unknown context (the per-position mask cache walks with it).
///
/// A grammar with checked rules (`ValueCheck`) also gets nodes that remember where their reference
/// started in the text, and the arena keeps the text read so far (`text`), so a check can look at
/// the bytes of what closes. A context-free arena (the mask cache's) has no text: a walk that would
/// need a check reports it instead (`Expansion.needsText`).
struct StackArena {
    static let root: Int32 = -1
    static let bottom: Int32 = -2

    private(set) var positions: [Int32] = []
    private(set) var parents: [Int32] = []
    /// Per node, the text offset its checked reference started at (-1 for other nodes).
    private(set) var starts: [Int32] = []
    private var table: [UInt64: Int32] = [:]
    private var checkedTable: [CheckedKey: Int32] = [:]
    private var work: [(Int32, Int32)] = []
    /// The (position, parent) pairs one expansion has seen: a list while short (most are), then a set.
    private var seenList: [UInt64] = []
    private var seenSet: Set<UInt64> = []

    /// No text is kept and no check is made: walks report where one would be (`needsText`).
    var contextFree = false
    /// The bytes read so far (with checked rules and not `contextFree`): the committed text, then
    /// what a walk is trying. Callers cut it back with `truncateText`.
    private(set) var text: [UInt8] = []
    /// How much of `text` is committed (results over it may be remembered).
    var committed = 0
    /// How many checked items have closed, passing their check (what `canCloseOpenItems` looks for).
    var closedItems = 0
    /// The earlier items' keys of an array, by (array start, item start): only over committed text.
    private var earlierItems: [Int64: Set<String>] = [:]

    private struct CheckedKey: Hashable {
        var position: Int32
        var parent: Int32
        var start: Int32
    }

    var count: Int { positions.count }

    mutating func node(_ position: Int32, _ parent: Int32) -> Int32 {
        let key = UInt64(UInt32(bitPattern: position)) << 32 | UInt64(UInt32(bitPattern: parent))
        if let id = table[key] { return id }
        let id = Int32(positions.count)
        positions.append(position)
        parents.append(parent)
        starts.append(-1)
        table[key] = id
        return id
    }

    /// A node that also remembers the text offset `start` where its checked reference began.
    mutating func checkedNode(_ position: Int32, _ parent: Int32, start: Int32) -> Int32 {
        let key = CheckedKey(position: position, parent: parent, start: start)
        if let id = checkedTable[key] { return id }
        let id = Int32(positions.count)
        positions.append(position)
        parents.append(parent)
        starts.append(start)
        checkedTable[key] = id
        return id
    }

    /// Forgets every node made after `count` (a walk's scratch nodes).
    mutating func rollback(to count: Int) {
        guard count < positions.count else { return }
        for id in count..<positions.count {
            if starts[id] >= 0 {
                checkedTable[CheckedKey(position: positions[id], parent: parents[id], start: starts[id])] = nil
            } else {
                let key = UInt64(UInt32(bitPattern: positions[id])) << 32 | UInt64(UInt32(bitPattern: parents[id]))
                table[key] = nil
            }
        }
        positions.removeSubrange(count...)
        parents.removeSubrange(count...)
        starts.removeSubrange(count...)
    }

    /// Cuts `text` back to `length` bytes.
    mutating func truncateText(to length: Int) {
        if text.count > length { text.removeSubrange(length...) }
    }

    /// Cuts `text` and the committed part back to `length` (a refused run of bytes), forgetting
    /// what was remembered past it.
    mutating func uncommit(to length: Int) {
        truncateText(to: length)
        guard committed > length else { return }
        committed = length
        earlierItems = earlierItems.filter { Int($0.key & 0xFFFF_FFFF) <= length }
    }

    /// What expanding position `position` over stack `parent` gives.
    struct Expansion {
        /// Stacks whose top is a byte set (unsorted, may repeat).
        var stacks: [Int32] = []
        /// The root was reached: the text so far is complete.
        var accepting = false
        /// `bottom` was reached: what follows depends on the unknown context.
        var reachedBottom = false
        /// (Context-free arenas) a checked item closed: whether it may depends on the text.
        var needsText = false
    }

    /// Expands (position, parent) until every stack's top is a byte set, appending to `into`.
    mutating func expand(_ position: Int32, _ parent: Int32, _ automaton: GrammarAutomaton, into out: inout Expansion) {
        work.removeAll(keepingCapacity: true)
        seenList.removeAll(keepingCapacity: true)
        if !seenSet.isEmpty { seenSet.removeAll(keepingCapacity: true) }
        work.append((position, parent))
        while let (position, parent) = work.popLast() {
            let key = UInt64(UInt32(bitPattern: position)) << 32 | UInt64(UInt32(bitPattern: parent))
            guard firstSight(key) else { continue }
            let code = automaton.codes[Int(position)]
            if code >= 0 {
                out.stacks.append(node(position, parent))
            } else if code == GrammarAutomaton.end {
                if parent == Self.root {
                    out.accepting = true
                } else if parent == Self.bottom {
                    out.reachedBottom = true
                } else {
                    if automaton.hasChecks, automaton.checkAfter[Int(positions[Int(parent)])] == GrammarAutomaton.itemCheck {
                        if contextFree {
                            out.needsText = true
                            continue
                        }
                        if !isUniqueItem(parent, automaton) { continue }
                    }
                    work.append((positions[Int(parent)], parents[Int(parent)]))
                }
            } else {
                let rule = Int(GrammarAutomaton.ruleBase - code)
                // The continuation after the reference; at the end of an alternative, the parent
                // itself (a tail call: right recursion runs in constant depth).
                let next = position + 1
                let continuation: Int32
                if automaton.hasChecks, automaton.ruleChecks[rule] != GrammarAutomaton.noCheck {
                    // Checked: a node even in tail position, which remembers where the text starts.
                    continuation = contextFree ? node(next, parent) : checkedNode(next, parent, start: Int32(text.count))
                } else {
                    continuation = automaton.codes[Int(next)] == GrammarAutomaton.end ? parent : node(next, parent)
                }
                for start in automaton.starts[rule] {
                    work.append((start, continuation))
                }
            }
        }
    }

    /// The bytes any of `stacks` can read next.
    func readableBytes(_ stacks: [Int32], _ automaton: GrammarAutomaton) -> ByteSet {
        var set = ByteSet()
        for stack in stacks { set.formUnion(automaton.set(at: positions[Int(stack)])) }
        return set
    }

    /// Records `key` as seen in this expansion; false when it already was.
    @inline(__always)
    private mutating func firstSight(_ key: UInt64) -> Bool {
        if seenList.contains(key) { return false }
        if seenList.count < 24 {
            seenList.append(key)
            return true
        }
        return seenSet.insert(key).inserted
    }

    /// Advances every stack in `stacks` over `byte` (appended to `text` when the grammar has
    /// checks and the arena is not context-free).
    mutating func advance(_ stacks: [Int32], _ byte: UInt8, _ automaton: GrammarAutomaton) -> Expansion {
        var out = Expansion()
        if automaton.hasChecks, !contextFree { text.append(byte) }
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

extension StackArena {
    /// Whether the item that closes at the end of `text`, whose checked node is `item`, differs
    /// from every earlier item of its array (the nearest frame below it). When the texts cannot be
    /// read as JSON the item passes: the grammar alone decides then.
    mutating func isUniqueItem(_ item: Int32, _ automaton: GrammarAutomaton) -> Bool {
        let start = Int(starts[Int(item)])
        var frame = parents[Int(item)]
        while frame >= 0, automaton.checkAfter[Int(positions[Int(frame)])] != GrammarAutomaton.frameCheck {
            frame = parents[Int(frame)]
        }
        guard start >= 0, start <= text.count, frame >= 0 else { return true }
        let arrayStart = Int(starts[Int(frame)])
        guard arrayStart >= 0, arrayStart <= start else { return true }
        guard let key = UniqueItems.key(text[start...]) else { return true }
        let memoKey = Int64(arrayStart) << 32 | Int64(start)
        let earlier: Set<String>
        if let known = earlierItems[memoKey] {
            earlier = known
        } else {
            guard let parsed = UniqueItems.earlierKeys(text[arrayStart..<start]) else { return true }
            earlier = parsed
            if start <= committed { earlierItems[memoKey] = parsed }
        }
        if earlier.contains(key) { return false }
        closedItems += 1
        return true
    }
}

extension StackArena {
    /// Whether `stack` is inside an array whose items are checked (between its `[` and `]`).
    func isInsideCheckedArray(_ stack: Int32, _ automaton: GrammarAutomaton) -> Bool {
        var node = stack
        while node >= 0 {
            if starts[Int(node)] >= 0, automaton.checkAfter[Int(positions[Int(node)])] == GrammarAutomaton.frameCheck { return true }
            node = parents[Int(node)]
        }
        return false
    }
}
