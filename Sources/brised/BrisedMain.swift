// brised: the Brise daemon (see Sources/Server/Daemon.swift and `brised --help`).
import Foundation
import Server

@main enum BrisedMain {
    static func main() async {
        let status = await Daemon.main(
            arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
        exit(status)
    }
}
