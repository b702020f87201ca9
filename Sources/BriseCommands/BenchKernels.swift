public import ArgumentParser
import Foundation
import Kernels

/// `brise bench kernels`: mat-vec throughput (GB/s of weight bytes) and mat-mat GFLOP/s for every
/// weight type and kernel path, at each thread count, over matrices totalling at least 1 GiB (so
/// caches cannot flatter them), next to the machine's read bandwidth measured the same way.
public struct BenchKernels: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Benchmark the mat-vec and mat-mat kernels against the machine's read bandwidth."
    )

    @Option(help: "Thread counts, comma-separated.")
    var threads = "1,2"

    @Option(help: "Kernel paths, comma-separated (default: every path this CPU supports).")
    var paths: String?

    @Option(help: "Weight types, comma-separated (default: all).")
    var types: String?

    @Option(help: "GiB of weights per type for mat-vec (at least 1 to defeat the caches).")
    var gib = 1.0

    @Option(help: "Activation vectors per mat-mat: a prefill batch, or 2-8 for a small batch that streams the same weights as the mat-vec and prints its time over the mat-vec's.")
    var batch = 32

    @Option(help: "Matrices per mat-mat measurement (4096×4096 each).")
    var matmulMatrices = 4

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    public init() {}

    public func validate() throws {
        guard gib > 0, batch >= 2, matmulMatrices >= 1 else {
            throw ValidationError("--gib must be positive, --batch at least 2, --matmul-matrices at least 1")
        }
        _ = try threadCounts()
        _ = try selectedPaths()
        _ = try selectedTypes()
    }

    func threadCounts() throws -> [Int] {
        let counts = threads.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ (1...256).contains($0) }) else {
            throw ValidationError("--threads takes thread counts like 1,2")
        }
        return counts
    }

    func selectedPaths() throws -> [KernelPath] {
        guard let paths else { return KernelPath.supported }
        return try paths.split(separator: ",").map { name in
            guard let path = KernelPath(rawValue: String(name)), path.isSupported else {
                throw ValidationError(
                    "unknown or unsupported path \(name); this CPU supports: "
                        + KernelPath.supported.map(\.rawValue).joined(separator: ","))
            }
            return path
        }
    }

    func selectedTypes() throws -> [WeightType] {
        guard let types else { return WeightType.allCases }
        return try types.split(separator: ",").map { name in
            guard let type = WeightType(rawValue: String(name)) else {
                throw ValidationError("unknown type \(name); types: " + WeightType.allCases.map(\.rawValue).joined(separator: ","))
            }
            return type
        }
    }

    public func run() throws {
        var stderr = StandardError()
        #if DEBUG
        print("brise bench kernels: this is a debug build; numbers mean little (swift build -c release)", to: &stderr)
        #endif
        let benchmark = KernelBenchmark(
            threadCounts: try threadCounts(), paths: try selectedPaths(), types: try selectedTypes(),
            bytesPerType: Int(gib * Double(1 << 30)), batch: batch, matmulMatrices: matmulMatrices)
        let report = try benchmark.run { progress in
            if !json { print(progress, to: &stderr) }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.table(), terminator: "")
        }
    }
}
