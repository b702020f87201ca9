import Foundation
import Kernels
import Model
public import ServiceLifecycle

/// What a submitted request's stream carries: output as it comes, then the outcome (the stream then
/// ends). Errors end the stream as `EngineError`s.
public enum GenerationEvent: Sendable, Equatable {
    /// Whole characters of text (stop strings held back and cut), or an id when there is no tokenizer.
    case output(GenerationOutput)
    /// The request is done.
    case finished(GenerationOutcome)
}

/// The engine's state for status lines and `GetStatus`.
public struct EngineStatus: Sendable, Equatable {
    /// Slots in all, and how many run a sequence.
    public var slots: Int
    public var busySlots: Int
    /// Requests waiting for a slot.
    public var queued: Int
    /// Generated tokens per second over all sequences, over the last steps (nil: none yet).
    public var tokensPerSecond: Double?
    /// Requests that ended (any way) since start.
    public var requestsEnded: Int
    /// Tokens guessed ahead and verified since the start (speculative decoding), and those the model
    /// agreed with.
    public var draftedTokens = 0
    public var acceptedTokens = 0
    /// Steps since the start in which a prompt image's encoder ran a slice and let the other
    /// sequences go on before it finished.
    public var imageSlices = 0

    /// The share of guessed tokens the model agreed with (nil: nothing guessed yet).
    public var acceptanceRate: Double? { draftedTokens > 0 ? Double(acceptedTokens) / Double(draftedTokens) : nil }
}

/// The protocol-neutral serving core: one model thread running the scheduler's steps — several
/// sequences decoded together in one forward pass, prompts fed in chunks between them — behind one
/// submission API. A `Service`: on graceful shutdown it refuses new and waiting requests, lets
/// running ones finish until the drain deadline, and ends its thread.
///
/// The model thread also beats the caller's heartbeat (systemd's watchdog) between steps and while
/// idle, so a stuck model thread stops the pings.
public final class InferenceEngine: Service, Sendable {
    /// The engine's limits.
    public struct Configuration: Sendable, Equatable {
        /// The most prompt tokens one step carries.
        public var prefillChunk: Int
        /// The most requests that may wait for a slot.
        public var queueLimit: Int
        /// The longest a request waits for a slot.
        public var queueWait: Duration
        /// The longest a request runs once admitted.
        public var requestLimit: Duration
        /// How long running requests may finish once shutdown begins.
        public var drain: Duration
        /// While other sequences share the engine, a prompt image's encoder runs about this long per
        /// step (whole layers, at least one) and their streams keep moving between its slices; with
        /// nothing else running it encodes in one step.
        public var imageSlice: Duration

        public init(
            prefillChunk: Int = 256, queueLimit: Int = 16, queueWait: Duration = .seconds(300),
            requestLimit: Duration = .seconds(600), drain: Duration = .seconds(30), imageSlice: Duration = .milliseconds(250)
        ) {
            self.prefillChunk = prefillChunk
            self.queueLimit = queueLimit
            self.queueWait = queueWait
            self.requestLimit = requestLimit
            self.drain = drain
            self.imageSlice = imageSlice
        }
    }

    private enum Event: Sendable {
        case submit(UInt64, GenerationRequest, EngineCore.Sink)
        case cancel(UInt64)
        /// Drain: refuse new and waiting requests, end running ones at the deadline.
        case shutdown(ContinuousClock.Instant)
        /// Drain, then end the thread once nothing runs.
        case stop(ContinuousClock.Instant)
    }

    private struct Inbox {
        var events: [Event] = []
        var nextID: UInt64 = 1
        var ended = false
    }

