/// The fuzz targets by name, for the one libFuzzer executable (`brise-fuzz`, which reads the name from
/// `BRISE_FUZZ_TARGET`) and for anything else that wants to run one.
public enum FuzzTargets {
    /// The target names, in the order scripts/fuzz runs them.
    public static let names = ["request", "tokenizer", "gguf", "config", "schema", "gbnf", "http", "image"]

    /// The target called `name`, loaded (vocabularies read) and ready to take inputs; nil for an unknown name.
    public static func named(_ name: String) -> (@Sendable ([UInt8]) -> Void)? {
        switch name {
        case "request":
            let fuzzer = RequestFuzzer()
            return { fuzzer.run($0) }
        case "tokenizer":
            let fuzzer = TokenizerFuzzer()
            return { fuzzer.run($0) }
        case "gguf": return { GGUFFuzzer.run($0) }
        case "config": return { ConfigurationFuzzer.run($0) }
        case "schema": return { GrammarFuzzer.runSchema($0) }
        case "gbnf": return { GrammarFuzzer.runGBNF($0) }
        case "http":
            let fuzzer = HTTPFuzzer()
            return { fuzzer.run($0) }
        case "image": return { ImageFuzzer.run($0) }
        default: return nil
        }
    }
}
