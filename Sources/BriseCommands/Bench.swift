public import ArgumentParser

/// `brise bench …`: speed measurements, meant for release builds (`swift build -c release`).
public struct Bench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Measure Brise's speed (build with -c release first).",
        subcommands: [BenchModel.self, BenchKernels.self, BenchTokenizer.self, BenchGrammar.self, BenchVision.self],
        defaultSubcommand: BenchModel.self
    )

    public init() {}
}
