// Ask brised a question with the BriseClient library and stream the answer.
//
//   swift run brise-example "Why is the sky blue?"      (BRISE_SOCKET picks the daemon's socket)
import BriseClient
import Foundation
import WireProtocol

let question = CommandLine.arguments.dropFirst().joined(separator: " ")
let client = BriseClient(environment: ProcessInfo.processInfo.environment)
do {
    let stream = client.chat([Message(role: "user", content: question)], options: SamplingOptions(temperature: 0, maxTokens: 64))
    for try await event in stream {
        switch event {
        case .text(let text):
            print(text, terminator: "")
        case .reasoning:
            break  // a reasoning model's thinking: not shown here
        case .finished(let summary):
            print("\n[\(summary.finishReason ?? "?"), \(summary.usage?.generatedTokens ?? 0) tokens]")
        }
    }
} catch {
    print("brise-example: \(error)")
    exit(1)
}
