import Foundation
import Testing
import TestSupport

/// `brise schema compile` and `brise schema check`, run as processes: exit statuses 0 / 1 / 3 and what
/// they say.
@Suite struct SchemaCommandTests {
    static let brise = ChildProcess.builtProduct("brise")

    /// A scratch directory with `files` written into it.
    static func directory(_ files: [String: String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("brise-schema-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return url
    }

    /// `brise schema check ARGS < input`, through a shell (ChildProcess gives children /dev/null).
    static func check(_ arguments: [String], input: String, in directory: URL) throws -> ChildProcess.Result {
        let inputFile = directory.appendingPathComponent("input-\(UUID())")
        try input.write(to: inputFile, atomically: true, encoding: .utf8)
        let quoted = ([brise, "schema", "check"] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return try ChildProcess.run("/bin/sh", ["-c", "\(quoted) < '\(inputFile.path)'"])
    }

    static let person = """
        {"type": "object", "properties": {"name": {"type": "string", "maxLength": 8, "pattern": "^[A-Z][a-z]+$"},
         "age": {"type": "integer", "minimum": 0, "maximum": 150}}, "required": ["name", "age"], "additionalProperties": false}
        """

    @Test func compilePrintsTheGrammarFromAFileOrTheFlag() throws {
        let dir = try Self.directory(["person.json": Self.person])
        defer { try? FileManager.default.removeItem(at: dir) }
        let positional = try ChildProcess.run(Self.brise, ["schema", "compile", dir.appendingPathComponent("person.json").path])
        let flag = try ChildProcess.run(Self.brise, ["schema", "compile", "--schema", dir.appendingPathComponent("person.json").path])
        #expect(positional.exitStatus == 0, "\(positional.standardError)")
        #expect(positional.standardOutput.contains("root ::="), "\(positional.standardOutput)")
        #expect(positional.standardOutput == flag.standardOutput)
        let both = try ChildProcess.run(
            Self.brise, ["schema", "compile", dir.appendingPathComponent("person.json").path, "--schema", "x.json"])
        #expect(both.exitStatus == 64)
    }

    @Test func unsupportedSchemasExitThreeNamingTheKeyword() throws {
        let dir = try Self.directory([
            "remote.json": #"{"properties": {"a": {"$ref": "https://example.com/a.json"}}}"#,
            "notaschema.json": #"[1, 2]"#,
            "unknown-type.json": #"{"type": "strin"}"#,
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let remote = try ChildProcess.run(Self.brise, ["schema", "compile", dir.appendingPathComponent("remote.json").path])
        #expect(remote.exitStatus == 3)
        #expect(remote.standardError.contains("$ref") && remote.standardError.contains("/properties/a"), "\(remote.standardError)")
        for name in ["notaschema.json", "unknown-type.json"] {
            let result = try ChildProcess.run(Self.brise, ["schema", "compile", dir.appendingPathComponent(name).path])
            #expect(result.exitStatus == 3, "\(name): \(result.standardError)")
            #expect(result.standardError.hasPrefix("brise schema compile:"), "\(name): \(result.standardError)")
        }
        let checked = try Self.check(["--schema", dir.appendingPathComponent("unknown-type.json").path], input: "1", in: dir)
        #expect(checked.exitStatus == 3, "\(checked.standardError)")
        // A schema no value satisfies is supported: every text is rejected (exit 1), not refused.
        for (name, schema) in [("false.json", "false"), ("allof.json", #"{"allOf":[{"type":"string"},false]}"#)] {
            try schema.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
            let result = try Self.check(["--schema", dir.appendingPathComponent(name).path], input: #""x""#, in: dir)
            #expect(result.exitStatus == 1, "\(name): \(result.standardOutput) \(result.standardError)")
            #expect(result.standardOutput.contains("accepts no value"), "\(name): \(result.standardOutput)")
        }
    }

    @Test func checkAcceptsValidTextsAndSaysWhereAnInvalidOneBreaks() throws {
        let dir = try Self.directory(["person.json": Self.person])
        defer { try? FileManager.default.removeItem(at: dir) }
        let schema = ["--schema", dir.appendingPathComponent("person.json").path]
        // Keys in either order, with whitespace.
        for valid in [#"{"name":"Ada","age":36}"#, #"{ "age": 7, "name": "Bob" }"#] {
            let result = try Self.check(schema, input: valid + "\n", in: dir)
            #expect(result.exitStatus == 0, "\(valid): \(result.standardOutput) \(result.standardError)")
            #expect(result.standardOutput.hasPrefix("accepted"))
        }
        // Too long for maxLength 8 (the pattern alone would take it), lower-case, out of range,
        // a missing key, an extra key.
        let invalid = [
            (#"{"name":"Alexandria","age":3}"#, "at byte"),
            (#"{"name":"ada","age":3}"#, "at byte 9"),
            (#"{"name":"Ada","age":151}"#, "at byte"),
            (#"{"name":"Ada"}"#, "at byte 13"),
            (#"{"name":"Ada","age":3,"x":1}"#, "at byte 21"),
            (#"{"name":"Ada","#, "ends early"),
        ]
        for (text, said) in invalid {
            let result = try Self.check(schema, input: text, in: dir)
            #expect(result.exitStatus == 1, "\(text): \(result.standardOutput)")
            #expect(result.standardOutput.contains(said), "\(text): \(result.standardOutput)")
        }
    }

    @Test func checkWithAModelGoesTokenByTokenThroughTheMasks() throws {
        let dir = try Self.directory(["person.json": Self.person])
        defer { try? FileManager.default.removeItem(at: dir) }
        let arguments = ["--schema", dir.appendingPathComponent("person.json").path, "--model", Fixtures.path("models/tiny-llama-Q8_0.gguf")]
        // No spaces: the tiny model's 320-token vocabulary has no "▁" and spells a space as the bytes of "▁".
        let valid = try Self.check(arguments, input: #"{"name":"Eve","age":41}"#, in: dir)
        #expect(valid.exitStatus == 0, "\(valid.standardOutput) \(valid.standardError)")
        #expect(valid.standardOutput.contains("tokens)"), "\(valid.standardOutput)")
        let early = try Self.check(arguments, input: #"{"name":"Eve""#, in: dir)
        #expect(early.exitStatus == 1)
        #expect(early.standardOutput.contains("end of generation is not allowed"), "\(early.standardOutput)")
        let wrong = try Self.check(arguments, input: #"{"name":"eve","age":41}"#, in: dir)
        #expect(wrong.exitStatus == 1)
        #expect(wrong.standardOutput.contains("rejected at token"), "\(wrong.standardOutput)")
    }
}
