/// SentencePiece-style encoding (GGUF `llama` vocabularies) as llama.cpp's `llm_tokenizer_spm_session`
/// does it.
///
/// The text (spaces already escaped to `▁`) starts as one symbol per UTF-8 character. Every adjacent
/// pair whose concatenation is a vocabulary token is a candidate; the candidate with the highest
/// token score merges first (ties: the leftmost), and new candidates form with the neighbours. The
/// final symbols are tokens, except single characters missing from the vocabulary, which fall back
/// to their bytes' `<0xXX>` tokens.
struct SentencePieceEncoder: Sendable {
    let vocabulary: Vocabulary
    /// `<0xXX>` token for each byte (or the byte's own one-byte token, llama.cpp's second choice).
    let byteTokens: [TokenID?]

    init(vocabulary: Vocabulary) {
        self.vocabulary = vocabulary
        byteTokens = (0..<256).map { byte -> TokenID? in
            let hex = String(byte, radix: 16, uppercase: true)
            let name = "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
            return vocabulary.id(forText: name) ?? vocabulary.textToID.lookup([UInt8(byte)])
        }
    }

    private struct Candidate: HeapOrdered {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32

        /// Heap order: higher score first, then the leftmost.
        @inline(__always)
        func precedes(_ other: Candidate) -> Bool {
            score > other.score || (score == other.score && left < other.left)
        }
    }

    /// Encodes one raw-text fragment (already `▁`-escaped) and appends its ids to `output`.
    ///
    /// - Parameters:
    ///   - text: The escaped UTF-8 bytes.
    ///   - output: Receives the ids.
    func encode(_ text: UnsafeRawBufferPointer, into output: inout [TokenID]) {
        let n = text.count
        guard n > 0 else { return }
        // Symbols: start, length, previous, next (indices), one per UTF-8 character.
        var start: [Int32] = []
        var length: [Int32] = []
        start.reserveCapacity(n)
        length.reserveCapacity(n)
        var offset = 0
        while offset < n {
            // llama.cpp's unicode_len_utf8: the length a lead byte announces (1 for stray bytes).
            let lead = text[offset]
            let announced = lead < 0xC0 ? 1 : (lead < 0xE0 ? 2 : (lead < 0xF0 ? 3 : 4))
            let size = min(announced, n - offset)
            start.append(Int32(offset))
            length.append(Int32(size))
            offset += size
        }
        let count = start.count
        var previous = (0..<count).map { Int32($0 - 1) }
        var next = (0..<count).map { Int32($0 + 1 == count ? -1 : $0 + 1) }
        var heap = PriorityHeap<Candidate>()
        heap.reserveCapacity(count)

        let table = vocabulary.textToID
        let scores = vocabulary.scores
        func tryAdd(_ left: Int32, _ right: Int32) {
            guard left >= 0, right >= 0 else { return }
            let from = Int(start[Int(left)])
            let size = Int(length[Int(left)] + length[Int(right)])
            guard let token = table.lookup(UnsafeRawBufferPointer(rebasing: text[from..<(from + size)])) else { return }
            heap.push(Candidate(score: scores[Int(token)], left: left, right: right, size: Int32(size)))
        }
        for index in 1..<max(count, 1) { tryAdd(Int32(index - 1), Int32(index)) }

        while let candidate = heap.pop() {
            let left = Int(candidate.left)
            let right = Int(candidate.right)
            // Skip candidates made stale by an earlier merge.
            if length[left] == 0 || length[right] == 0 || length[left] + length[right] != candidate.size { continue }
            length[left] += length[right]
            length[right] = 0
            next[left] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = Int32(left) }
            tryAdd(previous[left], Int32(left))
            tryAdd(Int32(left), next[left])
        }

        var index: Int32 = 0
        while index >= 0 {
            let from = Int(start[Int(index)])
            let size = Int(length[Int(index)])
            let piece = UnsafeRawBufferPointer(rebasing: text[from..<(from + size)])
            if let token = table.lookup(piece) {
                output.append(token)
            } else {
                for byte in piece {
                    if let token = byteTokens[Int(byte)] {
                        output.append(token)
                    } else if let unknown = vocabulary.unknown {
                        // llama.cpp throws here (no byte token); an unknown token keeps hostile files harmless.
                        output.append(unknown)
                    }
                }
            }
            index = next[Int(index)]
        }
    }
}
