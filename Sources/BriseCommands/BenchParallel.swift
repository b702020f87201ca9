import ArgumentParser
import Engine
import Foundation
import GGUF
import Kernels
import Model

extension BenchModel {
    /// One line of `--parallel`.
    struct ParallelResult: Encodable {
        var streams: Int
        var aggregateTokensPerSecond: Double
        var perStreamTokensPerSecond: Double
        var speedup: Double
    }

    /// `--parallel`: for each stream count, every stream gets a 16-token prompt (one batch, untimed),
    /// then `-n` steps each decode one greedy token for every stream in one forward pass (the daemon's
    /// continuous batching: one matrix product per weight matrix for all streams). Best of
    /// `--repetitions`.
    func runParallel(_ counts: [Int]) throws {
        let promptLength = 16
        let loaded = try load(context: promptLength + generate, slots: counts.max() ?? 1)
        let session = loaded.session
        let vocabulary = loaded.model.vocabularySize
        var random = SystemRandomNumberGenerator()
        func argmax(_ logits: ArraySlice<Float>) -> Int32 {
            Int32(logits.indices.max { logits[$0] < logits[$1] }! - logits.startIndex)
        }
        var results: [ParallelResult] = []
        // Warm-up: pages the weights in.
        _ = try session.evaluate([1])
        for streams in counts {
            var best = 0.0
            for _ in 0..<repetitions {
                for slot in 0..<streams { session.reset(slot: slot) }
                let prompts = (0..<streams).map { _ in
                    (0..<promptLength).map { _ in Int32.random(in: 0..<Int32(vocabulary), using: &random) }
                }
                let first = try session.evaluate(batch: prompts.enumerated().map { .init(slot: $0, tokens: $1[...], logits: .last) })
                var next = (0..<streams).map { argmax(first[($0 * vocabulary)..<(($0 + 1) * vocabulary)]) }
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<generate {
                    let logits = try session.evaluate(batch: next.enumerated().map { .init(slot: $0, tokens: [$1], logits: .last) })
                    next = (0..<streams).map { argmax(logits[($0 * vocabulary)..<(($0 + 1) * vocabulary)]) }
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                best = max(best, Double(streams * generate) / seconds)
            }
            let single = results.first { $0.streams == 1 }?.aggregateTokensPerSecond
            results.append(
                ParallelResult(
                    streams: streams, aggregateTokensPerSecond: best, perStreamTokensPerSecond: best / Double(streams),
                    speedup: single.map { best / $0 } ?? (streams == 1 ? 1 : 0)))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
            return
        }
        print("model                \(model) (\(formatBytes(loaded.file.fileSize)))")
        print("kernels              \(loaded.kernelChoice), \(loaded.threads) threads")
        print("streams  aggregate tokens/s  per stream  vs 1 stream")
        for r in results {
            let speedup = r.speedup > 0 ? String(format: "%.2f×", r.speedup) : "-"
            print(String(format: "%7d  %18.2f  %10.2f  %@", r.streams, r.aggregateTokensPerSecond, r.perStreamTokensPerSecond, speedup))
        }
    }
}
