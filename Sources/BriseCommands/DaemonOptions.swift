import ArgumentParser
import BriseClient
import Foundation
import WireProtocol

/// Options shared by the commands that talk to brised: where its socket is, and sampling choices.
struct DaemonOptions: ParsableArguments {
    @Option(help: "brised's socket (default: $BRISE_SOCKET, else /run/brise/brised.sock).")
    var socket: String?

    @Option(name: [.customShort("n"), .long], help: "The most tokens to generate (default: the daemon's).")
    var maxTokens: Int?

    @Option(help: "Temperature (0 = greedy; default: the daemon's, 0.8).")
    var temperature: Double?

    @Option(help: "Top-k (0 = off).")
    var topK: Int?

    @Option(help: "Top-p (1 = off).")
    var topP: Double?

    @Option(help: "Min-p (0 = off).")
    var minP: Double?

    @Option(help: "Repetition penalty (1 = off; default: the daemon's).")
    var repeatPenalty: Double?

    @Option(help: "Presence penalty (0 = off).")
    var presencePenalty: Double?

    @Option(help: "Frequency penalty (0 = off).")
    var frequencyPenalty: Double?

    @Option(help: "Tokens the penalties look back over.")
    var repeatLastN: Int?

    @Option(help: "Seed of the random draw (default: a fresh one per request).")
    var seed: UInt64?

    @Option(help: "Stop when this text appears (repeatable).")
    var stop: [String] = []

    @Flag(help: "Print token counts and speeds to stderr when done.")
    var verbose = false

    @Option(help: "A reasoning model's thinking: on or off (default: the model decides).")
    var reasoning: String?

    @Option(help: "The most tokens a reasoning model may think for; then its thinking is closed.")
    var reasoningBudget: Int?

    @Flag(help: "Do not show a reasoning model's thinking (it is shown dimmed on stderr).")
    var hideReasoning = false

    var client: BriseClient {
        if let socket { return BriseClient(location: SocketLocation(path: socket)) }
        return BriseClient(environment: ProcessInfo.processInfo.environment)
    }

    var options: SamplingOptions {
        SamplingOptions(
            temperature: temperature, topK: topK, topP: topP, minP: minP, repetitionPenalty: repeatPenalty,
            presencePenalty: presencePenalty, frequencyPenalty: frequencyPenalty, penaltyLastN: repeatLastN, seed: seed,
            maxTokens: maxTokens, stop: stop.isEmpty ? nil : stop, reasoning: reasoning.flatMap(Reasoning.init(rawValue:)), reasoningBudget: reasoningBudget)
    }

    func validate() throws {
        if let reasoning, Reasoning(rawValue: reasoning) == nil {
            throw ValidationError("--reasoning: expected on or off, not \(reasoning)")
        }
    }
}



/// Streams one answer to stdout; Ctrl-C (SIGINT) cancels it, which closes the connection so brised
/// stops generating within one token.
enum AnswerPrinter {
    /// What happened to the answer.
    enum Outcome {
        case finished(text: String, summary: BriseClient.Summary?)
        case cancelled(text: String)
    }

    /// Prints `stream` as it arrives: the answer on stdout, a reasoning model's thinking dimmed on
    /// stderr (so a redirected stdout holds the answer only), unless `hideReasoning`.
    static func print(
        _ stream: AsyncThrowingStream<BriseClient.Event, any Error>, verbose: Bool,
        style: TerminalStyle = TerminalStyle(fileDescriptor: 2), endLine: Bool = true, hideReasoning: Bool = false
    ) async throws -> Outcome {
        let interrupts = InterruptWatcher()
        defer { interrupts.stop() }
        let spinner = Spinner()
        let task = Task { () throws -> (String, BriseClient.Summary?) in
            var text = ""
            var summary: BriseClient.Summary?
            var thinking = false
            for try await event in stream {
                spinner.stop()
                switch event {
                case .reasoning(let chunk):
                    guard !hideReasoning else { continue }
                    thinking = true
                    FileHandle.standardError.write(Data(style.dim(chunk).utf8))
                case .text(let chunk):
                    if thinking {
                        // The thinking ends: the answer starts on its own line.
                        thinking = false
                        FileHandle.standardError.write(Data("\n\n".utf8))
                    }
                    text += chunk
                    FileHandle.standardOutput.write(Data(chunk.utf8))
                case .finished(let end):
                    summary = end
                }
            }
            // Cancelled before the first event (Ctrl-C while the prompt is evaluated), the stream just
            // ends: that is a cancelled answer, not an empty one.
            try Task.checkCancellation()
            return (text, summary)
        }
        interrupts.onInterrupt = { task.cancel() }
        spinner.start()
        defer { spinner.stop() }
        do {
            let (text, summary) = try await task.value
            if endLine { FileHandle.standardOutput.write(Data("\n".utf8)) }
            if verbose, let usage = summary?.usage {
                let rate = usage.generationSeconds > 0 ? Double(usage.generatedTokens) / usage.generationSeconds : 0
                let line = String(
                    format: "[%@] prompt %d tokens (%d cached) in %.2f s; %d tokens at %.1f tokens/s\n",
                    summary?.finishReason ?? "?", usage.promptTokens, usage.cachedTokens, usage.promptSeconds, usage.generatedTokens, rate)
                FileHandle.standardError.write(Data(style.dim(line).utf8))
            }
            return .finished(text: text, summary: summary)
        } catch where task.isCancelled {
            FileHandle.standardOutput.write(Data("\n".utf8))
            FileHandle.standardError.write(Data((style.yellow("(cancelled)") + "\n").utf8))
            return .cancelled(text: "")
        }
    }
}

/// Turns SIGINT into a callback while installed (the default action, ending the program, is
/// restored afterwards).
final class InterruptWatcher: @unchecked Sendable {
    // @unchecked Sendable: `onInterrupt` is set before any signal can arrive on `queue`.
    private let source: any DispatchSourceSignal
    private let queue = DispatchQueue(label: "brise.sigint")
    var onInterrupt: @Sendable () -> Void = {}

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: queue)
        source.setEventHandler { [unowned self] in onInterrupt() }
        source.resume()
    }

    func stop() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}

/// A "waiting for brised" spinner on stderr until the first text arrives (only on a terminal).
final class Spinner: @unchecked Sendable {
    // @unchecked Sendable: the state is guarded by `lock`.
    private let lock = NSLock()
    private var timer: (any DispatchSourceTimer)?
    private var frame = 0

    func start() {
        guard isatty(2) == 1 else { return }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "brise.spinner"))
        timer.schedule(deadline: .now() + .milliseconds(300), repeating: .milliseconds(120))
        timer.setEventHandler { [weak self] in self?.tick() }
        lock.withLock { self.timer = timer }
        timer.resume()
    }

    private func tick() {
        lock.withLock {
            guard timer != nil else { return }
            let frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
            frame = (frame + 1) % frames.count
            FileHandle.standardError.write(Data("\r\(frames[frame]) thinking…".utf8))
        }
    }

    func stop() {
        lock.withLock {
            guard let timer else { return }
            timer.cancel()
            self.timer = nil
            if frame > 0 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        }
    }
}
