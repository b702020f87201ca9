import Testing

@testable import StructuredOutput

@Suite struct JSONNodeTests {
    @Test func keepsMemberOrderAndNumberLexemes() throws {
        let node = try JSONNode.parse(#"{"b": 1.0, "a": [1, 12345678901234567890123, -0, 2.5e3], "c": null}"#)
        #expect(node.members?.map(\.key) == ["b", "a", "c"])
        #expect(node["b"]?.numberValue?.lexeme == "1.0")
        #expect(node["b"]?.numberValue?.isInteger == true)
        #expect(node["b"]?.numberValue?.int == 1)
        let big = try #require(node["a"]?.elements?[1].numberValue)
        #expect(big.lexeme == "12345678901234567890123")
        #expect(big.int == nil)
        #expect(node["a"]?.elements?[3].numberValue?.int == 2500)
        #expect(node.serialized() == #"{"b":1.0,"a":[1,12345678901234567890123,-0,2.5e3],"c":null}"#)
    }

    @Test func semanticEqualityFollowsJSONSchema() throws {
        let a = try JSONNode.parse(#"{"x": 1, "y": [1.0, "s"]}"#)
        let b = try JSONNode.parse(#"{"y": [1, "s"], "x": 1.00}"#)
        #expect(a.isSemanticallyEqual(to: b))
        #expect(a != b)
        #expect(!(try JSONNode.parse("1")).isSemanticallyEqual(to: try JSONNode.parse("true")))
        #expect(!(try JSONNode.parse("[1]")).isSemanticallyEqual(to: try JSONNode.parse("[1, 1]")))
        #expect((try JSONNode.parse("100")).isSemanticallyEqual(to: try JSONNode.parse("1e2")))
        #expect((try JSONNode.parse("0")).isSemanticallyEqual(to: try JSONNode.parse("-0.0")))
    }

    @Test func decodesEscapesAndUnicode() throws {
        let node = try JSONNode.parse(#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00é""#)
        #expect(node.stringValue == "a\"\\/\u{8}\u{C}\n\r\té😀é")
        #expect(node.serialized() == #""a\"\\/\b\f\n\r\té😀é""#)
        #expect(try JSONNode.parse(node.serialized()) == node)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul", "\"\\x\"", "\"\\ud800\"",
        "\"\\udc00\"", "\"a\nb\"", "[1] 2", "{\"a\" 1}", "{1:2}", "\"\u{1}\"", "{\"a\":1,\"a\":2}", "NaN", "[", "\"",
    ])
    func refusesMalformedText(_ text: String) {
        #expect(throws: GrammarError.self) { try JSONNode.parse(text) }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: GrammarError.self) { try JSONNode.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: GrammarError.self) { try JSONNode.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
    }

    @Test func boundsNestingWithoutRecursion() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: GrammarError.self) { try JSONNode.parse(deep) }
        let ok = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(throws: Never.self) { try JSONNode.parse(ok) }
        do throws(GrammarError) {
            _ = try JSONNode.parse(deep)
        } catch {
            #expect(error.code == .tooLarge)
        }
    }

    @Test func neverTrapsOnArbitraryBytes() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("{}[]\",:0123456789-+.eEtrufalsn\\u \n".utf8) + [0xC3, 0xFF, 0x00]
        for _ in 0..<3000 {
            let count = Int.random(in: 0..<24, using: &rng)
            let bytes = (0..<count).map { _ in alphabet.randomElement(using: &rng)! }
            _ = try? JSONNode.parse(bytes)
        }
    }

    @Test func prettyPrintsLikePython() throws {
        let node = try JSONNode.parse(#"{"a":[1,{"b":null}],"c":{}}"#)
        #expect(node.serialized(indent: 2) == "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n  \"c\": {}\n}")
    }
}
