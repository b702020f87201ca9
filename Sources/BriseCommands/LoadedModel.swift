import Engine
import Foundation
import GGUF
import Kernels
import Model
import Tokenization

/// A model file loaded for in-process use by the CLI: mapped, weights bound, tokenizer built, one
/// session with its KV cache, on the chosen kernel path and thread count.
struct LoadedModel {
    let file: GGUFFile
    let model: LlamaModel
    let tokenizer: Tokenizer?
    let session: ModelSession
    let path: KernelPath
    let threads: Int
    /// Seconds from opening the file to a ready session.
    let loadSeconds: Double

    /// Loads `path`.
    ///
    /// - Parameters:
    ///   - modelPath: The GGUF file.
    ///   - contextLength: KV-cache positions (nil: the smaller of 4096 and the model's training context).
    ///   - threads: Worker threads (nil: what the affinity mask and the cgroup CPU quota allow).
    ///   - environment: The process environment (for `BRISE_KERNEL_PATH`).
    /// - Throws: `GGUFError`, `ModelError`, `KernelError` or `TokenizerError` with what went wrong.
    init(modelPath: String, contextLength: Int?, threads: Int?, environment: [String: String]) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        file = try GGUFFile(path: modelPath)
        model = try LlamaModel(file: file)
        // A file without a vocabulary still runs on token ids.
        tokenizer = file.metadata.contains("tokenizer.ggml.tokens") ? try Tokenizer(file: file) : nil
        path = try KernelPath.select(environment: environment)
        self.threads = threads ?? CPUBudget.detect().threads
        let multiplier = try MatrixMultiplier(path: path, pool: WorkerPool(threadCount: self.threads))
        let context = contextLength ?? min(4096, model.configuration.contextLength)
        session = try ModelSession(model: model, contextLength: context, multiplier: multiplier, ops: try FloatOps(path: path))
        loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

/// Peak resident memory of this process, in bytes.
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Int(usage.ru_maxrss) * 1024
}
