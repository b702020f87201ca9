import Foundation
import Testing
import TestSupport

@testable import StructuredOutput

@Suite struct GBNFParserTests {
    func load(_ name: String) throws -> Grammar {
        let text = try String(contentsOfFile: Fixtures.path("gbnf/\(name).gbnf"), encoding: .utf8)
        return try GBNFParser().parse(text)
    }

    @Test(arguments: ["arithmetic", "c", "chess", "japanese", "json", "json_arr", "list"])
    func llamaCppGrammarsParse(name: String) throws {
        let grammar = try load(name)
        #expect(grammar.rules.count > 1)
        // The printed grammar parses again to the same language on a sample (round trip).
        _ = try GBNFParser().parse(grammar.description.replacingOccurrences(of: "\(grammar.rules[grammar.root].name) ::=", with: "root ::=", options: [], range: nil))
    }

    @Test func jsonGrammarMatchesJSON() throws {
        let g = try load("json")
        let good = [
            #"{}"#, #"{"a": 1}"#, #"{"a": [1, 2.5, -3e12, "x\n\"y\u00e9"], "b": {"c": null, "d": true}}"#,
            "{\n  \"k\": \"caf\u{e9} 東京\"\n}",
        ]
        for text in good { #expect(GrammarMatcher.matches(g, Array(text.utf8)), "\(text)") }
        let bad = [#"[]"#, #"{"a": }"#, #"{"a": 01x}"#, "{\"a\": \"\u{1}\"}", #"{"a" 1}"#, #"{'a': 1}"#, #"{"a": tru}"#]
        for text in bad { #expect(!GrammarMatcher.matches(g, Array(text.utf8)), "\(text)") }
    }

    @Test func arithmeticAndLists() throws {
        let list = try load("list")
        #expect(GrammarMatcher.matches(list, Array("- one\n- two\n".utf8)))
        let c = try load("c")
        #expect(GrammarMatcher.matches(c, Array("int main(){int x = 1;return x;}".utf8)))
        #expect(!GrammarMatcher.matches(c, Array("int main(){int x = 1;return x;".utf8)))
        let japanese = try load("japanese")
        #expect(try GBNFParser().parse("root ::= [ぁ-ゟ]+").rules.count >= 1)
        _ = japanese
    }

    @Test func syntaxAndStructureErrors() throws {
        let cases: [(String, GrammarError.Code)] = [
            ("root ::= foo", .undefinedRule),
            ("rot ::= \"a\"", .undefinedRule),
            ("root ::= root \"a\" | \"b\"", .leftRecursion),
            ("root ::= x\nx ::= y \"a\"\ny ::= \"\" | x", .leftRecursion),
            ("root ::= \"a", .syntax),
            ("root ::= [a-", .syntax),
            ("root ::= (\"a\"", .syntax),
            ("root ::= \"a\"{3,2}", .syntax),
            ("root ::= * \"a\"", .syntax),
            ("root ::= \"\\q\"", .syntax),
            ("root ::= <[1000]>", .syntax),
            ("root ::= \"a\"\nroot ::= \"b\"", .syntax),
            ("root ::= [z-a]", .syntax),
            ("root = \"a\"", .syntax),
            ("root ::= \"a\"{99999999999}", .tooLarge),
            ("root ::= " + String(repeating: "(", count: 5000) + "\"a\"" + String(repeating: ")", count: 5000), .tooLarge),
            ("root ::= [^\\x00-\\U0010FFFF]", .unsatisfiable),
        ]
        for (text, code) in cases {
            do {
                _ = try GBNFParser().parse(text)
                Issue.record("parsed: \(text.prefix(60))")
            } catch {
                #expect(error.code == code, "\(text.prefix(60)): \(error)")
            }
        }
        do {
            _ = try GBNFParser().parse("root ::= a\na ::= \"x\" b\n")
        } catch {
            #expect(error.keyword == "b")
            #expect(error.location == "2:11")
        }
    }

    @Test func hostileGrammarsAreBoundedAndQuick() throws {
        let start = ContinuousClock.now
        // Repetition of repetition builds as chains of rules (linear in the counts, not their product).
        let nested = try GBNFParser().parse("root ::= (((\"a\"{10000}){10000}){10000})")
        #expect(nested.rules.count < 40_000)
        for text in [
            "root ::= " + String(repeating: "\"ab\" ", count: 200_000),
            String(repeating: "x", count: 2 << 20),
        ] {
            #expect(throws: GrammarError.self) { try GBNFParser().parse(text) }
        }
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func escapesMatchTheirScalars() throws {
        let g = try GBNFParser().parse(#"root ::= "\x41\u00e9\U0001F600\n\t\\\"" [\]\-]"#)
        #expect(GrammarMatcher.matches(g, Array("Aé😀\n\t\\\"]".utf8)))
        #expect(GrammarMatcher.matches(g, Array("Aé😀\n\t\\\"-".utf8)))
        #expect(!GrammarMatcher.matches(g, Array("Aé😀\n\t\\\"a".utf8)))
    }
}
