import Foundation
import Testing
import TestSupport

@testable import StructuredOutput

/// The mask must equal the brute-force answer: token t is allowed iff the matcher accepts all of
/// its bytes from the current state (or t ends generation and the text is complete).
@Suite struct TokenMaskTests {
    func bruteForce(_ constraint: GrammarConstraint, _ vocabulary: [[UInt8]?], end: Int32) -> [Bool] {
        vocabulary.indices.map { id -> Bool in
            if Int32(id) == end { return constraint.isComplete }
            guard let bytes = vocabulary[id], !bytes.isEmpty else { return false }
            return constraint.matcher.allows(bytes)
        }
    }

    func check(grammar: Grammar, vocabulary: [[UInt8]?], end: Int32, steps: Int, seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let cache = TokenMaskCache(automaton: GrammarAutomaton(grammar), trie: TokenTrie(tokens: vocabulary))
        for _ in 0..<3 {
            var constraint = GrammarConstraint(cache: cache, endTokens: [end])
            for _ in 0..<steps {
                let mask = constraint.allowedTokens()
                let expected = bruteForce(constraint, vocabulary, end: end)
                var allowed: [Int32] = []
                for id in vocabulary.indices {
                    let bit = mask[id >> 6] & (1 << UInt64(id & 63)) != 0
                    #expect(bit == expected[id], "token \(id) \(String(decoding: vocabulary[id] ?? [], as: UTF8.self))")
                    if bit { allowed.append(Int32(id)) }
                }
                // A token the mask allows may still be refused when an open unique item could not
                // close after it; the state is unchanged then, and another is drawn.
                allowed.shuffle(using: &random)
                guard let pick = allowed.first(where: { $0 == end || constraint.accept(token: $0) }), pick != end else { break }
            }
        }
    }

    /// Every string of 1–3 bytes over an alphabet, plus some longer ones and a control token.
    func vocabulary(_ alphabet: String, extra: [String]) -> [[UInt8]?] {
        let a = Array(alphabet.utf8)
        var v: [[UInt8]?] = [nil]  // id 0: a control token (end)
        for x in a { v.append([x]) }
        for x in a { for y in a { v.append([x, y]) } }
        for x in a { for y in a { for z in a.prefix(4) { v.append([x, y, z]) } } }
        for e in extra { v.append(Array(e.utf8)) }
        v.append(Array("1".utf8))  // a duplicate piece
        return v
    }

    @Test func arithmeticMasksEqualBruteForce() throws {
        let g = try GBNFParser().parse("root ::= expr\nexpr ::= term ((\"+\" | \"-\") term)*\nterm ::= [0-9]+ | \"(\" expr \")\"")
        check(grammar: g, vocabulary: vocabulary("0123+-()x", extra: ["(((", "12345", "+(", "1)+(2"]), end: 0, steps: 30, seed: 1)
    }

    @Test func jsonMasksEqualBruteForce() throws {
        let text = try String(contentsOfFile: Fixtures.path("gbnf/json.gbnf"), encoding: .utf8)
        let g = try GBNFParser().parse(text)
        let extra = ["\": ", "\",", "{\"", "\"}", "true", "null", "\\u00", "é", "\u{e9}\"", " {\n", "\n  ", "\"a\": [1, 2]}", "\u{1F600}"]
        var vocab = vocabulary("{}[]\":, a1\\n.-e", extra: extra)
        // A multi-byte character split across tokens.
        vocab.append([0xC3])
        vocab.append([0xA9, 0x22])
        check(grammar: g, vocabulary: vocab, end: 0, steps: 40, seed: 2)
    }

    /// uniqueItems: tokens that close a duplicate item (alone or with what follows) are masked,
    /// as the byte-level matcher refuses them, at every step of random walks.
    @Test func uniqueItemMasksEqualBruteForce() throws {
        let g = try JSONSchemaCompiler().compile(
            text: Array(#"{"type":"object","properties":{"t":{"type":"array","items":{"anyOf":[{"type":"string","maxLength":2},{"type":"integer"},{"type":"array","uniqueItems":true,"maxItems":2}]},"uniqueItems":true}},"required":["t"],"additionalProperties":false}"#.utf8))
        let extra = ["{\"t\":[", "\"a\",", "\"a\"]", "\"a\"", "1,", "1]", "1]}", ",1", ",\"a\"", "[1,", "[1]", "],[", "]]}", ",1.0", "\"\\u0061\""]
        check(grammar: g, vocabulary: vocabulary("{}[]\":,t1a2.0", extra: extra), end: 0, steps: 40, seed: 3)
        check(grammar: g, vocabulary: vocabulary("{}[]\":,t1a2.0", extra: extra), end: 0, steps: 40, seed: 4)
    }

    @Test func endIsAllowedOnlyWhenComplete() throws {
        let g = try GBNFParser().parse("root ::= \"ab\" \"c\"?")
        let vocab: [[UInt8]?] = [nil, Array("a".utf8), Array("b".utf8), Array("c".utf8), Array("abc".utf8)]
        let cache = TokenMaskCache(automaton: GrammarAutomaton(g), trie: TokenTrie(tokens: vocab))
        var c = GrammarConstraint(cache: cache, endTokens: [0])
        var mask = c.allowedTokens()
        #expect(mask[0] == 0b10010)
        var ok = c.accept(token: 0)
        #expect(!ok)
        ok = c.accept(token: 1)
        #expect(ok)
        mask = c.allowedTokens()
        #expect(mask[0] == 0b00100)
        ok = c.accept(token: 2)
        #expect(ok)
        mask = c.allowedTokens()
        #expect(mask[0] == 0b01001)
        ok = c.accept(token: 3)
        #expect(ok)
        #expect(c.mustEnd)
        mask = c.allowedTokens()
        #expect(mask[0] == 0b00001)
    }
}
