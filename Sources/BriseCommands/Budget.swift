public import ArgumentParser
import Engine
import GGUF
import Model

/// `brise budget [--model FILE]`: the resources Brise plans with on this machine — the CPU budget
/// (affinity mask and cgroup quota, and the worker threads they allow) and, for a model, the memory
/// plan (the context that fits the budget, or why nothing does).
public struct Budget: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Show the CPU budget and, for a model, the memory plan (what fits the memory budget).")

    @Option(help: "Read /proc and /sys under this directory instead of / (for tests and diagnosis).")
    var root = ""

    @Option(help: "A GGUF model to plan memory for: a file, or a name in the models directory.")
    var model: String?

    @Option(
        name: [.customLong("context"), .customLong("ctx")],
        help: "Context length to plan for (default: the largest that fits, at most 4096 and the model's).")
    var ctx: Int?

    @Option(help: "Memory budget, e.g. 2G or 512M (the cgroup's limit applies when lower).")
    var memoryBudget: String?

    @Option(
        name: [.customLong("mmproj"), .customLong("vision-model")],
        help: "The model's vision projector: what it adds, and whether it fits beside the model.")
    var mmproj: String?

    public init() {}

    public func validate() throws {
        if let memoryBudget, MemoryBudget.parse(memoryBudget) == nil {
            throw ValidationError("--memory-budget takes a size like 2G, 512M or 1000000")
        }
        if let ctx, ctx < 1 { throw ValidationError("--context must be at least 1") }
    }

    public func run() throws {
        let cpu = CPUBudget.detect(root: root)
        print("cpu     \(cpu)")
        guard let name = self.model else { return }
        let model = try ModelArgument.path(name, command: "budget")
        var stderr = StandardError()
        do {
            let file = try GGUFFile(path: model)
            let text = try LlamaModel(file: file)
            let plan = try LoadedModel.plan(
                model: text, file: file, contextLength: ctx, memoryBudget: memoryBudget.flatMap(MemoryBudget.parse))
            print("memory  \(plan)")
            if let mmproj {
                let vision = try VisionModel(file: try GGUFFile(path: try ModelArgument.path(mmproj, command: "budget")))
                try vision.check(feeds: text)
                let weights = vision.file.fileSize
                let encode = VisionProjector.encodeBytes(vision, threads: cpu.threads)
                let left = max(0, plan.budget - plan.totalBytes)
                print(
                    "vision  \(MemoryPlan.formatted(weights)) of weights mapped, up to \(MemoryPlan.formatted(encode)) while encoding "
                        + "the largest image; the plan leaves \(MemoryPlan.formatted(left)): "
                        + (weights + encode <= left ? "fits" : "does not fit (a smaller --context or --memory-budget for the text model, or more memory)"))
            }
            if plan.expertBytes > 0 {
                // A mixture of experts: what every expert resident takes, and the least it runs in
                // with experts read from the file as the router picks them.
                print("experts full speed needs \(MemoryPlan.formatted(plan.fullSpeedBytes)) (every expert in memory); "
                    + "runs in \(MemoryPlan.formatted(plan.minimumBytes)) with experts paged from the file"
                    + (plan.pagedExperts ? " (this budget: paged, slower)" : ""))
            }
        } catch let error as MemoryPlanError {
            print("brise budget: \(model): \(error)", to: &stderr)
            throw ExitCode.failure
        } catch {
            print("brise budget: \(model): \(error)", to: &stderr)
            throw ExitCode.failure
        }
    }
}
