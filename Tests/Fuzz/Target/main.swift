// The libFuzzer executable of every fuzz target (built only with BRISE_FUZZ=1 by scripts/fuzz, where
// -sanitize=fuzzer supplies main). BRISE_FUZZ_TARGET names the target: request, tokenizer, gguf, config.
import FuzzHarness
import Foundation

enum Target {
    static let name = ProcessInfo.processInfo.environment["BRISE_FUZZ_TARGET"] ?? ""
    static let run = FuzzTargets.named(name)
}

/// Loads the target (its vocabularies) before fuzzing starts: libFuzzer's per-input timeout does not
/// apply here.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    guard Target.run != nil else {
        FileHandle.standardError.write(Data("brise-fuzz: set BRISE_FUZZ_TARGET to one of \(FuzzTargets.names.joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    Target.run?(Array(UnsafeRawBufferPointer(start: start, count: count)))
    return 0
}
