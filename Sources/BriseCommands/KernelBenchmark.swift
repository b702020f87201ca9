import Foundation
import Kernels

/// Measures the kernels: read bandwidth, then per type and path, mat-vec over ≥1 GiB of 4096-wide
/// matrices and mat-mat over a few of them, at each thread count. Best of several passes (the
/// machines are shared; the best pass is the least disturbed).
struct KernelBenchmark {
    let threadCounts: [Int]
    let paths: [KernelPath]
    let types: [WeightType]
    let bytesPerType: Int
    let batch: Int
    let matmulMatrices: Int

    static let columns = 4096
    static let rowsPerMatrix = 4096
    static let passes = 3

    struct Report: Encodable {
        struct Bandwidth: Encodable {
            var threads: Int
            var gigabytesPerSecond: Double
        }

        struct Row: Encodable {
            var path: String
            var type: String
            var threads: Int
            var matvecBytes: Int
            var matvecGigabytesPerSecond: Double
            /// Mat-vec GB/s over the read wall: the best read bandwidth of the whole run at the same
            /// thread count (one denominator for every line, so lines compare).
            var fractionOfReadBandwidth: Double
            var matmulBatch: Int
            var matmulGigaflopsPerSecond: Double
            /// For a small batch (≤ `KernelChoice.smallBatch` columns: several streams decoded together,
            /// speculative verification), the mat-mat streams the same ≥ 1 GiB as the mat-vec; this is
            /// its time over the mat-vec's (1.0: the extra columns are free).
            var matmulTimeOverMatvec: Double?
        }

        /// The highest read bandwidth measured at each thread count during the run (the wall).
        var readBandwidth: [Bandwidth]
        var rows: [Row]
        /// What dispatch runs each measured type on, on this machine (`KernelChoice.measured`).
        var dispatch: String
    }

    func run(progress: (String) -> Void) throws -> Report {
        let pools = Dictionary(uniqueKeysWithValues: threadCounts.map { ($0, WorkerPool(threadCount: $0)) })
        var bandwidth: [Int: Double] = [:]
        do {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytesPerType, alignment: 64)
            defer { buffer.deallocate() }
            // Touch every page first so the measurement reads memory, not page faults.
            memset(buffer, 1, bytesPerType)
            for threads in threadCounts {
                bandwidth[threads] = ReadBandwidth.measure(buffer, byteCount: bytesPerType, pool: pools[threads]!, passes: 5)
                progress(String(format: "read bandwidth, %d thread(s): %.1f GB/s", threads, bandwidth[threads]! / 1e9))
            }
        }

        // Read bandwidth drifts on shared machines: each mat-vec is also compared with a bandwidth
        // measured right before it, on the same weights buffer.
        var rows: [Report.Row] = []
        var dispatch = KernelChoice(base: KernelPath.best)
        for type in types {
            let rowBytes = type.rowByteCount(columns: Self.columns)!
            let matrixBytes = rowBytes * Self.rowsPerMatrix
            let matrixCount = max(matmulMatrices, (bytesPerType + matrixBytes - 1) / matrixBytes)
            let weights = try RandomWeights(
                type: type, rows: matrixCount * Self.rowsPerMatrix, columns: Self.columns, seed: 1)
            let matrices = try (0..<matrixCount).map {
                try weights.matrix(type: type, rows: Self.rowsPerMatrix, columns: Self.columns, offset: $0 * matrixBytes)
            }
            // What dispatch would pick for this type, measured as a model load measures it.
            let measured = KernelChoice.measured(base: dispatch.base, matrices: matrices, pool: pools[threadCounts.max()!]!)
            if let path = measured.matvec[type] { try? dispatch.use(path, matvec: type) }
            if let path = measured.matmul[type] { try? dispatch.use(path, matmul: type) }
            if let path = measured.smallMatmul[type] { try? dispatch.use(path, smallMatmul: type) }
            var random = SystemRandomNumberGenerator()
            let x = (0..<(batch * Self.columns)).map { _ in Float.random(in: -1...1, using: &random) }
            var y = [Float](repeating: 0, count: batch * Self.rowsPerMatrix)

            for path in paths {
                for threads in threadCounts {
                    let multiplier = try MatrixMultiplier(path: path, pool: pools[threads]!)
                    let local = ReadBandwidth.measure(
                        weights.base, byteCount: weights.byteCount / (1 << 20) * (1 << 20), pool: pools[threads]!, passes: 3)
                    bandwidth[threads] = max(bandwidth[threads]!, local)
                    let matvecSeconds = x.withUnsafeBufferPointer { x in
                        y.withUnsafeMutableBufferPointer { y in
                            bestTime(passes: Self.passes) {
                                for matrix in matrices { multiplier.multiply(matrix, vector: x, into: y) }
                            }
                        }
                    }
                    // A small batch streams every matrix, as decode does; a prefill batch reuses a few.
                    let small = batch <= KernelChoice.smallBatch
                    let matmulSet = small ? matrices[...] : matrices.prefix(matmulMatrices)
                    let matmulSeconds = x.withUnsafeBufferPointer { x in
                        y.withUnsafeMutableBufferPointer { y in
                            bestTime(passes: small ? Self.passes : 2) {
                                for matrix in matmulSet { multiplier.multiply(matrix, batch: x, count: batch, into: y) }
                            }
                        }
                    }
                    let bytes = matrixBytes * matrixCount
                    let gbps = Double(bytes) / matvecSeconds / 1e9
                    let flops = 2.0 * Double(Self.columns * Self.rowsPerMatrix * batch * matmulSet.count)
                    let row = Report.Row(
                        path: path.rawValue, type: type.rawValue, threads: threads, matvecBytes: bytes,
                        matvecGigabytesPerSecond: gbps, fractionOfReadBandwidth: gbps * 1e9 / local,
                        matmulBatch: batch, matmulGigaflopsPerSecond: flops / matmulSeconds / 1e9,
                        matmulTimeOverMatvec: small ? matmulSeconds / matvecSeconds : nil)
                    rows.append(row)
                    progress(
                        String(
                            format: "%-10@ %-5@ %dt  mat-vec %6.1f GB/s (%3.0f%%)  mat-mat %6.1f GFLOP/s",
                            path.rawValue, type.rawValue, threads, row.matvecGigabytesPerSecond,
                            row.fractionOfReadBandwidth * 100, row.matmulGigaflopsPerSecond)
                            + (small ? String(format: " (%.2f× the mat-vec's time)", matmulSeconds / matvecSeconds) : ""))
                }
            }
        }
        // The wall is the best read of the whole run per thread count (bandwidth drifts on shared
        // machines; a line measured in a slow moment must not look closer to the wall than it is).
        for index in rows.indices {
            rows[index].fractionOfReadBandwidth = rows[index].matvecGigabytesPerSecond * 1e9 / bandwidth[rows[index].threads]!
        }
        return Report(
            readBandwidth: threadCounts.map { .init(threads: $0, gigabytesPerSecond: bandwidth[$0]! / 1e9) }, rows: rows,
            dispatch: dispatch.description)
    }

    /// The shortest of `passes` timed runs, after one untimed warm-up run.
    private func bestTime(passes: Int, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<passes {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }
}

