public import ArgumentParser
import Engine

/// `brise budget`: the resources Brise will plan with on this machine (for now the CPU budget:
/// affinity mask and cgroup quota, and the worker threads they allow).
public struct Budget: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Show the CPU budget (affinity and cgroup quota) and the worker threads it allows.")

    @Option(help: "Read /proc and /sys under this directory instead of / (for tests and diagnosis).")
    var root = ""

    public init() {}

    public func run() throws {
        print(CPUBudget.detect(root: root))
    }
}
