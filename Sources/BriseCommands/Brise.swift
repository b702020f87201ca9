public import ArgumentParser
import WireProtocol

/// The `brise` command line: its subcommands are the CLI's whole surface.
public struct Brise: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "brise",
        abstract: "Brise: an on-device runtime for Mistral's small models.",
        version: BriseVersion.current,
        subcommands: [
            Ask.self, ChatREPL.self, Complete.self, Status.self, Generate.self, Tokenize.self, Inspect.self, Bench.self, Budget.self, Models.self,
            Pull.self, Schema.self,
        ]
    )

    public init() {}
}