    /// The loaded model.
    public let loaded: LoadedModel
    /// The draft model, when one is configured.
    public let draft: DraftModel?
    /// The vision projector, when one is configured (prompts may then carry images).
    public let vision: VisionProjector?
    public let configuration: Configuration
    private let pacer: ThermalPacer?
    private let heartbeat: @Sendable () -> Void
    private let heartbeatInterval: Duration?
    private let inbox = Locked(Inbox())
    private let statusState: Locked<EngineStatus>
    private let wake = DispatchSemaphore(value: 0)
    private let core: CoreBox

    /// The core, touched only by the model thread.
    private final class CoreBox: @unchecked Sendable {
        let core: EngineCore
        init(_ core: EngineCore) { self.core = core }
    }

    /// Creates an engine over `loaded`'s session (its slots are the engine's). Nothing runs until `run()`.
    ///
    /// - Parameters:
    ///   - loaded: The model.
    ///   - draft: A draft model for it (speculative `draft` and `auto`; nil: none).
    ///   - vision: A vision projector for it (nil: prompts with images are refused).
    ///   - configuration: Limits.
    ///   - pacer: Thermal and rate pacing, applied to each step as a whole (nil: full speed).
    ///   - heartbeatInterval: How often `heartbeat` runs while idle (nil: only between steps).
    ///   - heartbeat: Called on the model thread between steps and while idle.
    public init(
        loaded: LoadedModel, draft: DraftModel? = nil, vision: VisionProjector? = nil, configuration: Configuration,
        pacer: ThermalPacer? = nil, heartbeatInterval: Duration? = nil, heartbeat: @escaping @Sendable () -> Void = {}
    ) {
        self.loaded = loaded
        self.draft = draft
        self.vision = vision
        self.configuration = configuration
        self.pacer = pacer
        self.heartbeat = heartbeat
        self.heartbeatInterval = heartbeatInterval
        core = CoreBox(EngineCore(loaded: loaded, draft: draft, vision: vision, configuration: configuration))
        statusState = Locked(
            EngineStatus(slots: loaded.session.slots, busySlots: 0, queued: 0, tokensPerSecond: nil, requestsEnded: 0))
    }

    /// The engine's state now.
    public var status: EngineStatus { statusState.withLock { $0 } }

    /// Submits a request.
    ///
    /// - Parameter request: The prompt, sampling and limits.
    /// - Returns: Its output and outcome. Ending the iteration early (or cancelling the consuming task)
    ///   cancels the request: a waiting one leaves the queue; a running one ends within one step.
    ///   Errors are `EngineError`s.
    public func submit(_ request: GenerationRequest) -> AsyncThrowingStream<GenerationEvent, any Error> {
        let (stream, sink) = AsyncThrowingStream<GenerationEvent, any Error>.makeStream()
        let id = inbox.withLock { inbox -> UInt64? in
            guard !inbox.ended else { return nil }
            let id = inbox.nextID
            inbox.nextID += 1
            inbox.events.append(.submit(id, request, sink))
            return id
        }
        guard let id else {
            sink.finish(throwing: EngineError(.shuttingDown, "the daemon is stopping"))
            return stream
        }
        sink.onTermination = { [weak self] termination in
            guard case .cancelled = termination, let self else { return }
            self.post(.cancel(id))
        }
        wake.signal()
        return stream
    }

    /// Begins the shutdown: new and waiting requests get `shuttingDown`; running ones may finish
    /// until `deadline` (the earliest deadline given wins). The thread keeps running (refusing) until
    /// `run()` is told to stop — by the service group's graceful shutdown or by cancellation.
    public func shutdown(deadline: ContinuousClock.Instant) {
        post(.shutdown(deadline))
    }

    private func post(_ event: Event) {
        let posted = inbox.withLock { inbox -> Bool in
            guard !inbox.ended else { return false }
            inbox.events.append(event)
            return true
        }
        if posted { wake.signal() }
    }

