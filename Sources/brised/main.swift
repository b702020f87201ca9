// brised: the Brise daemon (see Sources/Server/Daemon.swift and `brised --help`).
import Foundation
import Server

let status = await Daemon.main(
    arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
exit(status)
