/// Byte-level BPE (GGUF `gpt2` vocabularies) as llama.cpp's `llm_tokenizer_bpe_session` does it.
///
/// Each pre-token starts as one symbol per byte; the adjacent pair with the lowest merge rank (the
/// index in `tokenizer.ggml.merges`; ties: the leftmost) merges until no pair has a rank. With
/// `ignoreMerges` (Tekken) a pre-token that is itself a token is emitted whole first, as tiktoken does.
///
/// llama.cpp works on byte-to-unicode strings; here every string that can occur — single bytes, the
/// sides of each merge and their concatenation — is interned once as a symbol id over raw bytes, so
/// a merge look-up is one hash probe on two integers. Ids below the vocabulary size are tokens.
struct BytePairEncoder: Sendable {
    let vocabularySize: Int
    let ignoreMerges: Bool
    /// Raw bytes → symbol id.
    private let symbols: ByteStringTable
    /// The raw bytes of symbols that are not tokens (ids `vocabularySize...`).
    private let extraSymbols: [[UInt8]]
    private let byteSymbols: [Int32]
    private let merges: MergeTable
    /// For a non-token symbol, what llama.cpp emits: a token per single-byte string of its encoding.
    private let singleByteTokens: [TokenID?]

    init(vocabulary: Vocabulary, ignoreMerges: Bool) {
        vocabularySize = vocabulary.count
        self.ignoreMerges = ignoreMerges
        var table = ByteStringTable(capacity: vocabulary.count + vocabulary.mergeCount / 4)
        // Tokens whose text is a byte-to-unicode string, normal tokens first so they win a tie.
        for pass in 0..<2 {
            for id in 0..<vocabulary.count {
                let isNormal = vocabulary.attributes[id].contains(.normal)
                guard (pass == 0) == isNormal else { continue }
                let decoded = vocabulary.withText(of: TokenID(id)) { ByteUnicode.decode($0) }
                if let decoded, !decoded.isEmpty { table.insert(decoded, value: Int32(id)) }
            }
        }
        var extras: [[UInt8]] = []
        func intern(_ bytes: [UInt8]) -> Int32 {
            if let id = table.lookup(bytes) { return id }
            let id = Int32(vocabulary.count + extras.count)
            table.insert(bytes, value: id)
            extras.append(bytes)
            return id
        }
        byteSymbols = (0..<256).map { intern([UInt8($0)]) }
        var mergeTable = MergeTable(capacity: vocabulary.mergeCount)
        vocabulary.forEachMerge { rank, line in
            // llama.cpp splits at the first space after the first byte.
            guard line.count > 1, let space = line.dropFirst().firstIndex(of: 0x20) else { return }
            guard let left = ByteUnicode.decode(line[..<space]), let right = ByteUnicode.decode(line[(space + 1)...]),
                !left.isEmpty, !right.isEmpty
            else { return }  // strings outside the byte mapping can never match a pre-token
            let leftID = intern(left)
            let rightID = intern(right)
            let resultID = intern(left + right)
            mergeTable.insert(left: leftID, right: rightID, rank: Int32(rank), result: resultID)
        }
        symbols = table
        extraSymbols = extras
        merges = mergeTable
        singleByteTokens = (0..<256).map { vocabulary.textToID.lookup([UInt8($0)]) }
    }

    /// Encodes one pre-token and appends its ids to `output`.
    func encode(_ word: UnsafeRawBufferPointer, into output: inout [TokenID]) {
        let n = word.count
        guard n > 0 else { return }
        if ignoreMerges, let id = symbols.lookup(word), Int(id) < vocabularySize {
            output.append(id)
            return
        }
        if n == 1 {
            emit(byteSymbols[Int(word[0])], into: &output)
            return
        }
        if n <= 64 {
            encodeSmall(word, into: &output)
        } else {
            encodeLarge(word, into: &output)
        }
    }

