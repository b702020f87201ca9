import Testing

@testable import StructuredOutput

@Suite struct RegexCompilerTests {
    /// Whether the pattern matches; a pattern that matches nothing at all (`[]`) throws
    /// `.unsatisfiable`, which counts as no match.
    func matches(_ pattern: String, _ text: String) throws -> Bool {
        do throws(GrammarError) {
            return GrammarMatcher.matches(try RegexCompiler().grammar(for: pattern), Array(text.utf8))
        } catch where error.code == .unsatisfiable {
            return false
        }
    }

    @Test(arguments: [
        ("^a*$", "aaa", true), ("^a*$", "aab", false), ("^a*$", "", true), ("a+", "xxaxx", true), ("a+", "xxx", false),
        ("^(a|bc){2,3}$", "abca", true), ("^(a|bc){2,3}$", "a", false), ("^(a|bc){2,3}$", "aaaa", false),
        ("^[^a-c]\\d$", "z9", true), ("^[^a-c]\\d$", "b9", false), ("^(a?b?)*$", "abba", true),
        ("^(a?b?)*$", "abca", false), ("^.$", "\n", false), ("^.$", "é", true), ("^.$", "😀", true),
        ("^a$|^b$", "b", true), ("^a$|^b$", "ab", false), ("^\\u00e9$", "é", true), ("^\\u{1F600}$", "😀", true),
        ("x{2}", "axxb", true), ("x{2}", "axb", false), ("^(?:a|b)+c?$", "ababc", true), ("^(?<n>ab)+$", "abab", true),
        ("^[\\w-]+$", "a-b_c", true), ("^[\\w-]+$", "a b", false), ("^\\s$", "\u{3000}", true), ("^\\S$", " ", false),
        ("^[\\b]$", "\u{8}", true), ("^\\x41\\t$", "A\t", true), ("^a{2,}$", "a", false), ("^a{2,}$", "aaaa", true),
        ("^a{0}b$", "b", true), ("^[]$", "", false), ("^[^]$", "\n", true), ("^\\.\\*\\/$", ".*/", true),
        ("^a+?b*?$", "aab", true), ("^(|a)$", "", true), ("^(a*)*b$", "aaab", true), ("^(a*)+$", "", true),
        ("(^a)", "ab", true), ("(^a)", "ba", false), ("^[a-]$", "-", true), ("^[\\d-z]$", "-", true), ("c$", "abc", true), ("c$", "cab", false), ("^c", "cab", true),
    ])
    func matchesLikeECMAScript(_ pattern: String, _ text: String, _ expected: Bool) throws {
        #expect(try matches(pattern, text) == expected, "\(pattern) on \(text)")
    }

    @Test(arguments: [
        ("(?=a)", GrammarError.Code.unsupported), ("(?!a)", .unsupported), ("(?<=a)b", .unsupported),
        ("(?<!a)b", .unsupported), ("(a)\\1", .unsupported), ("\\k<x>", .unsupported), ("a\\b", .unsupported),
        ("\\p{L}", .unsupported), ("a^b", .unsupported), ("a(^b)", .unsupported), ("(a$)b", .unsupported), ("(", .badPattern), ("[a", .badPattern),
        ("*", .badPattern), ("a**", .badPattern), ("a{3,2}", .badPattern), ("\\", .badPattern), (")", .badPattern),
        ("[z-a]", .badPattern), ("\\q", .badPattern), ("a{99999}", .tooLarge), ("(a{1000}){1000}", .tooLarge),
        ("((a{100}){100}){100}", .tooLarge),
    ])
    func refuses(_ pattern: String, _ code: GrammarError.Code) {
        do throws(GrammarError) {
            _ = try RegexCompiler().grammar(for: pattern)
            Issue.record("\(pattern) compiled")
        } catch {
            #expect(error.code == code, "\(pattern): \(error)")
        }
    }

    @Test func hostilePatternsFailFast() {
        let clock = ContinuousClock()
        let hostile = [
            String(repeating: "(", count: 10_000) + "a" + String(repeating: ")", count: 10_000),
            String(repeating: "(?:", count: 10_000) + String(repeating: ")", count: 10_000),
            "(a{1000}){1000}", String(repeating: "a{10000}", count: 100),
        ]
        for p in hostile {
            let elapsed = clock.measure { _ = try? RegexCompiler().grammar(for: p) }
            #expect(elapsed < .seconds(1), "\(p.prefix(20)) took \(elapsed)")
            #expect(throws: GrammarError.self) { try RegexCompiler().grammar(for: p) }
        }
        // Nested stars are legal and cheap.
        let elapsed = clock.measure { _ = try? RegexCompiler().grammar(for: "((((a*)*)*)*){10000}") }
        #expect(elapsed < .seconds(1))
    }

    @Test func jsonStringsEscapeWhatJSONMustEscape() throws {
        let g = try RegexCompiler().jsonStringGrammar(for: "^a\"b\\\\c\\n[\\u0000-\\u001f]$")
        #expect(GrammarMatcher.matches(g, Array(#""a\"b\\c\n\u001F""#.utf8)))
        #expect(GrammarMatcher.matches(g, Array(#""a\"b\\c\n\t""#.utf8)))
        #expect(!GrammarMatcher.matches(g, Array("\"a\"b\\c\n\t\"".utf8)))
        #expect(!GrammarMatcher.matches(g, Array(#""a\"b\\c\n ""#.utf8)))
        // Unanchored sides accept any JSON string character, escaped or not.
        let free = try RegexCompiler().jsonStringGrammar(for: "x")
        #expect(GrammarMatcher.matches(free, Array(#""\u0041\"x\n""#.utf8)))
        #expect(!GrammarMatcher.matches(free, Array(#""\u0041\"\n""#.utf8)))
        #expect(!GrammarMatcher.matches(free, Array("\"x\"\"".utf8)))
    }
}
