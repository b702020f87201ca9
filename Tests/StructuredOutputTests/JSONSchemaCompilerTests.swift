import Foundation
import Testing
import TestSupport

@testable import StructuredOutput

@Suite struct JSONSchemaCompilerTests {
    func grammar(_ schema: String) throws(GrammarError) -> Grammar {
        try JSONSchemaCompiler().compile(text: Array(schema.utf8))
    }

    func accepts(_ g: Grammar, _ text: String) -> Bool {
        GrammarMatcher.matches(g, Array(text.utf8))
    }

    func code(_ schema: String) -> GrammarError.Code? {
        do throws(GrammarError) {
            _ = try grammar(schema)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func objectsAcceptAnyOrderEachKeyOnceAndRequiredKeys() throws {
        let g = try grammar(
            #"{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},"c":{"type":"boolean"}},"required":["a","b"],"additionalProperties":false}"#
        )
        for ok in [#"{"a":1,"b":"x"}"#, #"{"b":"x","a":1}"#, #"{"c":true,"b":"","a":-3}"#, "{ \"a\": 1, \"b\": \"x\" }",
            "{\n  \"b\": \"x\",\n  \"a\": 1\n}"]
        {
            #expect(accepts(g, ok), "\(ok)")
        }
        for bad in [#"{"a":1}"#, #"{"a":1,"b":"x","a":2}"#, #"{"a":1,"b":"x","d":1}"#, #"{"a":"1","b":"x"}"#, "{}",
            #"{"a":1,"b":"x",}"#, "{\"a\":1,          \"b\":\"x\"}"]
        {
            #expect(!accepts(g, bad), "\(bad)")
        }
    }

    @Test func additionalKeysMustDifferFromNamedKeys() throws {
        let g = try grammar(
            #"{"properties":{"ab":{"type":"integer"},"a\"b":{"type":"null"}},"additionalProperties":{"type":"string"}}"#)
        #expect(accepts(g, #"{"ab":1,"a":"x","abc":"y","":"z"}"#))
        #expect(accepts(g, #"{"a\"b":null,"b":"x"}"#))
        #expect(!accepts(g, #"{"ab":"x"}"#))
        #expect(!accepts(g, #"{"a\"b":"x"}"#))
        #expect(!accepts(g, #"{"x":1}"#))
        // Many properties: the declared order only, still exact.
        let many = (0..<12).map { "\"p\($0)\":{\"type\":\"integer\"}" }.joined(separator: ",")
        let h = try grammar(#"{"properties":{\#(many)},"required":["p3"],"additionalProperties":false}"#)
        #expect(accepts(h, #"{"p1":1,"p3":2,"p11":3}"#))
        #expect(!accepts(h, #"{"p1":1}"#))
        #expect(!accepts(h, #"{"p3":1,"p3":2}"#))
    }

    @Test func integerBoundsAreExact() throws {
        let g = try grammar(#"{"type":"integer","minimum":-15,"exclusiveMaximum":130.0}"#)
        for v in -40...200 {
            #expect(accepts(g, String(v)) == (v >= -15 && v < 130), "\(v)")
        }
        #expect(accepts(g, "7.0"))
        #expect(accepts(g, "-0"))
        #expect(!accepts(g, "7.5"))
        #expect(!accepts(g, "007"))
        #expect(!accepts(g, "1e2"))
        let wide = try grammar(#"{"type":"integer","minimum":1000000000000000000000,"maximum":1000000000000000000005}"#)
        #expect(accepts(wide, "1000000000000000000003"))
        #expect(!accepts(wide, "1000000000000000000006"))
    }

    @Test func numberBoundsAreExact() throws {
        let g = try grammar(#"{"type":"number","exclusiveMinimum":-1.25,"maximum":3.5}"#)
        for (text, ok) in [("-1.25", false), ("-1.24", true), ("-1.2500001", false), ("-1.2", true), ("3.5", true),
            ("3.50000", true), ("3.5000001", false), ("0", true), ("-0.0", true), ("4", false), ("-2", false), ("3", true)]
        {
            #expect(accepts(g, text) == ok, "\(text)")
        }
        let free = try grammar(#"{"type":"number"}"#)
        #expect(accepts(free, "-1.5e+10"))
        #expect(!accepts(free, "1."))
    }

    @Test func stringsCountCodePointsAndHonourEscapes() throws {
        let g = try grammar(#"{"type":"string","minLength":2,"maxLength":3}"#)
        #expect(accepts(g, #""ab""#))
        #expect(accepts(g, #""😀é""#))
        #expect(accepts(g, #""\ud83d\ude00\n""#))
        #expect(!accepts(g, #""😀""#))
        #expect(!accepts(g, #""abcd""#))
        #expect(!accepts(g, #""\ud83d""#))
        #expect(!accepts(g, "\"a\nb\""))
        let p = try grammar(#"{"type":"string","pattern":"^[a-z]+\"$"}"#)
        #expect(accepts(p, #""abc\"""#))
        #expect(!accepts(p, #""abc""#))
    }

    /// A pattern with length bounds it does not imply: every text over a small alphabet up to 5
    /// characters is accepted exactly when the pattern alone accepts it and its length is in bounds.
    @Test func patternsWithLengthBoundsAreExact() throws {
        let patterns = ["^[ab]+(-[ab]+)*$", "^/", "b$", "a", "^(/[^/]*)*$", "^(a|ab)(b|)$", "(a-)?b{1,2}", "^a*$|^b/"]
        let bounds: [(Int, Int?)] = [(0, 3), (2, 4), (3, nil), (0, 0), (5, 5), (1, 1)]
        var texts = [""]
        var frontier = [""]
        for _ in 0..<5 {
            frontier = frontier.flatMap { t in ["a", "b", "-", "/"].map { t + $0 } }
            texts += frontier
        }
        for pattern in patterns {
            let alone = try RegexCompiler().jsonStringGrammar(for: pattern)
            let escaped = pattern.replacingOccurrences(of: "\\", with: "\\\\")
            for (minLength, maxLength) in bounds {
                let max = maxLength.map { #","maxLength":\#($0)"# } ?? ""
                let schema = #"{"type":"string","pattern":"\#(escaped)","minLength":\#(minLength)\#(max)}"#
                let g: Grammar
                do throws(GrammarError) {
                    g = try grammar(schema)
                } catch {
                    // Bounds that leave no string are refused as unsatisfiable.
                    #expect(error.code == .unsatisfiable, "\(schema): \(error)")
                    #expect(!texts.contains { t in accepts(alone, "\"\(t)\"") && t.count >= minLength && t.count <= (maxLength ?? .max) })
                    continue
                }
                for t in texts {
                    let expected = accepts(alone, "\"\(t)\"") && t.count >= minLength && t.count <= (maxLength ?? .max)
                    #expect(accepts(g, "\"\(t)\"") == expected, "\(schema) on \(t)")
                }
            }
        }
        // The unanchored sides take any spelling, each escape one character.
        let g = try grammar(#"{"type":"string","pattern":"^/","maxLength":3}"#)
        for ok in [#""/\"a""#, #""/\u00e9a""#, #""/\ud83d\ude00""#, #""/""#] { #expect(accepts(g, ok), "\(ok)") }
        for bad in [#""/\u00e9ab""#, #""a/""#, #""/abc""#] { #expect(!accepts(g, bad), "\(bad)") }
        // Repeated nullable parts (transitions growing with the square of the positions) are refused
        // fast, naming the pattern.
        let clock = ContinuousClock()
        for pattern in ["^(a?b?c?){0,2000}$", "^(a?b?c?){1000}$", "(x?){3000}"] {
            var thrown: GrammarError?
            let elapsed = clock.measure {
                do throws(GrammarError) { _ = try grammar(#"{"type":"string","pattern":"\#(pattern)","maxLength":3}"#) } catch { thrown = error }
            }
            #expect(thrown?.code == .tooLarge && thrown?.keyword == "pattern", "\(pattern): \(String(describing: thrown))")
            #expect(elapsed < .seconds(1), "\(pattern): \(elapsed)")
        }
        // A pattern automaton times the lengths past the limits is refused, naming maxLength.
        do throws(GrammarError) {
            _ = try grammar(#"{"type":"string","pattern":"(a|b|c|d|e|f|g|h)*x(a|b|c|d|e|f|g|h)*","maxLength":9000}"#)
            Issue.record("a huge bounded pattern compiled")
        } catch {
            #expect(error.code == .tooLarge && error.keyword == "maxLength", "\(error)")
        }
    }

    /// patternProperties beside additionalProperties false: the other keys are exactly the pattern's.
    @Test func patternPropertiesWithNoOtherKeys() throws {
        let g = try grammar(
            #"{"type":"object","properties":{"id":{"type":"integer"}},"patternProperties":{"^[A-Z_][A-Z0-9_]*$":{"type":"string","maxLength":3}},"additionalProperties":false,"required":["id"]}"#
        )
        for ok in [#"{"id":1}"#, #"{"id":1,"PATH":"abc"}"#, #"{"HOME":"x","id":2,"A_1":""}"#] { #expect(accepts(g, ok), "\(ok)") }
        for bad in [#"{"id":1,"path":"x"}"#, #"{"id":1,"PATH":"abcd"}"#, #"{"id":1,"PATH":2}"#, #"{"PATH":"x"}"#, #"{"id":1,"1A":"x"}"#] {
            #expect(!accepts(g, bad), "\(bad)")
        }
        // In allOf: the other clause's additionalProperties applies to the pattern's keys too.
        let h = try grammar(
            #"{"allOf":[{"patternProperties":{"^x":{"type":"integer"}},"additionalProperties":false},{"additionalProperties":{"minimum":10}}]}"#)
        #expect(accepts(h, #"{"x1":10,"xy":11}"#))
        #expect(!accepts(h, #"{"x1":9}"#))
        #expect(!accepts(h, #"{"y":10}"#))
        // Where the grammar would need a pattern's complement or an intersection: refused, named.
        for schema in [
            #"{"patternProperties":{"^x":{"type":"integer"}}}"#,
            #"{"patternProperties":{"^x":{},"^y":{}},"additionalProperties":false}"#,
            #"{"properties":{"xa":{}},"patternProperties":{"^x":{"type":"integer"}},"additionalProperties":false}"#,
        ] {
            do throws(GrammarError) {
                _ = try grammar(schema)
                Issue.record("\(schema) compiled")
            } catch {
                #expect(error.code == .unsupported && error.keyword == "patternProperties", "\(schema): \(error)")
            }
        }
        // An empty patternProperties is nothing.
        #expect(accepts(try grammar(#"{"patternProperties":{}}"#), #"{"a":1}"#))
    }

    @Test func constAndEnumCompareSemantically() throws {
        let g = try grammar(#"{"const":{"a":[1,"x"],"b":null}}"#)
        #expect(accepts(g, #"{"b":null,"a":[1.0,"x"]}"#))
        #expect(accepts(g, #"{ "a": [ 1, "x" ], "b": null }"#))
        #expect(!accepts(g, #"{"a":[1,"x"]}"#))
        #expect(!accepts(g, #"{"a":[1,"x"],"b":null,"c":1}"#))
        let e = try grammar(#"{"enum":["a\nb",2,false],"type":["string","integer"]}"#)
        #expect(accepts(e, #""a\nb""#))
        #expect(accepts(e, "2.0"))
        #expect(!accepts(e, "false"))
    }

    @Test func recursiveReferencesBecomeRecursiveRules() throws {
        let g = try grammar(
            ##"{"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["v","next"],"additionalProperties":false}},"$ref":"#/$defs/node"}"##
        )
        #expect(accepts(g, #"{"v":1,"next":{"next":{"v":3,"next":null},"v":2}}"#))
        #expect(!accepts(g, #"{"v":1,"next":{"v":2}}"#))
        let pointer = try grammar(##"{"$defs":{"a/b":{"type":"null"},"c%d":{"type":"boolean"}},"anyOf":[{"$ref":"#/$defs/a~1b"},{"$ref":"#/$defs/c%25d"}]}"##)
        #expect(accepts(pointer, "null"))
        #expect(accepts(pointer, "true"))
        #expect(!accepts(pointer, "1"))
    }

    @Test func formatsAreExact() throws {
        let date = try grammar(#"{"format":"date","type":"string"}"#)
        #expect(accepts(date, #""2024-02-29""#))
        #expect(accepts(date, #""2000-02-29""#))
        #expect(!accepts(date, #""1900-02-29""#))
        #expect(!accepts(date, #""2023-02-29""#))
        #expect(!accepts(date, #""2023-04-31""#))
        let ip = try grammar(#"{"format":"ipv4","type":"string"}"#)
        #expect(accepts(ip, #""255.0.10.1""#))
        #expect(!accepts(ip, #""256.0.0.1""#))
        #expect(!accepts(ip, #""01.0.0.1""#))
        let time = try grammar(#"{"format":"date-time","type":"string"}"#)
        #expect(accepts(time, #""1985-04-12T23:20:50.52Z""#))
        #expect(accepts(time, #""1998-12-31T15:59:60-08:00""#))
        #expect(!accepts(time, #""1998-12-31T15:59:60Z""#))
        // A leap second is 23:59:60 UTC, at any offset to the minute.
        let t = try grammar(#"{"format":"time","type":"string"}"#)
        for ok in ["23:59:60Z", "23:59:60+00:00", "01:29:60+01:30", "23:29:60+23:30", "15:59:60-08:00", "00:29:60-23:30", "05:44:60.5+05:45"] {
            #expect(accepts(t, "\"\(ok)\""), "\(ok)")
        }
        for bad in ["22:59:60Z", "23:58:60Z", "23:59:60+01:00", "23:59:60+00:30", "23:59:60-01:00", "23:59:60-00:30", "01:29:60+01:31", "12:00:60Z"] {
            #expect(!accepts(t, "\"\(bad)\""), "\(bad)")
        }
        // RFC 3986 URIs: a scheme, then an authority or a path, query and fragment; only URI characters.
        let uri = try grammar(#"{"format":"uri","type":"string"}"#)
        for ok in ["https://example.com/a?b=c#d", "mailto:a@b.c", "urn:isbn:0451450523", "http://u:p@host:8080/p/q%20r", "a:", "file:///etc/x",
                   "tel:+1-816-555-1212", "http://h/a/b?x=/y?#f/"] {
            #expect(accepts(uri, "\"\(ok)\""), "\(ok)")
        }
        for bad in ["no scheme", "http://exa mple.com", "1http://x", "http://x/%zz", "ht_tp://x", "/relative", "http://x/é", "http://x#a#b", ":x"] {
            #expect(!accepts(uri, "\"\(bad)\""), "\(bad)")
        }
        // With length bounds it is not implied by: paired with a count, as a pattern is.
        let short = try grammar(#"{"format":"uri","type":"string","minLength":4,"maxLength":12}"#)
        #expect(accepts(short, #""http://a.b""#) && accepts(short, #""urn:x""#))
        #expect(!accepts(short, #""a:b""#) && !accepts(short, #""http://ab.cd/e""#) && !accepts(short, #""http://a b""#))
    }

    @Test func refusesWhatItCannotEnforce() {
        #expect(code(#"{"if":{"format":"email"},"then":{"minLength":1}}"#) == .unsupported)
        #expect(code(#"{"type":"array","contains":{"type":"integer"}}"#) == .unsupported)
        #expect(code(#"{"frobnicate":1}"#) == .unsupported)
        #expect(code(#"{"format":"hostname"}"#) == .unsupported)
        #expect(code(#"{"oneOf":[{"type":"integer"},{"pattern":"a"}]}"#) == .unsupported)
        #expect(code(#"{"not":{"format":"email"}}"#) == .unsupported)
        #expect(code(#"{"$ref":"http://example.com/x.json"}"#) == .badReference)
        #expect(code(##"{"$ref":"#/$defs/missing"}"##) == .badReference)
        #expect(code("false") == .unsatisfiable)
        #expect(code(#"{"type":"string","minLength":3,"maxLength":2}"#) == .unsatisfiable)
        #expect(code(#"{"type":"integer","minimum":"x"}"#) == .invalidSchema)
        #expect(code("{") == .syntax)
        // Irrelevant to the only type allowed: ignored, not refused.
        #expect(code(#"{"type":"string","uniqueItems":true,"multipleOf":3}"#) == nil)
    }

    /// propertyNames: other keys are exactly the strings its schema accepts (minus the named keys),
    /// a named key it refuses cannot appear, and a required one it refuses leaves no valid object.
    @Test func propertyNamesHoldEveryKey() throws {
        let g = try grammar(
            ##"{"$defs":{"short":{"maxLength":3}},"type":"object","propertyNames":{"$ref":"#/$defs/short","pattern":"^[a-z]"},"properties":{"abcd":{"type":"integer"},"ab":{"type":"string"}},"additionalProperties":{"type":"boolean"}}"##)
        for (text, valid) in [
            ("{}", true), (#"{"ab":"x"}"#, true), (#"{"xyz":true}"#, true), (#"{"é":false}"#, false), (#"{"ab":"x","b":true}"#, true),
            (#"{"abcd":1}"#, false), (#"{"xyzw":true}"#, false), (#"{"Ab":true}"#, false), (#"{"ab":true}"#, false),
            (#"{"ab":"x","ab":"y"}"#, false),
        ] {
            #expect(accepts(g, text) == valid, "\(text)")
        }
        // false: no key at all; a required key it refuses: nothing is valid.
        let none = try grammar(#"{"type":"object","propertyNames":false}"#)
        #expect(accepts(none, "{}") && !accepts(none, #"{"a":1}"#))
        #expect(code(#"{"type":"object","propertyNames":{"maxLength":2},"required":["long"]}"#) == .unsatisfiable)
        // Beside patternProperties it is refused, naming it.
        #expect(code(#"{"propertyNames":{"maxLength":2},"patternProperties":{"^a":{}},"additionalProperties":false}"#) == .unsupported)
        // Only objects have keys: other types pass.
        #expect(accepts(try grammar(#"{"propertyNames":{"maxLength":1}}"#), #""long string""#))
    }

    /// multipleOf: x·10^q divisible by p, read digit by digit beside the bounds (exact against
    /// decimal arithmetic on every number of a grid); several are their least common multiple.
    @Test func multipleOfIsExact() throws {
        for (divisor, bounds) in [("6", #","minimum":6"#), ("0.01", #","minimum":0"#), ("1.5", #","maximum":10"#), ("2", ""), ("0.25", #","exclusiveMinimum":-1,"maximum":2"#)] {
            let g = try grammar(#"{"type":"number","multipleOf":\#(divisor)\#(bounds)}"#)
            let m = Decimal(string: divisor)!
            for hundredths in stride(from: -1500, through: 1500, by: 5) {
                let x = Decimal(hundredths) / 100
                var low: Decimal = -.greatestFiniteMagnitude
                var high: Decimal = .greatestFiniteMagnitude
                var lowExclusive = false
                if bounds.contains("minimum\":6") { low = 6 }
                if bounds.contains("minimum\":0") { low = 0 }
                if bounds.contains("exclusiveMinimum") { low = -1; lowExclusive = true }
                if bounds.contains("maximum\":10") { high = 10 }
                if bounds.contains("maximum\":2") { high = 2 }
                var quotient = x / m
                var rounded = Decimal()
                NSDecimalRound(&rounded, &quotient, 0, .plain)
                let valid = rounded == quotient && (lowExclusive ? x > low : x >= low) && x <= high
                let text = "\(x)"
                #expect(accepts(g, text) == valid, "multipleOf \(divisor)\(bounds): \(text)")
            }
        }
        let both = try grammar(#"{"allOf":[{"multipleOf":4},{"multipleOf":6}],"type":"integer"}"#)
        #expect(accepts(both, "24") && accepts(both, "-12") && !accepts(both, "8") && !accepts(both, "18"))
        #expect(accepts(both, "12.00") && !accepts(both, "12.5"))
        // An enum beside it keeps only the multiples; an unbounded divisor is refused, naming it.
        let e = try grammar(#"{"enum":[3,4,"x",9],"multipleOf":3}"#)
        #expect(accepts(e, "3") && accepts(e, "9") && accepts(e, #""x""#) && !accepts(e, "4"))
        #expect(code(#"{"type":"number","multipleOf":0.123456789}"#) == .unsupported)
    }

    /// uniqueItems: an item equal to an earlier one (JSON Schema equality: numbers by value, keys in
    /// any order, strings by code points whatever the escapes) is refused where it closes, at any
    /// depth; checked against an independent pairwise comparison on random arrays.
    @Test func uniqueItemsAreCheckedWhereAnItemCloses() throws {
        let g = try grammar(#"{"type":"array","uniqueItems":true}"#)
        let pool = [
            "1", "1.0", "10e-1", "2", "0", "-0", "0.0", "true", "false", "null", #""a""#, #""\u0061""#, #""A""#, #""é""#,
            #""e\u0301""#, #"{"a":1,"b":2}"#, #"{"b":2.0,"a":1}"#, #"{"a":1}"#, "[1,2]", "[2,1]", "[1.0,2]", "{}", "[]", "[[]]",
        ]
        var random = SeededRandom(seed: 17)
        var seen = (valid: 0, invalid: 0)
        for _ in 0..<600 {
            let count = Int.random(in: 0...6, using: &random)
            let items = (0..<count).map { _ in pool.randomElement(using: &random)! }
            let spaces = ["", " ", "\n  "]
            let text = "[" + items.map { $0 }.joined(separator: "," + spaces.randomElement(using: &random)!) + "]"
            let values = try items.map { try JSONNode.parse($0) }
            var valid = true
            for i in values.indices { for j in values.indices where j > i && values[i].isSemanticallyEqual(to: values[j]) { valid = false } }
            #expect(accepts(g, text) == valid, "\(text)")
            if valid { seen.valid += 1 } else { seen.invalid += 1 }
        }
        #expect(seen.valid > 100 && seen.invalid > 100)
        #expect(!accepts(g, "[0,-0]") && accepts(g, #"["é","e\u0301"]"#) && !accepts(g, #"["é","\u00e9"]"#))
        // Nested unique arrays, each checked against its own items.
        let nested = try grammar(#"{"type":"array","uniqueItems":true,"items":{"type":"array","uniqueItems":true}}"#)
        for (text, valid) in [("[[1,2],[2,1]]", true), ("[[1,1]]", false), ("[[1],[1]]", false), ("[[1,2],[1,2.0]]", false), ("[[],[[]]]", true)] {
            #expect(accepts(nested, text) == valid, "\(text)")
        }
        // prefixItems are items too; uniqueItems false checks nothing.
        let prefix = try grammar(#"{"prefixItems":[{"type":"integer"},{"type":"string"}],"items":{"type":"integer"},"uniqueItems":true}"#)
        #expect(accepts(prefix, #"[1,"a",2]"#) && !accepts(prefix, #"[1,"a",1]"#) && !accepts(prefix, #"[1,"a",2,2.0]"#))
        #expect(accepts(try grammar(#"{"uniqueItems":false}"#), "[1,1]"))
        // Items from a finite set: no more items than values, so no item is opened that nothing can close.
        let two = try grammar(#"{"items":{"enum":["a","b"]},"uniqueItems":true}"#)
        var matcher = GrammarMatcher(two)
        #expect(matcher.accept(bytes: Array(#"["b","a""#.utf8)) == nil && !matcher.allows([UInt8(ascii: ",")]))
        #expect(!accepts(two, #"["a","a"]"#) && accepts(two, #"["b"]"#))
        let booleans = try grammar(#"{"items":{"type":"boolean"},"uniqueItems":true}"#)
        #expect(accepts(booleans, "[true,false]") && !accepts(booleans, "[true,false,true]") && !accepts(booleans, "[false,false]"))
        #expect(code(#"{"type":"array","items":{"enum":["a","b"]},"uniqueItems":true,"minItems":3}"#) == .unsatisfiable)
        #expect(code(#"{"type":"array","items":{"type":"integer","minimum":1,"exclusiveMaximum":7},"uniqueItems":true,"minItems":7}"#) == .unsatisfiable)
        let dice = try grammar(#"{"type":"array","items":{"type":"integer","minimum":1,"maximum":6},"uniqueItems":true,"minItems":6}"#)
        #expect(accepts(dice, "[6,5,4,3,2,1]") && accepts(dice, "[6,5,4,3,2,1.0]") && !accepts(dice, "[6,5,4,3,2,2.0]") && !accepts(dice, "[1,2,3,4,5,6,"))
        #expect(code(#"{"const":[1,1.0],"uniqueItems":true}"#) == .unsatisfiable)
        let e = try grammar(#"{"enum":[[1,2],[3,3]],"uniqueItems":true}"#)
        #expect(accepts(e, "[1,2]") && !accepts(e, "[3,3]"))
        // The grammar's printout says which rules are checked (as GBNF comments).
        #expect(g.description.contains("# unique-item"))
    }

    @Test func oneOfCompilesWhenBranchesAreDisjoint() throws {
        let g = try grammar(
            #"{"oneOf":[{"type":"object","properties":{"kind":{"const":"a"},"x":{"type":"integer"}},"required":["kind"]},{"type":"object","properties":{"kind":{"const":"b"}},"required":["kind"]},{"type":"string"}]}"#
        )
        #expect(accepts(g, #"{"kind":"a","x":1}"#))
        #expect(accepts(g, #"{"kind":"b","x":"s"}"#))
        #expect(accepts(g, #""s""#))
        #expect(!accepts(g, #"{"kind":"a","x":"s"}"#))
        // The type and the required discriminator may sit beside the oneOf, not in its branches.
        let h = try grammar(
            #"{"type":"object","required":["op"],"oneOf":[{"properties":{"op":{"const":"read"},"path":{"type":"string"}},"additionalProperties":false},{"properties":{"op":{"enum":["write","append"]},"path":{"type":"string"},"text":{"type":"string"}},"required":["text"],"additionalProperties":false}]}"#
        )
        #expect(accepts(h, #"{"op":"read","path":"/a"}"#))
        #expect(accepts(h, #"{"op":"append","path":"/a","text":"x"}"#))
        #expect(!accepts(h, #"{"op":"read","text":"x"}"#))
        #expect(!accepts(h, #"{"op":"write","path":"/a"}"#))
        #expect(!accepts(h, #"{"path":"/a"}"#))
        #expect(!accepts(h, #""read""#))
        // Without the discriminator being required, both branches match {} and non-objects: then
        // exactly one holds only where op is present and a or b (through the branches' complements).
        let k = try grammar(#"{"oneOf":[{"properties":{"op":{"const":"a"}}},{"properties":{"op":{"const":"b"}}}]}"#)
        for ok in [#"{"op":"a"}"#, #"{"x":1,"op":"b"}"#] { #expect(accepts(k, ok), "\(ok)") }
        for bad in ["{}", #"{"op":"c"}"#, #""a""#, "1", #"{"x":1}"#] { #expect(!accepts(k, bad), "\(bad)") }
        // The complement of a const beside a free string takes that string out.
        let m = try grammar(#"{"oneOf":[{"properties":{"op":{"type":"string"}}},{"properties":{"op":{"const":"b"}}}]}"#)
        #expect(accepts(m, #"{"op":"x"}"#))
        for bad in [#"{"op":"b"}"#, #"{"op":1}"#, "{}", #""s""#] { #expect(!accepts(m, bad), "\(bad)") }
        // A complement the compiler cannot enforce (of a pattern) is refused.
        #expect(code(#"{"oneOf":[{"properties":{"op":{"type":"string"}}},{"properties":{"op":{"pattern":"b"}}}]}"#) == .unsupported)
    }

    /// The grammar, or nil when no value satisfies the schema.
    func satisfiable(_ schema: String) throws(GrammarError) -> Grammar? {
        do {
            return try grammar(schema)
        } catch {
            if error.code == .unsatisfiable { return nil }
            throw error
        }
    }

    /// A oneOf whose branches overlap: a value is accepted exactly when one branch alone accepts it
    /// (each branch, and the schema around the oneOf, compiled on their own as the reference).
    @Test func overlappingOneOfMeansExactlyOne() throws {
        let cases: [(base: String, branches: [String])] = [
            ("{}", [#"{"type":"integer"}"#, #"{"minimum":2}"#]),
            (#"{"type":"string"}"#, [#"{"minLength":2}"#, #"{"maxLength":4}"#]),
            ("{}", [#"{"type":"number"}"#, "{}"]),
            (#"{"type":"object"}"#, [#"{"required":["foo","bar"]}"#, #"{"required":["foo","baz"]}"#]),
            ("{}", [#"{"properties":{"bar":{"type":"integer"}},"required":["bar"]}"#, #"{"properties":{"foo":{"type":"string"}},"required":["foo"]}"#]),
            ("{}", [#"{"properties":{"bar":true,"baz":true},"required":["bar"]}"#, #"{"properties":{"foo":true},"required":["foo"]}"#]),
            ("{}", [#"{"minimum":0,"maximum":10}"#, #"{"exclusiveMinimum":5}"#, #"{"type":"integer"}"#]),
            ("{}", [#"{"anyOf":[{"type":"string"},{"maximum":3}]}"#, #"{"not":{"type":"null"}}"#]),
            ("{}", [#"{"type":["string","array"],"maxItems":1}"#, #"{"minItems":1,"minLength":1}"#]),
            ("{}", ["true", "true", "false"]),
            ("{}", ["true", "false", "false"]),
            ("{}", ["false", "false"]),
        ]
        let instances = [
            "null", "true", "-3", "0", "1", "1.5", "2", "2.0", "2.5", "3", "5", "5.5", "10", "11", #""""#, #""a""#, #""ab""#,
            #""abcd""#, #""abcde""#, "[]", "[1]", "[1,2]", "{}", #"{"foo":1}"#, #"{"foo":1,"bar":2}"#, #"{"foo":1,"baz":2}"#,
            #"{"foo":1,"bar":2,"baz":3}"#, #"{"bar":2}"#, #"{"bar":"x"}"#, #"{"foo":"x"}"#, #"{"foo":"x","bar":1}"#,
            #"{"foo":2,"bar":1}"#, #"{"bar":1,"baz":1,"foo":"x"}"#,
        ]
        for (base, branches) in cases {
            let separator: String = base == "{}" ? "" : ","
            let list: String = branches.joined(separator: ",")
            let schema: String = String(base.dropLast()) + separator + "\"oneOf\":[" + list + "]}"
            let g = try satisfiable(schema)  // nil: no value satisfies it
            let baseGrammar = try grammar(base)
            var branchGrammars: [Grammar?] = []
            for b in branches { branchGrammars.append(try satisfiable(b)) }
            for text in instances {
                let matching = branchGrammars.filter { $0.map { accepts($0, text) } ?? false }.count
                let expected = accepts(baseGrammar, text) && matching == 1
                #expect((g.map { accepts($0, text) } ?? false) == expected, "\(schema) on \(text)")
            }
        }
    }

    /// if/then/else: a value is accepted exactly when it satisfies `then` where `if` accepts it and
    /// `else` where it does not (each compiled on its own as the reference).
    @Test func ifThenElseIsExact() throws {
        let cases: [(base: String, if: String, then: String?, else: String?)] = [
            (#""properties":{"country":{"enum":["US","CA"]}}"#, #"{"properties":{"country":{"const":"US"}}}"#,
             #"{"properties":{"zip":{"pattern":"^[0-9]{5}$"}}}"#, #"{"properties":{"zip":{"pattern":"^[A-Z][0-9]$"}}}"#),
            ("", #"{"type":"integer"}"#, #"{"minimum":10}"#, #"{"type":"string","maxLength":2}"#),
            ("", #"{"required":["a"]}"#, #"{"required":["b"]}"#, nil),
            ("", #"{"maximum":5}"#, nil, #"{"type":"integer"}"#),
            ("", #"{"anyOf":[{"type":"null"},{"minLength":3}]}"#, "false", "true"),
        ]
        let instances = [
            "null", "true", "3", "3.5", "7", "12", "12.5", #""""#, #""ab""#, #""abc""#, "{}", #"{"a":1}"#, #"{"a":1,"b":2}"#,
            #"{"b":2}"#, #"{"country":"US","zip":"12345"}"#, #"{"country":"US","zip":"A1"}"#, #"{"country":"CA","zip":"A1"}"#,
            #"{"country":"CA","zip":"12345"}"#, #"{"zip":"A1"}"#, #"{"country":"US"}"#,
        ]
        for c in cases {
            var members = [#""if":\#(c.if)"#]
            if let t = c.then { members.append(#""then":\#(t)"#) }
            if let e = c.else { members.append(#""else":\#(e)"#) }
            if !c.base.isEmpty { members.append(c.base) }
            let schema = "{" + members.joined(separator: ",") + "}"
            let g = try satisfiable(schema)
            let base = try #require(try satisfiable("{" + c.base + "}"))
            let condition = try #require(try satisfiable(c.if))
            let yes = try satisfiable(c.then ?? "true")
            let no = try satisfiable(c.else ?? "true")
            for text in instances {
                let branch = accepts(condition, text) ? yes : no
                let expected = accepts(base, text) && (branch.map { accepts($0, text) } ?? false)
                #expect((g.map { accepts($0, text) } ?? false) == expected, "\(schema) on \(text)")
            }
        }
        // An if whose complement is not a schema the compiler can write, or cannot enforce, is refused.
        #expect(code(#"{"if":{"pattern":"^a"},"then":{"maxLength":3}}"#) == .unsupported)
        let n = try grammar(#"{"if":{"properties":{"c":{"const":"US"}}},"then":{"required":["zip"]}}"#)
        for ok in [#"{"c":"US","zip":1}"#, #"{"c":"CA"}"#, #"{"zip":1}"#, #"{"c":1}"#] { #expect(accepts(n, ok), "\(ok)") }
        for bad in [#"{"c":"US"}"#, "{}"] { #expect(!accepts(n, bad), "\(bad)") }
    }

    /// `not` of a schema with a complement: accepted exactly where the inner schema is not.
    @Test func notOfAComplexSchemaIsItsComplement() throws {
        let inners = [
            #"{"type":"string","minLength":3}"#, #"{"not":{"type":"integer"}}"#, #"{"minimum":2,"maximum":10}"#,
            #"{"properties":{"a":{"type":"string"}},"required":["a"]}"#, #"{"anyOf":[{"type":"null"},{"maxItems":1}]}"#,
            #"{"allOf":[{"minLength":1},{"maxLength":2}]}"#,
        ]
        let instances = [
            "null", "false", "1", "2", "2.5", "11", #""""#, #""ab""#, #""abc""#, "[]", "[1,2]", "{}", #"{"a":"x"}"#, #"{"a":1}"#,
        ]
        for inner in inners {
            let g = try satisfiable(#"{"not":\#(inner)}"#)
            let reference = try #require(try satisfiable(inner))
            for text in instances {
                #expect((g.map { accepts($0, text) } ?? false) == !accepts(reference, text), "not \(inner) on \(text)")
            }
        }
        #expect(code(#"{"not":{"pattern":"a"}}"#) == .unsupported)
        // A complement is compiled below a made-up pointer: a $id inside would change how its $refs
        // resolve, so such a schema has none (refused, not resolved against the wrong base).
        #expect(
            code(##"{"$defs":{"a":{"type":"string"}},"not":{"not":{"allOf":[{"$id":"http://example.com/s","$defs":{"a":{"type":"integer"}},"$ref":"#/$defs/a"}]}}}"##)
                == .unsupported)
    }

    /// A not of strings takes exactly those strings out, with or without a pattern and length bounds.
    @Test func notOfStringsTakesThemOut() throws {
        let words = ["ab", "a", "bab", ""]
        let patterns: [String?] = [nil, "^[ab]+$", "b", "^a"]
        let bounds: [(Int, Int?)] = [(0, nil), (1, 3), (2, nil)]
        var texts = [""]
        var frontier = [""]
        for _ in 0..<4 {
            frontier = frontier.flatMap { t in ["a", "b", "-"].map { t + $0 } }
            texts += frontier
        }
        let list = words.map { "\"\($0)\"" }.joined(separator: ",")
        for pattern in patterns {
            for (minLength, maxLength) in bounds {
                var base = #""type":"string","minLength":\#(minLength)"#
                if let maxLength { base += #","maxLength":\#(maxLength)"# }
                if let pattern { base += #","pattern":"\#(pattern)""# }
                let g = try grammar("{" + base + #","not":{"enum":[\#(list)]}}"#)
                let reference = try grammar("{" + base + "}")
                for t in texts {
                    let expected = accepts(reference, "\"\(t)\"") && !words.contains(t)
                    #expect(accepts(g, "\"\(t)\"") == expected, "\(base) not \(words) on \(t)")
                }
            }
        }
        // Other types pass; an escape cannot spell an excluded string (escapes are not generated).
        let h = try grammar(#"{"not":{"const":"admin"}}"#)
        for ok in [#""admins""#, #""Admin""#, "1", "null", #"{"a":"admin"}"#] { #expect(accepts(h, ok), "\(ok)") }
        for bad in [#""admin""#, #""adm\u0069n""#] { #expect(!accepts(h, bad), "\(bad)") }
        // Beside a format: refused, naming not.
        do throws(GrammarError) {
            _ = try grammar(#"{"type":"string","format":"email","not":{"enum":["a@b.c"]}}"#)
            Issue.record("compiled")
        } catch {
            #expect(error.code == .unsupported && error.keyword == "not", "\(error)")
        }
    }

    /// Keys and strings compare code point by code point, as JSON Schema says, not by Swift's
    /// canonical equivalence ("é" as one scalar and as e + combining accent are different).
    @Test func stringsAndKeysCompareByCodePoints() throws {
        let composed = "\u{E9}"
        let decomposed = "e\u{301}"
        #expect(code(#"{"enum":["\u00e9"],"const":"e\u0301"}"#) == .unsatisfiable)
        let g = try grammar(#"{"type":"object","properties":{"\u00e9":{"type":"integer"}},"required":["e\u0301"]}"#)
        #expect(!accepts(g, "{\"\(composed)\":1}"))
        #expect(accepts(g, "{\"\(decomposed)\":\"x\"}"))
        #expect(accepts(g, "{\"\(decomposed)\":\"x\",\"\(composed)\":2}"))
        #expect(!accepts(g, "{\"\(decomposed)\":\"x\",\"\(composed)\":\"y\"}"))
    }

    /// Rules are shared by the pointers of the schemas they join; a key holding NUL cannot make two
    /// different lists look alike.
    @Test func keysWithNULDoNotShareRules() throws {
        let g = try grammar(
            #"{"properties":{"a":{"type":"string"},"a\u0000":{"allOf":[{"properties":{"a":{"type":"integer"}}}]}},"allOf":[{"properties":{"a":{"type":"string"}}}]}"#
        )
        #expect(!accepts(g, #"{"a\u0000":{"a":"x"}}"#))
        #expect(accepts(g, #"{"a\u0000":{"a":1},"a":"y"}"#))
    }

    @Test func hostileSchemasFailFast() throws {
        let clock = ContinuousClock()
        let deep: String = String(repeating: #"{"items":"#, count: 5000) + "{}" + String(repeating: "}", count: 5000)
        let values: [String] = (0..<60_000).map { "\"value-\($0)\"" }
        let wide: String = "{\"enum\":[" + values.joined(separator: ",") + "]}"
        let nested: String = String(repeating: #"{"allOf":["#, count: 3000) + "{}" + String(repeating: "]}", count: 3000)
        var hostile: [String] = [deep, wide, nested]
        hostile.append(#"{"type":"string","maxLength":1000000000}"#)
        hostile.append(#"{"type":"array","minItems":100000000}"#)
        hostile.append(#"{"type":"string","pattern":"(a{1000}){1000}"}"#)
        hostile.append(#"{"type":"integer","minimum":1e100000}"#)
        for schema in hostile {
            var thrown: GrammarError?
            let elapsed = clock.measure {
                do throws(GrammarError) { _ = try grammar(schema) } catch { thrown = error }
            }
            // The 0.8 MB enum mostly measures parsing it: ~0.1 s optimized, ~0.8 s in a debug build.
            let budget: Duration = schema.count > 100_000 ? .seconds(2) : .seconds(1)
            #expect(elapsed < budget, "\(schema.prefix(30)) took \(elapsed)")
            #expect(thrown != nil, "\(schema.prefix(30)) compiled")
        }
    }

    @Test func deepButLegalSchemasCompile() throws {
        let depth = 200
        let schema: String = String(repeating: #"{"type":"array","items":"#, count: depth) + #"{"type":"null"}"#
            + String(repeating: "}", count: depth)
        let g = try grammar(schema)
        #expect(accepts(g, String(repeating: "[", count: depth) + "null" + String(repeating: "]", count: depth)))
        #expect(!accepts(g, String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth)))
    }

    @Test func jsonObjectGrammarAcceptsAnyObjectOnly() {
        let g = JSONSchemaCompiler.jsonObjectGrammar()
        #expect(accepts(g, #"{"a":[1,{"b":null}],"c":"\u00e9"}"#))
        #expect(accepts(g, "{}"))
        #expect(!accepts(g, "[]"))
        #expect(!accepts(g, #"{"a":}"#))
        #expect(!accepts(g, #"{"a":1,}"#))
        #expect(accepts(JSONSchemaCompiler.anyJSONValue(), "-0.5e-3"))
    }

    // MARK: - The official test suite

    static let suiteFiles = [
        "type", "properties", "required", "additionalProperties", "enum", "const", "items", "prefixItems", "minItems",
        "maxItems", "anyOf", "oneOf", "allOf", "ref", "defs", "minLength", "maxLength", "pattern", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "boolean_schema", "optional/format/date", "optional/format/time",
        "optional/format/date-time", "optional/format/uuid", "optional/format/email", "optional/format/ipv4",
    ]

    /// Runs JSON-Schema-Test-Suite cases from `BRISE_SCHEMA_SUITE` (a `tests/draft2020-12`
    /// directory): every valid instance should match (compact and pretty-printed), no invalid one may.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["BRISE_SCHEMA_SUITE"] != nil))
    func officialSuite() throws {
        let dir = try #require(ProcessInfo.processInfo.environment["BRISE_SCHEMA_SUITE"])
        guard FileManager.default.fileExists(atPath: dir) else {
            print("BRISE_SCHEMA_SUITE=\(dir) does not exist; skipping")
            return
        }
        var cases = 0
        var compiled = 0
        var valid = 0
        var validAccepted = 0
        var invalidAccepted: [String] = []
        for file in Self.suiteFiles {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(file).json"))
            for c in try JSONNode.parse(Array(data)).elements ?? [] {
                cases += 1
                let tests = c["tests"]?.elements ?? []
                let schema = try #require(c["schema"])
                let g: Grammar
                do throws(GrammarError) {
                    g = try JSONSchemaCompiler().compile(schema)
                } catch {
                    if error.code == .unsatisfiable, tests.allSatisfy({ $0["valid"] == .bool(false) }) { compiled += 1 }
                    continue
                }
                compiled += 1
                for t in tests {
                    let data = try #require(t["data"])
                    for text in [data.serialized(), data.serialized(indent: 2)] {
                        let ok = accepts(g, text)
                        if t["valid"] == .bool(true) {
                            valid += 1
                            if ok { validAccepted += 1 }
                        } else if ok {
                            invalidAccepted.append("\(file): \(c["description"]?.stringValue ?? "") / \(text)")
                        }
                    }
                }
            }
        }
        print("schema suite: compiled \(compiled)/\(cases), valid accepted \(validAccepted)/\(valid), invalid accepted \(invalidAccepted.count)")
        #expect(invalidAccepted.isEmpty, "\(invalidAccepted)")
        #expect(Double(validAccepted) >= 0.98 * Double(valid))
        #expect(Double(compiled) >= 0.85 * Double(cases))
    }
}
