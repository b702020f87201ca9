import Testing

@testable import StructuredOutput

@Suite struct GrammarMatcherTests {
    /// expr ::= term (("+" | "-") term)* ; term ::= [0-9]+ | "(" expr ")"
    func arithmetic() throws -> Grammar {
        var b = GrammarBuilder()
        let expr = try b.declare("expr")
        let term = try b.declare("term")
        let digits = try b.plus([.bytes(ByteSet(UInt8(ascii: "0")...UInt8(ascii: "9")))])
        try b.define(term, [[digits], b.literal("(") + [.rule(expr)] + b.literal(")")])
        var op = ByteSet(UInt8(ascii: "+"))
        op.insert(UInt8(ascii: "-"))
        let tail = try b.star([.bytes(op), .rule(term)])
        try b.define(expr, [[.rule(term), tail]])
        return try b.build(root: expr)
    }

    @Test func matchesWholeTextsOnly() throws {
        let g = try arithmetic()
        for ok in ["1", "12+3", "(1+2)-30", "((7))"] {
            #expect(GrammarMatcher.matches(g, Array(ok.utf8)), "\(ok)")
        }
        for bad in ["", "+", "1+", "(1", "1)", "1 + 2", "a"] {
            #expect(!GrammarMatcher.matches(g, Array(bad.utf8)), "\(bad)")
        }
    }

    @Test func reportsTheFirstRefusedByte() throws {
        var m = GrammarMatcher(try arithmetic())
        let refused = m.accept(bytes: Array("12+x".utf8))
        #expect(refused == 3)
        #expect(m.consumed == 0)
        let none = m.accept(bytes: Array("12+(".utf8))
        #expect(none == nil)
        #expect(!m.isComplete)
        #expect(m.allowedBytes.contains(UInt8(ascii: "(")))
        #expect(!m.allowedBytes.contains(UInt8(ascii: ")")))
    }

    @Test func deepRightRecursionRunsInConstantStack() throws {
        var b = GrammarBuilder()
        let root = try b.declare("root")
        try b.define(root, [[try b.star(b.literal("ab"))]])
        var m = GrammarMatcher(try b.build(root: root))
        for _ in 0..<100_000 {
            let a = m.accept(UInt8(ascii: "a"))
            let b = m.accept(UInt8(ascii: "b"))
            #expect(a && b)
        }
        #expect(m.isComplete)
        #expect(m.arena.count < 100)
    }

    @Test func refusesLeftRecursionAndUndefinedRules() throws {
        var b = GrammarBuilder()
        let a = try b.declare("a")
        let n = try b.declare("n")
        try b.define(n, [[], b.literal("x")])
        try b.define(a, [[.rule(n), .rule(a)] + b.literal("y"), b.literal("y")])
        #expect(throws: GrammarError.self) { try b.build(root: a) }
        var c = GrammarBuilder()
        let r = try c.declare("r")
        let u = try c.declare("undefined")
        try c.define(r, [[.rule(u)]])
        do {
            _ = try c.build(root: r)
            Issue.record("built")
        } catch {
            #expect(error.code == .undefinedRule)
        }
    }

