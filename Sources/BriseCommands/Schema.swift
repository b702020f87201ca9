public import ArgumentParser
import Engine
import Foundation
import GGUF
import StructuredOutput
import Tokenization

/// `brise schema …`: compile a JSON Schema (or a GBNF grammar) the way the daemon does for
/// `response_format`, and check instances against it.
public struct Schema: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Compile JSON Schemas and GBNF grammars, and check texts against them.",
        subcommands: [SchemaCheck.self, SchemaCompile.self]
    )

    public init() {}
}

/// The constraint a schema command reads: a JSON Schema file or a GBNF file.
struct ConstraintFiles: ParsableArguments {
    @Option(name: .long, help: "A JSON Schema file (draft 2020-12 or draft-07).")
    var schema: String?

    @Option(name: .long, help: "A GBNF grammar file (llama.cpp's syntax) instead of a schema.")
    var grammar: String?

    init() {}

    init(schema: String?, grammar: String?) {
        self.schema = schema
        self.grammar = grammar
    }

    /// The format the files give.
    func format(command: String, prefix: String = "brise schema") throws -> OutputFormat {
        switch (schema, grammar) {
        case (let schema?, nil): return .jsonSchema(try read(schema, command: "\(prefix) \(command)"))
        case (nil, let grammar?): return .grammar(try read(grammar, command: "\(prefix) \(command)"))
        default:
            var stderr = StandardError()
            print("\(prefix) \(command): give one of the schema or the grammar", to: &stderr)
            throw ExitCode(64)
        }
    }

    private func read(_ path: String, command: String) throws -> String {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard data.count <= 16 << 20 else { throw TextArgumentError(message: "larger than 16 MiB") }
            return String(decoding: data, as: UTF8.self)
        } catch {
            var stderr = StandardError()
            print("\(command): \(path): \(error)", to: &stderr)
            throw ExitCode(66)
        }
    }
}

/// `brise schema compile FILE` (or `--schema FILE`, `--grammar FILE`): the grammar a schema compiles
/// to, as GBNF.
public struct SchemaCompile: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Print the GBNF grammar a JSON Schema compiles to.",
        discussion: "Exit status: 0 compiled, 3 the schema uses something Brise cannot enforce or is not a schema (the message names the keyword and where it is)."
    )

    @Argument(help: "A JSON Schema file (the same as --schema).")
    var schemaFile: String?

    @OptionGroup var files: ConstraintFiles

    public init() {}

    public func run() throws {
        var files = files
        if let schemaFile {
            guard files.schema == nil else {
                var stderr = StandardError()
                print("brise schema compile: give the schema once (as FILE or --schema)", to: &stderr)
                throw ExitCode(64)
            }
            files.schema = schemaFile
        }
        let format = try files.format(command: "compile")
        do {
            print(try GrammarCompiler.grammar(for: format), terminator: "")
        } catch {
            var stderr = StandardError()
            print("brise schema compile: \(error.message)", to: &stderr)
            throw ExitCode(3)
        }
    }
}

