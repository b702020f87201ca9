/// A piece of input after special tokens are found: raw text (a byte range) or a matched token.
enum Fragment: Equatable, Sendable {
    case text(Range<Int>)
    case token(TokenID)
}

/// Splits text around special tokens exactly as llama.cpp's `tokenizer_st_partition` does.
///
/// llama.cpp walks its special tokens from the longest text to the shortest; each one is matched at
/// its leftmost non-overlapping occurrences inside the raw text that earlier tokens left. Control and
/// unknown tokens take part only when the caller parses specials (trusted template text);
/// user-defined tokens (Gemma's whitespace runs, Qwen's `<tool_call>`) always do. Rather than
/// re-scanning the text once per special token, this finds every occurrence with one trie walk and
/// then replays llama.cpp's order over them, which gives the same fragments.
struct SpecialTokenSplitter: Sendable {
    /// A byte trie over the candidate texts. Node 0 is the root.
    private var childStart: [Int32] = []
    private var childCount: [Int32] = []
    private var edgeBytes: [UInt8] = []
    private var edgeTargets: [Int32] = []
    private var rootTable: [Int32] = Array(repeating: -1, count: 256)
    /// The candidate that ends at each node (its index in `candidates`), or -1.
    private var terminal: [Int32] = []
    /// The candidates in llama.cpp's order: longest text first.
    private let candidates: [TokenID]
    private let lengths: [Int32]

    /// Whether no token can match (so every input is one raw fragment).
    var isEmpty: Bool { candidates.isEmpty }

    /// Builds the splitter for `vocabulary`.
    ///
    /// - Parameters:
    ///   - vocabulary: The vocabulary.
    ///   - parseSpecial: Whether control and unknown tokens are matched too.
    init(vocabulary: Vocabulary, parseSpecial: Bool) {
        var ids: [TokenID] = []
        for id in 0..<vocabulary.count {
            let attributes = vocabulary.attributes[id]
            guard !attributes.isDisjoint(with: [.control, .userDefined, .unknown]) else { continue }
            if !parseSpecial && !attributes.isDisjoint(with: [.control, .unknown]) { continue }
            ids.append(TokenID(id))
        }
        let texts = ids.map { vocabulary.text(of: $0)! }
        // llama.cpp sorts by length only (std::sort, unstable); ties are ordered by id here.
        let order = ids.indices.sorted { texts[$0].count != texts[$1].count ? texts[$0].count > texts[$1].count : ids[$0] < ids[$1] }
        candidates = order.map { ids[$0] }
        lengths = order.map { Int32(texts[$0].count) }

        // Build a pointer trie, then flatten it.
        var children: [[UInt8: Int32]] = [[:]]
        var ends: [Int32] = [-1]
        for (rank, index) in order.enumerated() {
            var node = 0
            for byte in texts[index] {
                if let next = children[node][byte] {
                    node = Int(next)
                } else {
                    children.append([:])
                    ends.append(-1)
                    children[node][byte] = Int32(children.count - 1)
                    node = children.count - 1
                }
            }
            if ends[node] < 0 { ends[node] = Int32(rank) }
        }
        terminal = ends
        for node in children.indices {
            childStart.append(Int32(edgeBytes.count))
            childCount.append(Int32(children[node].count))
            for (byte, target) in children[node].sorted(by: { $0.key < $1.key }) {
                edgeBytes.append(byte)
                edgeTargets.append(target)
            }
        }
        for (byte, target) in children[0] { rootTable[Int(byte)] = target }
    }

    @inline(__always)
    private func child(_ node: Int, _ byte: UInt8) -> Int {
        let start = Int(childStart[node])
        let end = start + Int(childCount[node])
        var index = start
        while index < end {
            if edgeBytes[index] == byte { return Int(edgeTargets[index]) }
            index += 1
        }
        return -1
    }

    /// Splits `bytes` into raw-text fragments and special tokens.
    ///
    /// - Parameter bytes: The UTF-8 text.
    /// - Returns: The fragments in order; empty for empty input.
    func split(_ bytes: UnsafeRawBufferPointer) -> [Fragment] {
        let n = bytes.count
        guard n > 0 else { return [] }
        guard !candidates.isEmpty else { return [.text(0..<n)] }

        // Every occurrence of every candidate: (start, candidate rank).
        var occurrences: [(start: Int32, rank: Int32)] = []
        for start in 0..<n {
            var node = Int(rootTable[Int(bytes[start])])
            var position = start + 1
            while node >= 0 {
                let rank = terminal[node]
                if rank >= 0 { occurrences.append((Int32(start), rank)) }
                guard position < n else { break }
                node = child(node, bytes[position])
                position += 1
            }
        }
        guard !occurrences.isEmpty else { return [.text(0..<n)] }

        // Replay llama.cpp: candidates by rank, each at its leftmost non-overlapping occurrences that
        // lie wholly inside text no earlier candidate took.
        occurrences.sort { $0.rank != $1.rank ? $0.rank < $1.rank : $0.start < $1.start }
        var covered = [Bool](repeating: false, count: n)
        var accepted: [(start: Int, rank: Int32)] = []
        var index = 0
        while index < occurrences.count {
            let rank = occurrences[index].rank
            let length = Int(lengths[Int(rank)])
            var lastEnd = -1
            while index < occurrences.count && occurrences[index].rank == rank {
                let start = Int(occurrences[index].start)
                index += 1
                guard start >= lastEnd else { continue }
                var free = true
                for position in start..<(start + length) where covered[position] {
                    free = false
                    break
                }
                guard free else { continue }
                for position in start..<(start + length) { covered[position] = true }
                accepted.append((start, rank))
                lastEnd = start + length
            }
        }
        accepted.sort { $0.start < $1.start }
        var fragments: [Fragment] = []
        var position = 0
        for (start, rank) in accepted {
            if start > position { fragments.append(.text(position..<start)) }
            fragments.append(.token(candidates[Int(rank)]))
            position = start + Int(lengths[Int(rank)])
        }
        if position < n { fragments.append(.text(position..<n)) }
        return fragments
    }
}
