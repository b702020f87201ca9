import Foundation
import Testing
import TestSupport

/// `brise bench kernels` runs end to end and reports what the issue asks for (numbers themselves are
/// checked by reading the release-build output, not by timed tests).
@Suite struct BenchCommandTests {
    @Test func kernelBenchmarkReportsEveryField() throws {
        let brise = ChildProcess.builtProduct("brise")
        let result = try ChildProcess.run(
            brise,
            ["bench", "kernels", "--json", "--gib", "0.02", "--types", "q8_0,q4_K", "--paths", "scalar",
             "--threads", "1,2", "--batch", "2", "--matmul-matrices", "1"])
        #expect(result.exitStatus == 0, "\(result.standardError)")
        let report = try JSONDecoder().decode(JSONValue.self, from: Data(result.standardOutput.utf8))
        #expect(report["readBandwidth"]?.arrayValue.count == 2)
        let rows = report["rows"]?.arrayValue ?? []
        #expect(rows.count == 4)  // 2 types × 1 path × 2 thread counts
        for row in rows {
            #expect((row["matvecGigabytesPerSecond"]?.doubleValue ?? 0) > 0)
            #expect((row["matmulGigaflopsPerSecond"]?.doubleValue ?? 0) > 0)
            #expect((row["fractionOfReadBandwidth"]?.doubleValue ?? 0) > 0)
            #expect((row["matvecBytes"]?.intValue ?? 0) >= Int(0.02 * Double(1 << 30)))
        }
    }

    @Test func badOptionsAreClearErrors() throws {
        let brise = ChildProcess.builtProduct("brise")
        let result = try ChildProcess.run(brise, ["bench", "kernels", "--paths", "sse9"])
        #expect(result.exitStatus != 0)
        #expect(result.standardError.contains("unknown or unsupported path sse9"))
    }
}
