/// One sequence's grammar state during decoding: which tokens may come next (a mask applied to
/// the logits before sampling), whether the text may end here, and the state after a token.
///
/// End of generation is allowed only where the text so far is complete; a token is allowed only
/// when every one of its bytes is.
public struct GrammarConstraint: Sendable {
    public let cache: TokenMaskCache
    public private(set) var matcher: GrammarMatcher
    /// Tokens that end generation (allowed exactly when the text is complete).
    public let endTokens: [Int32]

    public init(cache: TokenMaskCache, endTokens: [Int32]) {
        self.cache = cache
        self.matcher = GrammarMatcher(cache.automaton)
        self.endTokens = endTokens
    }

    /// Whether the text so far is complete.
    public var isComplete: Bool { matcher.isComplete }
    /// Whether nothing but the end may follow.
    public var mustEnd: Bool { matcher.isDead }

    /// The allowed tokens as a bitset over token ids (`(vocabularySize + 63) / 64` words).
    public mutating func allowedTokens() -> [UInt64] {
        let trie = cache.trie
        var mask = [UInt64](repeating: 0, count: cache.words)
        var groups: [[Int32]: (complete: Bool, stacks: [Int32])] = [:]
        for stack in matcher.stacks {
            var key: [Int32] = []
            var node = stack
            while node >= 0, key.count < TokenMaskCache.depth {
                key.append(matcher.arena.positions[Int(node)])
                node = matcher.arena.parents[Int(node)]
            }
            groups[key, default: (node == StackArena.root, [])].stacks.append(stack)
        }
        for (key, group) in groups {
            let stacks = group.stacks
            let entry = cache.entry(key, complete: group.complete)
            for w in mask.indices { mask[w] |= entry.accepted[w] }
            guard !entry.dependent.isEmpty else { continue }
            // Check the context-dependent tokens against the real stacks, in sorted order so
            // consecutive tokens reuse the stack sets of their common prefix.
            let mark = matcher.arena.count
            var prefix: [UInt8] = []
            // states[d]: the stacks after prefix[..<d], and whether the text is complete there.
            var states: [(stacks: [Int32], complete: Bool)] = [(stacks, false)]
            for index in entry.dependent {
                let id = trie.sorted[Int(index)]
                if mask[Int(id) >> 6] & (1 << UInt64(id & 63)) != 0 { continue }
                let bytes = trie.tokenBytes[Int(id)]
                var common = 0
                while common < bytes.count, common < prefix.count, bytes[common] == prefix[common] { common += 1 }
                states.removeSubrange((common + 1)...)
                prefix.removeSubrange(common...)
                while prefix.count < bytes.count, !states[prefix.count].stacks.isEmpty {
                    let byte = bytes[prefix.count]
                    matcher.arena.truncateText(to: matcher.consumed + prefix.count)
                    let out = matcher.arena.advance(states[prefix.count].stacks, byte, cache.automaton)
                    states.append((out.stacks, out.accepting))
                    prefix.append(byte)
                }
                if prefix.count == bytes.count, !states[bytes.count].stacks.isEmpty || states[bytes.count].complete {
                    mask[Int(id) >> 6] |= 1 << UInt64(id & 63)
                }
            }
            matcher.arena.rollback(to: mark)
            matcher.arena.truncateText(to: matcher.consumed)
        }
        if matcher.isComplete {
            for id in endTokens where Int(id) < trie.vocabularySize {
                mask[Int(id) >> 6] |= 1 << UInt64(id & 63)
            }
        }
        return mask
    }

    /// Moves past token `id`; false when the grammar does not allow it (the state is unchanged).
    ///
    /// With checked rules (`ValueCheck`), also false for a token the mask allows but after which an
    /// open item could not close any more (`GrammarMatcher.canCloseOpenItems`): the sampler then
    /// draws another.
    @discardableResult
    public mutating func accept(token id: Int32) -> Bool {
        if endTokens.contains(id) { return matcher.isComplete }
        let bytes = cache.trie.bytes(of: id)
        guard !bytes.isEmpty else { return false }
        if cache.automaton.hasChecks { return matcher.acceptKeepingItemsClosable(bytes: bytes) }
        return matcher.accept(bytes: bytes) == nil
    }
}
