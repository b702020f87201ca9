// The libFuzzer executable of every fuzz target (built only with BRISE_FUZZ=1 by scripts/build-asan,
// which links libFuzzer without its main). BRISE_FUZZ_TARGET names the target: request, tokenizer,
// gguf, config, schema, gbnf.
import CFuzzDriver
import FuzzHarness
import Foundation

@main enum FuzzTarget {
    /// The target, loaded (its vocabularies) before fuzzing starts, since libFuzzer's per-input timeout
    /// does not apply here. Set once before the driver runs: libFuzzer's callback is a C function and
    /// cannot capture it.
    nonisolated(unsafe) static var run: (@Sendable ([UInt8]) -> Void)?

    static func main() {
        let name = ProcessInfo.processInfo.environment["BRISE_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTargets.named(name) else {
            FileHandle.standardError.write(Data("brise-fuzz: set BRISE_FUZZ_TARGET to one of \(FuzzTargets.names.joined(separator: ", "))\n".utf8))
            exit(2)
        }
        run = target
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(brise_fuzz_run_driver(&argc, &argv) { start, count in
            FuzzTarget.run?(Array(UnsafeBufferPointer(start: start, count: count)))
            return 0
        })
    }
}
