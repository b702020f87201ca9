import Foundation
public import GGUF
public import Kernels
public import Model
public import Tokenization

/// A model file loaded for use in process (the CLI) or by the daemon: mapped, weights bound, tokenizer
/// built, one session with its KV cache, on the chosen kernel path and thread count.
public struct LoadedModel: Sendable {
    public let file: GGUFFile
    public let model: LlamaModel
    public let tokenizer: Tokenizer?
    public let session: ModelSession
    public let path: KernelPath
    /// Which path runs each weight type (bit-identical faster paths measured at load; see `KernelChoice`).
    public let kernelChoice: KernelChoice
    public let threads: Int
    /// The worker pool the session's matrix products run on.
    public let pool: WorkerPool
    /// The memory plan the context length came from.
    public let plan: MemoryPlan
    /// Seconds from opening the file to a ready session.
    public let loadSeconds: Double

    /// Loads `path`.
    ///
    /// - Parameters:
    ///   - modelPath: The GGUF file.
    ///   - contextLength: KV-cache positions (nil: the largest that fits the memory budget, at most 4096
    ///     and the model's training context).
    ///   - memoryBudget: Bytes from `--memory-budget` (the cgroup limit still applies when lower).
    ///   - lockWeights: `mlock` the tensor data.
    ///   - threads: Worker threads (nil: what the affinity mask and the cgroup CPU quota allow).
    ///   - cacheType: The KV cache's element type (F16 by default; Q8_0 takes about half the bytes).
    ///   - slots: Sequences served side by side, each with its own KV cache (nil: as many as the budget
    ///     holds at the context, at most `MemoryPlan.defaultMaximumSlots`; the CLI asks for 1).
    ///   - pool: Workers to share (a draft model uses its target's; nil: a pool of `threads`).
    ///   - kernelPath: The kernel path (nil: chosen for this CPU and `BRISE_KERNEL_PATH`).
    ///   - environment: The process environment (for `BRISE_KERNEL_PATH`).
    /// - Throws: `GGUFError`, `ModelError`, `KernelError` or `TokenizerError` with what went wrong.
    public init(
        modelPath: String, contextLength: Int?, memoryBudget: Int? = nil, lockWeights: Bool = false, threads: Int?,
        cacheType: KVCacheType = .f16, slots: Int? = 1, pool sharedPool: WorkerPool? = nil, kernelPath: KernelPath? = nil,
        environment: [String: String]
    ) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        file = try GGUFFile(path: modelPath)
        model = try LlamaModel(file: file)
        // A file without a vocabulary still runs on token ids.
        tokenizer = file.metadata.contains("tokenizer.ggml.tokens") ? try Tokenizer(file: file) : nil
        path = try kernelPath ?? KernelPath.select(environment: environment)
        // A draft model shares its target's workers (they never run at the same time).
        pool = sharedPool ?? WorkerPool(threadCount: threads ?? CPUBudget.detect().threads)
        self.threads = pool.threadCount
        // A path forced by BRISE_KERNEL_PATH is used for everything (tests and benchmarks pin one path);
        // otherwise each of the file's types runs on the fastest bit-identical path.
        let forced = !(environment[KernelPath.environmentVariable] ?? "").isEmpty
        kernelChoice = forced ? KernelChoice(base: path) : KernelChoice.measured(base: path, matrices: model.matrices, pool: pool)
        let multiplier = try MatrixMultiplier(path: path, pool: pool, choice: kernelChoice)
        plan = try Self.plan(
            model: model, file: file, contextLength: contextLength, memoryBudget: memoryBudget, cacheType: cacheType,
            slots: slots)
        if lockWeights {
            // Pinned weights cannot be paged out under memory pressure; a too-low RLIMIT_MEMLOCK is a
            // clear error naming the limit and how to raise it (MappedFile.lock). Experts the plan pages
            // from the file stay unlocked (pinning them would take the memory the plan leaves out).
            // A file with no tensor data may have its data offset past the end.
            let data = min(file.dataOffset, file.fileSize)..<file.fileSize
            for range in Self.ranges(data, excluding: plan.pagedExperts ? model.expertFileRanges : []) {
                try file.file.lock(range: range)
            }
        }
        session = try ModelSession(
            model: model, contextLength: plan.contextLength, multiplier: multiplier, ops: try FloatOps(path: path),
            cacheType: cacheType, slots: plan.slots)
        loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

extension LoadedModel {
    /// Loads `modelPath` with a KV cache named by `kvType` (`f16` or `q8_0`), as a configuration gives it.
    ///
    /// - Throws: `ModelError` `.unsupportedTensorType` for another name; what the main initializer throws.
    public init(
        modelPath: String, contextLength: Int?, memoryBudget: Int? = nil, lockWeights: Bool = false, threads: Int?,
        kvType: String, slots: Int?, environment: [String: String]
    ) throws {
        guard let cacheType = KVCacheType(rawValue: kvType) else {
            throw ModelError(.unsupportedTensorType, "KV cache type \(kvType): expected f16 or q8_0")
        }
        try self.init(
            modelPath: modelPath, contextLength: contextLength, memoryBudget: memoryBudget, lockWeights: lockWeights,
            threads: threads, cacheType: cacheType, slots: slots, environment: environment)
    }