extension KernelBenchmark.Report {
    /// The report as a text table.
    func table() -> String {
        var out = "dispatch: \(dispatch)\nread wall (best read of the run): "
            + readBandwidth.map { String(format: "%.1f GB/s at %d thread%@", $0.gigabytesPerSecond, $0.threads, $0.threads == 1 ? "" : "s") }
            .joined(separator: ", ") + "\n\n"
        let threads = readBandwidth.map(\.threads)
        var header = "path        type "
        for t in threads { header += String(format: "  mat-vec %dt (GB/s, %% of read)", t) }
        for t in threads { header += String(format: "  mat-mat %dt GFLOP/s", t) }
        let small = rows.contains { $0.matmulTimeOverMatvec != nil }
        if small { for t in threads { header += String(format: "  %dt time/mat-vec", t) } }
        out += header + "\n"
        var keys: [String] = []
        for row in rows where !keys.contains("\(row.path)/\(row.type)") { keys.append("\(row.path)/\(row.type)") }
        for key in keys {
            let group = rows.filter { "\($0.path)/\($0.type)" == key }
            guard let first = group.first else { continue }
            var line = first.path.padding(toLength: 12, withPad: " ", startingAt: 0)
                + first.type.padding(toLength: 5, withPad: " ", startingAt: 0)
            for t in threads {
                let r = group.first { $0.threads == t }
                line += String(format: "  %18.1f %9.0f%%", r?.matvecGigabytesPerSecond ?? 0, (r?.fractionOfReadBandwidth ?? 0) * 100)
            }
            for t in threads {
                let r = group.first { $0.threads == t }
                line += String(format: "  %19.1f", r?.matmulGigaflopsPerSecond ?? 0)
            }
            if small {
                for t in threads {
                    let r = group.first { $0.threads == t }
                    line += String(format: "  %14.2f×", r?.matmulTimeOverMatvec ?? 0)
                }
            }
            out += line + "\n"
        }
        return out
    }
}

/// Streams through a buffer, split across the pool in 1 MiB chunks: the read bandwidth a mat-vec
/// could hope for (`StreamRead`: the widest loads, eight independent accumulators).
enum ReadBandwidth {
    static func measure(_ buffer: UnsafeMutableRawPointer, byteCount: Int, pool: WorkerPool, passes: Int) -> Double {
        let chunk = 1 << 20
        let chunks = byteCount / chunk
        let sink = UnsafeMutablePointer<UInt64>.allocate(capacity: chunks)
        defer { sink.deallocate() }
        var best = Double.infinity
        for pass in 0...passes {
            let start = DispatchTime.now().uptimeNanoseconds
            pool.parallelFor(count: chunks, chunk: 4) { range in
                for c in range { sink[c] = StreamRead.sum(UnsafeRawPointer(buffer + c * chunk), byteCount: chunk) }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if pass > 0 { best = min(best, seconds) }  // pass 0 warms up
        }
        return Double(chunks * chunk) / best
    }
}
