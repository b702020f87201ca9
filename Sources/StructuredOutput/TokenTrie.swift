/// A vocabulary as a byte trie laid out in preorder over its tokens sorted by their bytes, so a
/// node's subtree is one contiguous range of nodes and of sorted tokens: a walk that rejects a
/// byte skips the whole subtree in one step.
///
/// Tokens with no bytes a grammar could match (control tokens, empty pieces) are left out: a
/// grammar never allows them (end of generation is handled apart).
public final class TokenTrie: Sendable {
    /// The vocabulary's size (token ids run below this).
    public let vocabularySize: Int
    /// Token ids sorted by their bytes (only tokens in the trie).
    let sorted: [Int32]
    /// Each token's bytes, by token id (empty for tokens left out).
    let tokenBytes: [[UInt8]]
    /// Per node: the byte on the edge into it (the root's is unused).
    let edge: [UInt8]
    /// Per node: the index just past its subtree.
    let subtreeEnd: [Int32]
    /// Per node: its tokens in `sorted` are `tokensStart[n]..<tokensEnd[n]`; its subtree's are
    /// `tokensStart[n]..<subtreeTokensEnd[n]`.
    let tokensStart: [Int32]
    let tokensEnd: [Int32]
    let subtreeTokensEnd: [Int32]

    /// How many nodes (the root included).
    public var nodeCount: Int { edge.count }
    /// How many tokens the trie holds.
    public var tokenCount: Int { sorted.count }

    /// Builds the trie.
    ///
    /// - Parameter tokens: Each token's bytes by id; nil (or empty) for a token a grammar may never
    ///   produce.
    public init(tokens: [[UInt8]?]) {
        vocabularySize = tokens.count
        let bytes = tokens.map { $0 ?? [] }
        let ids = (0..<tokens.count).filter { !bytes[$0].isEmpty }.map { Int32($0) }
        let sorted = ids.sorted { a, b in bytes[Int(a)].lexicographicallyPrecedes(bytes[Int(b)]) }
        var edge: [UInt8] = [0]
        var subtreeEnd: [Int32] = [0]
        var tokensStart: [Int32] = [0]
        var tokensEnd: [Int32] = [0]
        var subtreeTokensEnd: [Int32] = [0]
        // The path from the root to the last node made: node indices by depth.
        var path: [Int] = [0]
        var previous: [UInt8] = []
        func close(_ node: Int, tokensSoFar: Int) {
            subtreeEnd[node] = Int32(edge.count)
            subtreeTokensEnd[node] = Int32(tokensSoFar)
        }
        for (index, id) in sorted.enumerated() {
            let b = bytes[Int(id)]
            var common = 0
            while common < b.count, common < previous.count, b[common] == previous[common] { common += 1 }
            // Close the nodes below the common prefix.
            while path.count - 1 > common {
                close(path.removeLast(), tokensSoFar: index)
            }
            for depth in common..<b.count {
                edge.append(b[depth])
                subtreeEnd.append(0)
                tokensStart.append(Int32(index))
                tokensEnd.append(Int32(index))
                subtreeTokensEnd.append(0)
                path.append(edge.count - 1)
            }
            tokensEnd[path.last!] = Int32(index + 1)
            previous = b
        }
        while let node = path.popLast() { close(node, tokensSoFar: sorted.count) }
        self.sorted = sorted
        self.edge = edge
        self.subtreeEnd = subtreeEnd
        self.tokensStart = tokensStart
        self.tokensEnd = tokensEnd
        self.subtreeTokensEnd = subtreeTokensEnd
        self.tokenBytes = bytes
    }

    /// The bytes of token `id` (empty if it is not in the trie).
    public func bytes(of id: Int32) -> [UInt8] {
        id >= 0 && Int(id) < tokenBytes.count ? tokenBytes[Int(id)] : []
    }
}
