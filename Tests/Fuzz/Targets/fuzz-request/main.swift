// libFuzzer entry for fuzz target 1 (RequestFuzzer) (built only with BRISE_FUZZ=1 by scripts/fuzz; libFuzzer supplies main).
import FuzzHarness

enum Target {
    static let fuzzer = RequestFuzzer()
}

/// Loads the vocabularies before fuzzing starts (libFuzzer's per-input timeout does not apply here).
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    _ = Target.fuzzer
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    Target.fuzzer.run(Array(UnsafeRawBufferPointer(start: start, count: count)))
    return 0
}
