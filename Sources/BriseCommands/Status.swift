public import ArgumentParser
import BriseClient
import Engine
import Foundation
import WireProtocol

/// `brise status`: what brised is doing, its model and budgets.
public struct Status: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(abstract: "Show what brised is doing: state, queue, speed, memory, thermal.")

    @Option(help: "brised's socket (default: $BRISE_SOCKET, else /run/brise/brised.sock).")
    var socket: String?

    @Flag(help: "Print JSON (the GetStatus and GetModel replies; camelCase keys, as every brise --json).")
    var json = false

    public init() {}

    public func run() async throws {
        let client = socket.map { BriseClient(location: SocketLocation(path: $0)) }
            ?? BriseClient(environment: ProcessInfo.processInfo.environment)
        do {
            let status = try await client.status()
            let model = try await client.model()
            if json {
                struct Both: Encodable {
                    var status: StatusReply
                    var model: ModelReply
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(Both(status: status, model: model)), as: UTF8.self))
                return
            }
            let size = MemoryPlan.formatted
            print("state        \(status.state)")
            print("requests     \(status.activeRequests) active, \(status.queuedRequests) queued")
            if let slots = status.slots { print("slots        \(status.activeRequests) of \(slots) busy") }
            print("speed        \(status.tokensPerSecond.map { String(format: "%.1f tokens/s (all streams, last steps)", $0) } ?? "no request yet")")
            print("threads      \(status.threads)")
            print("memory       \(size(status.residentBytes)) resident; plan \(size(status.memoryPlanBytes)) of a \(size(status.memoryBudgetBytes)) budget")
            if let experts = status.expertBytes, let resident = status.expertResidentBytes {
                let share = experts > 0 ? Double(resident) / Double(experts) * 100 : 0
                print("experts      \(size(resident)) of \(size(experts)) in memory (\(String(format: "%.0f", share))%)")
            }
            print("thermal      \(status.thermal ?? "-")")
            print("model        \(model.name) (\(model.architecture), \(size(model.fileBytes)), context \(model.contextLength), chat \(model.chatFormat ?? "none"))")
            print("file         \(model.file)")
            if let vision = model.vision { print("vision       \(vision) (images in chat)") }
        } catch let error as BriseClientError {
            FileHandle.standardError.write(Data("brise status: \(error.message)\n".utf8))
            throw ExitCode(error.code == .connection ? 69 : 1)
        }
    }
}