    /// Runs the model thread until a graceful shutdown has drained it (running requests get
    /// `configuration.drain` to finish), or at once when the task is cancelled.
    public func run() async throws {
        let box = core
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                    let thread = Thread { [self] in
                        loop(box.core)
                        finished.resume()
                    }
                    thread.name = "brise-model"
                    thread.stackSize = 8 << 20
                    thread.start()
                }
            } onGracefulShutdown: {
                self.post(.stop(.now.advanced(by: self.configuration.drain)))
            }
        } onCancel: {
            self.post(.stop(.now))
        }
    }

    // MARK: - The model thread

    private func loop(_ core: EngineCore) {
        let pool = loaded.pool
        let allThreads = loaded.threads
        var recent: [(tokens: Int, seconds: Double)] = []
        var stopping: ContinuousClock.Instant?
        var exit = false
        while true {
            let events = inbox.withLock { inbox -> [Event] in
                defer { inbox.events.removeAll() }
                return inbox.events
            }
            for event in events {
                switch event {
                case .submit(let id, let request, let sink): core.arrive(id, request, sink: sink)
                case .cancel(let id): core.cancel(id)
                case .shutdown(let deadline):
                    stopping = min(stopping ?? deadline, deadline)
                    core.shutdown(deadline: deadline)
                case .stop(let deadline):
                    stopping = min(stopping ?? deadline, deadline)
                    core.shutdown(deadline: deadline)
                    exit = true
                }
            }
            core.tick()
            if exit, core.isIdle { break }
            // Admissions show before a thermal pause holds the step.
            if !events.isEmpty { publish(core, recent: recent) }
            if core.runningCount > 0 {
                do {
                    if let pacer {
                        // A pause ends early only at the shutdown deadline (the step then ends everything).
                        try pacer.gate { stopping.map { ContinuousClock.now >= $0 } ?? false }
                        pool.activeThreads = pacer.threads(outOf: allThreads)
                    }
                } catch {
                    core.failRunning(EngineError(.thermalTimeout, "\(error)", seconds: pacer?.limits.maximumWait.seconds))
                }
            }
            if let report = core.step() {
                pacer?.tokenDone()
                if report.generated > 0 {
                    recent.append((report.generated, report.seconds))
                    if recent.count > 16 { recent.removeFirst() }
                }
                publish(core, recent: recent)
                heartbeat()
                continue
            }
            pool.activeThreads = allThreads
            publish(core, recent: recent)
            // Idle (or only waiting): sleep until woken, the next deadline or the next heartbeat.
            var wait = heartbeatInterval.map { min($0, .seconds(3600)) } ?? .seconds(3600)
            if let deadline = core.scheduler.nextDeadline {
                wait = min(wait, max(.milliseconds(1), ContinuousClock.now.duration(to: deadline)))
            }
            let nanoseconds = Int(min(wait.seconds, 3600) * 1e9)
            if wake.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .timedOut { heartbeat() }
        }
        pool.activeThreads = allThreads
        // Nothing is accepted any more; whatever arrived meanwhile is refused.
        let late = inbox.withLock { inbox -> [Event] in
            inbox.ended = true
            defer { inbox.events.removeAll() }
            return inbox.events
        }
        for case .submit(_, _, let sink) in late { sink.finish(throwing: EngineError(.shuttingDown, "the daemon is stopping")) }
        publish(core, recent: recent)
    }

    private func publish(_ core: EngineCore, recent: [(tokens: Int, seconds: Double)]) {
        let tokens = recent.reduce(0) { $0 + $1.tokens }
        let seconds = recent.reduce(0) { $0 + $1.seconds }
        let ended = core.endedCount
        let drafted = core.draftedCount
        let accepted = core.acceptedCount
        let slices = core.imageSlices
        statusState.withLock {
            $0.imageSlices = slices
            $0.draftedTokens = drafted
            $0.acceptedTokens = accepted
            $0.busySlots = core.runningCount
            $0.queued = core.waitingCount
            if tokens > 0, seconds > 0 { $0.tokensPerSecond = Double(tokens) / seconds }
            $0.requestsEnded = ended
        }
    }
}
