public import ArgumentParser
import Engine
import Foundation
import GGUF
import Kernels
import Model

/// `brise bench --model FILE [-p 512] [-n 128]`: prompt processing and generation tokens per second,
/// load time and peak RSS, in the spirit of llama-bench (`scripts/bench-vs-llamacpp.py` runs both).
public struct BenchModel: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Benchmark a model: prompt and generation tokens/s, load time, peak RSS (release builds).")

    @Option(help: "The GGUF model: a file, or a name in the models directory.")
    var model: String

    @Option(name: [.customShort("p"), .long], help: "Prompt tokens processed as one batch.")
    var prompt = 512

    @Option(name: [.customShort("n"), .long], help: "Tokens generated one at a time.")
    var generate = 128

    @Option(help: "Repetitions of each test (the mean and standard deviation are reported).")
    var repetitions = 3

    @Option(help: "Worker threads (default: what the affinity mask and the cgroup CPU quota allow; see brise budget).")
    var threads: Int?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(name: .customLong("kv-type"), help: "KV cache element type: f16 (default, as llama.cpp) or q8_0 (about half the memory).")
    var kvType: String = KVCacheType.f16.rawValue

    @Option(
        help: ArgumentHelp(
            "Batched decode instead: stream counts, comma-separated (e.g. 1,2,4,8). Each stream gets a 16-token prompt, then -n steps decode one token for every stream in one forward pass.",
            valueName: "counts"))
    var parallel: String?

    public init() {}

    public func validate() throws {
        guard prompt >= 0, generate >= 0, prompt + generate > 0 else { throw ValidationError("-p and -n must not be negative, and not both 0") }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard KVCacheType(rawValue: kvType) != nil else { throw ValidationError("--kv-type must be f16 or q8_0") }
        if parallel != nil {
            guard let counts = streamCounts, !counts.isEmpty, counts.allSatisfy({ (1...ModelSession.maximumSlots).contains($0) }) else {
                throw ValidationError("--parallel takes stream counts in 1…\(ModelSession.maximumSlots), comma-separated (e.g. 1,2,4,8)")
            }
            guard generate >= 1 else { throw ValidationError("--parallel needs -n of at least 1") }
        }
    }

    /// The stream counts of `--parallel`.
    var streamCounts: [Int]? {
        parallel.map { $0.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
    }

    struct Result: Encodable {
        var model: String
        var fileBytes: Int
        var kernelPath: String
        var threads: Int
        var loadSeconds: Double
        var promptTokens: Int
        var promptTokensPerSecond: Double
        var promptStandardDeviation: Double
        var generatedTokens: Int
        var generationTokensPerSecond: Double
        var generationStandardDeviation: Double
        var kvCacheBytes: Int
        var kvCacheType: String
        var peakResidentBytes: Int
        /// A mixture of experts' expert bytes and how many of them were in memory at the end (nil
        /// for a dense model).
        var expertBytes: Int?
        var expertResidentBytes: Int?
    }

    /// The model with `slots` KV caches of `context` positions; a clear message and exit 1 when it
    /// cannot be loaded.
    func load(context: Int, slots: Int) throws -> LoadedModel {
        let path = try ModelArgument.path(model, command: "bench")
        do {
            return try LoadedModel(
                modelPath: path, contextLength: context, threads: threads, cacheType: KVCacheType(rawValue: kvType) ?? .f16,
                slots: slots, environment: ProcessInfo.processInfo.environment)
        } catch {
            var stderr = StandardError()
            print("brise bench: \(model): \(error)", to: &stderr)
            throw ExitCode.failure
        }
    }

    public func run() throws {
        var stderr = StandardError()
        #if DEBUG
        print("brise bench: this is a debug build; numbers mean little (swift build -c release)", to: &stderr)
        #endif
        if let counts = streamCounts {
            try runParallel(counts)
            return
        }
        let loaded = try load(context: max(1, prompt + generate), slots: 1)
        let session = loaded.session
        let vocabulary = loaded.model.vocabularySize
        var random = SystemRandomNumberGenerator()
        func randomTokens(_ count: Int) -> [Int32] { (0..<count).map { _ in Int32.random(in: 0..<Int32(vocabulary), using: &random) } }

        // One untimed warm-up of each kind pages the weights in, as llama-bench's warm-up run does.
        session.reset()
        _ = try session.evaluate(randomTokens(min(prompt, 8) + 1))
        var promptRates: [Double] = []
        var generationRates: [Double] = []
        for _ in 0..<repetitions {
            if prompt > 0 {
                session.reset()
                let tokens = randomTokens(prompt)
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try session.evaluate(tokens)
                promptRates.append(Double(prompt) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
            }
            if generate > 0 {
                session.reset()
                var token = randomTokens(1)[0]
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<generate {
                    let logits = try session.evaluate([token])
                    token = Int32(logits.indices.max { logits[$0] < logits[$1] } ?? 0)
                }
                generationRates.append(Double(generate) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
            }
        }
        func mean(_ x: [Double]) -> Double { x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count) }
        func deviation(_ x: [Double]) -> Double {
            guard x.count > 1 else { return 0 }
            let m = mean(x)
            return (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count - 1)).squareRoot()
        }
        let experts = loaded.expertResidency  // one mincore pass
        let result = Result(
            model: model, fileBytes: loaded.file.fileSize, kernelPath: loaded.kernelChoice.description, threads: loaded.threads,
            loadSeconds: loaded.loadSeconds, promptTokens: prompt, promptTokensPerSecond: mean(promptRates),
            promptStandardDeviation: deviation(promptRates), generatedTokens: generate,
            generationTokensPerSecond: mean(generationRates), generationStandardDeviation: deviation(generationRates),
            kvCacheBytes: session.cacheByteCount, kvCacheType: session.cacheType.rawValue, peakResidentBytes: peakResidentBytes(),
            expertBytes: experts?.total, expertResidentBytes: experts?.resident)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print("model                \(model) (\(formatBytes(result.fileBytes)))")
            print("kernels              \(result.kernelPath), \(result.threads) threads")
            print(String(format: "load                 %.3f s", result.loadSeconds))
            print(String(format: "pp%-4d               %.2f ± %.2f tokens/s", prompt, result.promptTokensPerSecond, result.promptStandardDeviation))
            print(String(format: "tg%-4d               %.2f ± %.2f tokens/s", generate, result.generationTokensPerSecond, result.generationStandardDeviation))
            print("KV cache             \(formatBytes(result.kvCacheBytes)) (\(result.kvCacheType))")
            print("peak RSS             \(formatBytes(result.peakResidentBytes))")
            if let experts = result.expertBytes, let resident = result.expertResidentBytes {
                print("experts resident     \(formatBytes(resident)) of \(formatBytes(experts))")
            }
        }
    }
}
