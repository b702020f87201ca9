public import ArgumentParser
import Engine
import Foundation
import GGUF
import StructuredOutput
import Tokenization

/// `brise bench grammar`: the time to compute a grammar's token mask, step by step along texts
/// the grammar accepts, with a model's vocabulary — what constrained decoding adds to each token.
public struct BenchGrammar: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "grammar",
        abstract: "Time the token masks of a JSON Schema or GBNF grammar along texts it accepts.",
        discussion: """
            Each --instance file is tokenized with the model's vocabulary; at every token the mask is \
            computed (timed) and the token must be in it. The first pass over all instances is 'cold' \
            (compilation and the per-position cache being filled, as for a schema's first request); the \
            next passes are 'warm' (as for the daemon's later requests with the same schema).
            """
    )

    @Option(help: "The GGUF model whose vocabulary to use (a file or a name in the models directory).")
    var model: String

    @OptionGroup var files: ConstraintFiles

    @Option(help: "A text the grammar accepts (repeatable).")
    var instance: [String] = []

    @Option(help: "Warm passes.")
    var passes = 3

    @Flag(help: "Print JSON.")
    var json = false

    public init() {}

    public func run() throws {
        var stderr = StandardError()
        let format = try files.format(command: "grammar", prefix: "brise bench")
        let path = try ModelArgument.path(model, command: "bench grammar")
        let file = try GGUFFile(path: path)
        let tokenizer = try Tokenizer(file: file)
        let end = tokenizer.vocabulary.endOfGeneration(metadata: file.metadata)
        let clock = ContinuousClock()
        let trieStart = clock.now
        let compiler = GrammarCompiler(tokenizer: tokenizer)
        let trie = compiler.vocabularyTrie
        let trieSeconds = (clock.now - trieStart).seconds
        let compileStart = clock.now
        let compiled: CompiledGrammar
        do {
            compiled = try compiler.compile(format)
        } catch {
            print("brise bench grammar: \(error.message)", to: &stderr)
            throw ExitCode(3)
        }
        let compileSeconds = (clock.now - compileStart).seconds
        var texts: [[TokenID]] = []
        for path in instance {
            var data = try String(contentsOfFile: path, encoding: .utf8)
            if data.hasSuffix("\n") { data.removeLast() }
            texts.append(tokenizer.encode(data, addSpecial: false))
        }
        func pass() throws -> [Double] {
            var times: [Double] = []
            for (n, ids) in texts.enumerated() {
                var constraint = compiled.makeConstraint(endTokens: end)
                let steps = Array(ids.enumerated().map { ($0.offset, $0.element) }) + [(ids.count, end.sorted().first ?? 0)]
                for (i, id) in steps {
                    let start = clock.now
                    let mask = constraint.allowedTokens()
                    times.append((clock.now - start).seconds)
                    guard mask[Int(id) >> 6] & (1 << UInt64(id & 63)) != 0 else {
                        print("brise bench grammar: instance \(n + 1): token \(i) (id \(id)) is not allowed", to: &stderr)
                        throw ExitCode(1)
                    }
                    if i < ids.count { _ = constraint.accept(token: id) }
                }
            }
            return times
        }
        let cold = try pass()
        var warm: [Double] = []
        for _ in 0..<max(1, passes) { warm += try pass() }
        func percentile(_ values: [Double], _ p: Double) -> Double {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
        }
        let stats: [String: Double] = [
            "trie_ms": trieSeconds * 1e3, "compile_ms": compileSeconds * 1e3,
            "cold_median_us": percentile(cold, 0.5) * 1e6, "cold_p99_us": percentile(cold, 0.99) * 1e6,
            "cold_max_us": (cold.max() ?? 0) * 1e6, "cold_total_ms": cold.reduce(0, +) * 1e3,
            "warm_median_us": percentile(warm, 0.5) * 1e6, "warm_p99_us": percentile(warm, 0.99) * 1e6,
            "warm_max_us": (warm.max() ?? 0) * 1e6,
            "steps": Double(cold.count), "vocabulary": Double(trie.vocabularySize), "trie_nodes": Double(trie.nodeCount),
        ]
        if json {
            let data = try JSONSerialization.data(withJSONObject: stats, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            func f(_ key: String) -> String { String(format: "%.1f", stats[key] ?? 0) }
            print("vocabulary \(trie.vocabularySize) tokens, trie \(trie.nodeCount) nodes built in \(f("trie_ms")) ms; grammar compiled in \(f("compile_ms")) ms")
            print("\(cold.count) steps: cold median \(f("cold_median_us")) µs, p99 \(f("cold_p99_us")) µs, max \(f("cold_max_us")) µs (total \(f("cold_total_ms")) ms)")
            print("warm median \(f("warm_median_us")) µs, p99 \(f("warm_p99_us")) µs, max \(f("warm_max_us")) µs")
        }
    }
}

extension Duration {
    fileprivate var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
