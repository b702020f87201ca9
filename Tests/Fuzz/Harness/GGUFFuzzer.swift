import Engine
import Foundation
import GGUF
import Model
import TestSupport
import Tokenization

/// Fuzz target 3: a GGUF file's bytes, through what loading does with them — the header, metadata
/// and tensor table against the file size, every metadata value and tensor read back
/// (`exerciseEverything`), the model configuration, the vocabulary, the chat template, the weights
/// bound in place and the memory plan. A corrupt file must be a thrown error.
public enum GGUFFuzzer {
    public static func run(_ data: [UInt8]) {
        guard let mapped = try? MappedFile(copying: data), let file = try? GGUFFile(file: mapped) else { return }
        _ = try? exerciseEverything(file)
        if let tokenizer = try? Tokenizer(file: file) {
            let ids = tokenizer.encode("Hello [INST] wörld <|im_start|> 12345", addSpecial: true, parseSpecial: true)
            _ = try? tokenizer.decode(ids)
            if let encoder = try? ChatEncoder(tokenizer: tokenizer) {
                _ = try? encoder.encode([ChatMessage(.system, "s"), ChatMessage(.user, "u")])
            }
        }
        if let model = try? LlamaModel(file: file) {
            _ = try? LoadedModel.plan(model: model, file: file, contextLength: 64, memoryBudget: 1 << 30, cacheType: .f16)
            _ = try? LoadedModel.plan(model: model, file: file, contextLength: nil, memoryBudget: 1 << 26, cacheType: .q8_0)
        }
    }
}