    /// A warning when the memory budget holds less than every expert of a mixture of experts (they are
    /// then read from the file as the router picks them: it runs, slower), else `nil`.
    public var memoryWarning: String? {
        guard plan.pagedExperts else { return nil }
        return "the memory budget holds \(MemoryPlan.formatted(plan.budget)) and every expert in memory needs "
            + "\(MemoryPlan.formatted(plan.fullSpeedBytes)): experts are paged from the file as the router picks them (slower)"
    }

    /// The model's name (`general.name`, else the file's name without `.gguf`).
    public var name: String {
        let fallback = URL(fileURLWithPath: file.file.path).deletingPathExtension().lastPathComponent
        return ((try? file.metadata.string("general.name")) ?? nil) ?? fallback
    }

    /// The architecture (`llama`, `mistral3`, `qwen2`, `gemma3`).
    public var architecture: String { model.configuration.architecture.rawValue }

    /// Entries in the vocabulary (the logits per token).
    public var vocabularySize: Int { model.vocabularySize }

    /// The model file's path.
    public var filePath: String { file.file.path }

    /// The model file's size in bytes.
    public var fileBytes: Int { file.fileSize }

    /// Positions per slot.
    public var contextLength: Int { session.contextLength }

    /// The model's training context (`<arch>.context_length`).
    public var trainingContext: Int { model.configuration.contextLength }

    /// A warning when the context is longer than the model was trained for (allowed, as in llama.cpp,
    /// but positions past it are extrapolated and answers may degrade), else `nil`.
    public var contextWarning: String? {
        guard contextLength > trainingContext else { return nil }
        return "the context of \(contextLength) positions is longer than the \(trainingContext) the model was trained for; "
            + "past that its answers may degrade"
    }

    /// How the model is asked to fill in the middle (nil: no vocabulary, or no FIM tokens in it).
    public var fillInTheMiddle: FillInTheMiddle? {
        tokenizer.flatMap { FillInTheMiddle(vocabulary: $0.vocabulary, metadata: file.metadata) }
    }

    /// The kernel path, and the per-type choices when they differ from it (for logs).
    public var kernelSummary: String { "\(kernelChoice)" }

    /// Worker threads the next step runs on (fewer while the thermal governor paces).
    public var activeThreads: Int { pool.activeThreads }

    /// Runs a throwaway step on slot 0 so the first request does not pay for first-touch page faults
    /// of the weights and scratch (the daemon does this before READY=1), then forgets it.
    public func warmUp() throws {
        let token = tokenizer?.vocabulary.bos ?? 0
        session.reset()
        _ = try session.evaluate([token])
        session.reset()
    }

    /// `whole` without `holes` (sorted or not, possibly touching), as ascending ranges.
    static func ranges(_ whole: Range<Int>, excluding holes: [Range<Int>]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = whole.lowerBound
        for hole in holes.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            let lower = max(hole.lowerBound, whole.lowerBound)
            if lower > start { result.append(start..<min(lower, whole.upperBound)) }
            start = max(start, min(hole.upperBound, whole.upperBound))
        }
        if start < whole.upperBound { result.append(start..<whole.upperBound) }
        return result
    }

    /// For a mixture of experts, how many bytes of its experts are in memory now (`mincore` over
    /// their tensors; the plan may leave them to the page cache) and their total; nil for a dense model.
    public var expertResidency: (resident: Int, total: Int)? {
        let ranges = model.expertFileRanges
        guard !ranges.isEmpty else { return nil }
        // mincore counts whole pages; a tensor's first and last pages are shared with its neighbours.
        let resident = ranges.reduce(0) { $0 + min($1.count, (try? file.file.residentByteCount(range: $1)) ?? 0) }
        return (resident, ranges.reduce(0) { $0 + $1.count })
    }

    /// The memory plan for `model`: weights, a KV cache of `cacheType` (F16 by default), scratch for
    /// batches of `ModelSession.maximumBatch`, overhead; within the budget (see `MemoryBudget.resolve`).
    public static func plan(
        model: LlamaModel, file: GGUFFile, contextLength: Int?, memoryBudget: Int?, cacheType: KVCacheType = .f16,
        slots: Int? = 1
    ) throws -> MemoryPlan {
        let c = model.configuration
        let (budget, source) = MemoryBudget.resolve(configured: memoryBudget)
        let batch = min(ModelSession.maximumBatch, contextLength ?? ModelSession.maximumBatch)
        let request = MemoryPlan.Request(
            weightBytes: file.tensorByteCount, kvBytesPerToken: c.kvCacheBytesPerToken(cacheType: cacheType.ggmlType) ?? 0,
            trainingContext: c.contextLength, requestedContext: contextLength,
            scratchBytes: ModelSession.scratchBytes(
                configuration: c, vocabulary: model.vocabularySize, batch: batch, banded: model.feedForwardRunsInBands),
            // The process itself, plus the tokenizer's tables: measured at ~4× the file's metadata
            // section (a 131k-token Tekken vocabulary with 269k merges: ~36 MiB for ~8 MiB of metadata).
            overheadBytes: MemoryPlan.defaultOverhead + 4 * file.dataOffset,
            q8KVBytesPerToken: cacheType == .f16 ? c.kvCacheBytesPerToken(cacheType: .q8_0) : nil, requestedSlots: slots,
            // Each slot's logits row.
            scratchBytesPerSlot: model.vocabularySize * 4, expertBytes: model.expertByteCount,
            expertWorkingSetBytes: model.expertWorkingSetBytes)
        return try MemoryPlan.make(request, budget: budget, budgetSource: source)
    }
}

/// Peak resident memory of this process, in bytes.
public func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Int(usage.ru_maxrss) * 1024
}