/// `brise schema check --schema FILE [--model MODEL] < instance`: whether the compiled grammar
/// accepts a text, byte by byte, or (with a model) token by token through the masks the daemon
/// applies.
public struct SchemaCheck: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a text (standard input) against a JSON Schema or GBNF grammar.",
        discussion: """
            Without --model the text's bytes go through the compiled grammar's matcher; with --model \
            the text is tokenized with the model's tokenizer and each token must be allowed by the mask \
            the daemon would apply at that step, then the end of generation.
            Exit status: 0 accepted, 1 rejected (saying at which byte or token; also every text when the \
            schema accepts no value, such as false), 3 the schema or grammar cannot be compiled (naming \
            the keyword).
            """
    )

    @OptionGroup var files: ConstraintFiles

    @Option(name: .long, help: "Check token by token with this model's vocabulary (a file or a name in the models directory).")
    var model: String?

    @Flag(help: "Keep a trailing newline of the input (by default one is dropped, as shells add it).")
    var keepNewline = false

    public init() {}

    public func run() throws {
        var stderr = StandardError()
        let format = try files.format(command: "check")
        var input = Array(FileHandle.standardInput.readDataToEndOfFile())
        if !keepNewline, input.last == UInt8(ascii: "\n") { input.removeLast() }
        let grammar: Grammar
        do {
            grammar = try GrammarCompiler.grammar(for: format)
        } catch {
            if Self.acceptsNothing(format) {
                // Supported, and no text is valid (`false`, an allOf with a false branch…).
                print("rejected: the schema accepts no value (\(error.message))")
                throw ExitCode(1)
            }
            print("brise schema check: not supported: \(error.message)", to: &stderr)
            throw ExitCode(3)
        }
        guard let model else {
            var matcher = GrammarMatcher(grammar)
            if let refused = matcher.accept(bytes: input) {
                print("rejected at byte \(refused): \(Self.context(input, refused))")
                throw ExitCode(1)
            }
            guard matcher.isComplete else {
                print("rejected: the text ends early (at byte \(input.count))")
                throw ExitCode(1)
            }
            print("accepted (\(input.count) bytes)")
            return
        }
        let path = try ModelArgument.path(model, command: "schema check")
        let tokenizer: Tokenizer
        let file: GGUFFile
        do {
            file = try GGUFFile(path: path)
            tokenizer = try Tokenizer(file: file)
        } catch {
            print("brise schema check: \(path): \(error)", to: &stderr)
            throw ExitCode.failure
        }
        let compiler = GrammarCompiler(tokenizer: tokenizer)
        let compiled: CompiledGrammar
        do {
            compiled = try compiler.compile(format)
        } catch {
            print("brise schema check: not supported: \(error.message)", to: &stderr)
            throw ExitCode(3)
        }
        let end = tokenizer.vocabulary.endOfGeneration(metadata: file.metadata)
        var constraint = compiled.makeConstraint(endTokens: end)
        // As the model would write it: an answer continues the prompt (no SentencePiece space first).
        let ids = tokenizer.encode(String(decoding: input, as: UTF8.self), addSpecial: false, continuing: true)
        var offset = 0
        for (index, id) in ids.enumerated() {
            let mask = constraint.allowedTokens()
            let piece = (try? tokenizer.pieceBytes(id, renderSpecial: false)) ?? []
            guard mask[Int(id) >> 6] & (1 << UInt64(id & 63)) != 0, constraint.accept(token: id) else {
                print("rejected at token \(index) (id \(id), \(String(decoding: piece, as: UTF8.self).debugDescription)) at byte \(offset)")
                throw ExitCode(1)
            }
            offset += piece.count
        }
        let mask = constraint.allowedTokens()
        guard let endID = end.sorted().first, mask[Int(endID) >> 6] & (1 << UInt64(endID & 63)) != 0 else {
            print("rejected: the end of generation is not allowed after \(ids.count) tokens (the text ends early)")
            throw ExitCode(1)
        }
        print("accepted (\(input.count) bytes, \(ids.count) tokens)")
    }

    /// Whether the format fails to compile only because no text satisfies it.
    static func acceptsNothing(_ format: OutputFormat) -> Bool {
        guard case .jsonSchema(let text) = format else { return false }
        do throws(GrammarError) {
            _ = try JSONSchemaCompiler().compile(text: Array(text.utf8))
            return false
        } catch {
            return error.code == .unsatisfiable
        }
    }

    static func context(_ bytes: [UInt8], _ at: Int) -> String {
        let start = max(0, at - 20)
        let before = String(decoding: bytes[start..<at], as: UTF8.self)
        let after = String(decoding: bytes[at..<min(bytes.count, at + 10)], as: UTF8.self)
        return "\(before.debugDescription) ⟨here⟩ \(after.debugDescription)"
    }
}