    @Test func unicodeClassesMatchExactlyTheirScalars() throws {
        var b = GrammarBuilder()
        let root = try b.declare("root")
        // Greek and CJK, and everything but ASCII letters.
        try b.define(root, [[try b.characterClass([0x391...0x3C9, 0x4E00...0x9FFF])]])
        let g = try b.build(root: root)
        var b2 = GrammarBuilder()
        let root2 = try b2.declare("root")
        try b2.define(root2, [[try b2.characterClass([0x41...0x5A, 0x61...0x7A], negated: true)]])
        let g2 = try b2.build(root: root2)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let v = UInt32.random(in: 0...0x10FFFF, using: &rng)
            guard let scalar = Unicode.Scalar(v) else { continue }
            let bytes = Array(String(Character(scalar)).utf8)
            let inFirst = (0x391...0x3C9).contains(v) || (0x4E00...0x9FFF).contains(v)
            #expect(GrammarMatcher.matches(g, bytes) == inFirst, "U+\(String(v, radix: 16))")
            let letter = (0x41...0x5A).contains(v) || (0x61...0x7A).contains(v)
            #expect(GrammarMatcher.matches(g2, bytes) == !letter, "U+\(String(v, radix: 16))")
        }
        for v: UInt32 in [0x390, 0x391, 0x3C9, 0x3CA, 0x4DFF, 0x4E00, 0x9FFF, 0xA000, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF] {
            let bytes = Array(String(Character(Unicode.Scalar(v)!)).utf8)
            let inFirst = (0x391...0x3C9).contains(v) || (0x4E00...0x9FFF).contains(v)
            #expect(GrammarMatcher.matches(g, bytes) == inFirst, "U+\(String(v, radix: 16))")
            #expect(GrammarMatcher.matches(g2, bytes), "U+\(String(v, radix: 16))")
        }
        // Invalid UTF-8 never matches a class.
        for bad: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80]] {
            #expect(!GrammarMatcher.matches(g2, bad))
        }
    }

    @Test func boundedRepetition() throws {
        for (lo, hi) in [(0, 0), (0, 3), (2, 2), (3, 7), (1, nil), (70, 80)] as [(Int, Int?)] {
            var b = GrammarBuilder()
            let root = try b.declare("root")
            try b.define(root, [[try b.repeated(b.literal("x"), min: lo, max: hi)]])
            let g = try b.build(root: root)
            for n in 0...90 {
                let expected = n >= lo && (hi.map { n <= $0 } ?? true)
                #expect(GrammarMatcher.matches(g, Array(repeating: UInt8(ascii: "x"), count: n)) == expected, "x{\(lo),\(String(describing: hi))} n=\(n)")
            }
        }
    }

    /// Under uniqueItems a text can reach a point where no byte closes the open item; the search
    /// says so (the state unchanged), and the accepting call that keeps items closable refuses the
    /// bytes that lead there.
    @Test func openItemsThatCannotCloseAreFound() throws {
        let dice = try JSONSchemaCompiler().compile(
            text: Array(#"{"type":"array","items":{"type":"integer","minimum":1,"maximum":6},"uniqueItems":true}"#.utf8))
        var m = GrammarMatcher(dice)
        let opened = m.accept(bytes: Array("[3,".utf8)) == nil
        let canClose = m.canCloseOpenItems()
        #expect(opened && canClose)
        var stuck = m
        let three = stuck.accept(bytes: Array("3".utf8)) == nil  // the grammar allows it (3.0 would be 3 again)
        let stuckCanClose = stuck.canCloseOpenItems()
        #expect(three && !stuckCanClose && stuck.consumed == 4)
        let refused = m.acceptKeepingItemsClosable(bytes: Array("3".utf8))
        #expect(!refused && m.consumed == 3)
        let four = m.acceptKeepingItemsClosable(bytes: Array("4".utf8))
        #expect(four && m.consumed == 4)
        let rest = m.accept(bytes: Array(",1,2,5,6".utf8)) == nil
        #expect(rest)
        // All six used: no next item can close, so the comma itself leads nowhere.
        let comma = m.acceptKeepingItemsClosable(bytes: Array(",".utf8))
        let close = m.acceptKeepingItemsClosable(bytes: Array("]".utf8))
        #expect(!comma && close && m.isComplete)

        let people = try JSONSchemaCompiler().compile(
            text: Array(#"{"type":"array","items":{"type":"object","properties":{"n":{"type":"string"}},"required":["n"],"additionalProperties":false},"uniqueItems":true}"#.utf8))
        var p = GrammarMatcher(people)
        let prefix = p.accept(bytes: Array(#"[{"n":"Bo"},{"n":"Bo"#.utf8)) == nil
        let bob = p.canCloseOpenItems()  // "Bob" still can
        #expect(prefix && bob)
        let quote = p.acceptKeepingItemsClosable(bytes: Array(#"""#.utf8))  // {"n":"Bo"} again, and no other key
        #expect(!quote)
        let other = p.acceptKeepingItemsClosable(bytes: Array(#"b"}]"#.utf8))
        #expect(other && p.isComplete)
        // Without checked rules there is nothing to search.
        var plain = GrammarMatcher(try JSONSchemaCompiler().compile(text: Array(#"{"type":"array"}"#.utf8)))
        let repeated = plain.accept(bytes: Array("[1,1".utf8)) == nil
        let plainCanClose = plain.canCloseOpenItems()
        #expect(repeated && plainCanClose)
    }
}