    @inline(__always)
    private func emit(_ symbol: Int32, into output: inout [TokenID]) {
        if Int(symbol) < vocabularySize {
            output.append(symbol)
            return
        }
        // Not a token: llama.cpp looks up each byte of the symbol's byte-to-unicode string alone.
        for byte in ByteUnicode.encode(extraSymbols[Int(symbol) - vocabularySize]) {
            if let token = singleByteTokens[Int(byte)] { output.append(token) }
        }
    }

    /// Short pre-tokens: a rank per adjacent pair, the minimum found by a scan (tiktoken's loop).
    private func encodeSmall(_ word: UnsafeRawBufferPointer, into output: inout [TokenID]) {
        var parts = word.map { byteSymbols[Int($0)] }
        var ranks = [Int32](repeating: .max, count: parts.count - 1)
        var results = [Int32](repeating: 0, count: parts.count - 1)
        for i in 0..<(parts.count - 1) {
            if let merge = merges.lookup(parts[i], parts[i + 1]) {
                ranks[i] = merge.rank
                results[i] = merge.result
            }
        }
        while !ranks.isEmpty {
            var best = 0
            var bestRank = ranks[0]
            for i in 1..<ranks.count where ranks[i] < bestRank {
                bestRank = ranks[i]
                best = i
            }
            guard bestRank != .max else { break }
            parts[best] = results[best]
            parts.remove(at: best + 1)
            ranks.remove(at: best)
            results.remove(at: best)
            if best > 0 {
                let merge = merges.lookup(parts[best - 1], parts[best])
                ranks[best - 1] = merge?.rank ?? .max
                results[best - 1] = merge?.result ?? 0
            }
            if best < ranks.count {
                let merge = merges.lookup(parts[best], parts[best + 1])
                ranks[best] = merge?.rank ?? .max
                results[best] = merge?.result ?? 0
            }
        }
        for part in parts { emit(part, into: &output) }
    }

    private struct Candidate: HeapOrdered {
        var rank: Int32
        var left: Int32
        var right: Int32
        var leftSymbol: Int32
        var rightSymbol: Int32
        var result: Int32

        @inline(__always)
        func precedes(_ other: Candidate) -> Bool { rank < other.rank || (rank == other.rank && left < other.left) }
    }

    /// Long pre-tokens: llama.cpp's linked symbols and priority queue, O(n log n).
    private func encodeLarge(_ word: UnsafeRawBufferPointer, into output: inout [TokenID]) {
        let count = word.count
        var symbol = word.map { byteSymbols[Int($0)] }
        var alive = [Bool](repeating: true, count: count)
        var previous = (0..<count).map { Int32($0 - 1) }
        var next = (0..<count).map { Int32($0 + 1 == count ? -1 : $0 + 1) }
        var heap = PriorityHeap<Candidate>()
        func add(_ left: Int32, _ right: Int32) {
            guard left >= 0, right >= 0, let merge = merges.lookup(symbol[Int(left)], symbol[Int(right)]) else { return }
            heap.push(Candidate(rank: merge.rank, left: left, right: right, leftSymbol: symbol[Int(left)],
                rightSymbol: symbol[Int(right)], result: merge.result))
        }
        for i in 1..<count { add(Int32(i - 1), Int32(i)) }
        while let candidate = heap.pop() {
            let left = Int(candidate.left)
            let right = Int(candidate.right)
            guard alive[left], alive[right], next[left] == candidate.right, symbol[left] == candidate.leftSymbol,
                symbol[right] == candidate.rightSymbol
            else { continue }
            symbol[left] = candidate.result
            alive[right] = false
            next[left] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = Int32(left) }
            add(previous[left], Int32(left))
            add(Int32(left), next[left])
        }
        var index: Int32 = 0
        while index >= 0 {
            emit(symbol[Int(index)], into: &output)
            index = next[Int(index)]
        }
    }
}
