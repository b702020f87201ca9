import Engine
import Foundation
import Logging
import Tokenization
import WireProtocol

/// Serves the methods of `org.varlink.service` and `io.brise.Inference` for one model: decodes each
/// call's parameters, runs it (generation through the engine, which schedules every request), and
/// sends the replies through the connection's `send`.
final class InferenceService: Sendable {
    let engine: InferenceEngine
    let state: DaemonState
    let configuration: DaemonConfiguration
    let pacer: ThermalPacer
    let logger: Logger
    let version: String
    /// Figures for `GET /metrics`.
    let metrics: ServiceMetrics
    /// The model's chat encoder, built once (nil: no vocabulary, or a template Brise does not know).
    let chatEncoder: ChatEncoder?
    /// Checks and builds each call's request.
    let builder: RequestBuilder

    init(
        engine: InferenceEngine, state: DaemonState, configuration: DaemonConfiguration, pacer: ThermalPacer, logger: Logger,
        version: String
    ) {
        self.engine = engine
        self.state = state
        self.configuration = configuration
        self.pacer = pacer
        self.logger = logger
        self.version = version
        metrics = ServiceMetrics(version: version)
        let loaded = engine.loaded
        chatEncoder = loaded.tokenizer.flatMap { try? ChatEncoder(tokenizer: $0) }
        if let tokenizer = loaded.tokenizer, tokenizer.vocabulary.chatTemplate == nil, let format = chatEncoder?.format {
            // A base model often has the control tokens but was never tuned to follow them.
            logger.warning(
                "the model has no chat template (tokenizer.chat_template); Chat assumes the \(format.rawValue) format from its control tokens, which a base model may not follow"
            )
        }
        builder = RequestBuilder(
            tokenizer: loaded.tokenizer, chatEncoder: chatEncoder, contextLength: loaded.contextLength,
            vocabularySize: loaded.vocabularySize, defaultMaxTokens: configuration.defaultMaxTokens,
            fillInTheMiddle: loaded.fillInTheMiddle, defaultSpeculative: configuration.speculative, vision: engine.vision)
    }

    /// Sends one reply (bytes with their NUL); returns false when the connection is gone.
    typealias Send = @Sendable ([UInt8]) async -> Bool

    /// Handles one call. Replies go through `send` (none for `oneway` calls).
    ///
    /// - Parameters:
    ///   - call: The decoded call.
    ///   - hungUp: Set when the client closed the connection (generation stops within one token).
    ///   - send: Writes a reply.
    func handle(_ call: VarlinkCall, hungUp: Flag, send: @escaping Send) async {
        let reply: Send = call.oneway ? { @Sendable _ in true } : send
        do {
            guard !call.upgrade else {
                throw WireError.invalidParameter(parameter: "upgrade", reason: "brised does not upgrade connections")
            }
            switch call.method {
            case VarlinkService.getInfo:
                _ = await reply(VarlinkReply.encode(info))
            case VarlinkService.getInterfaceDescription:
                let parameters = try call.parameters(InterfaceDescriptionParameters.self)
                switch parameters.interface {
                case InferenceInterface.name:
                    _ = await reply(VarlinkReply.encode(InterfaceDescriptionReply(description: InferenceInterface.description)))
                case VarlinkService.name:
                    _ = await reply(VarlinkReply.encode(InterfaceDescriptionReply(description: VarlinkService.description)))
                default:
                    throw WireError.interfaceNotFound(interface: parameters.interface)
                }
            case InferenceInterface.Method.generate.qualifiedName:
                try await generate(call, hungUp: hungUp, send: reply)
            case InferenceInterface.Method.chat.qualifiedName:
                try await chat(call, hungUp: hungUp, send: reply)
            case InferenceInterface.Method.complete.qualifiedName:
                try await complete(call, hungUp: hungUp, send: reply)
            case InferenceInterface.Method.tokenize.qualifiedName:
                _ = await reply(VarlinkReply.encode(try builder.tokenize(call)))
            case InferenceInterface.Method.detokenize.qualifiedName:
                _ = await reply(VarlinkReply.encode(try builder.detokenize(call)))
            case InferenceInterface.Method.getModel.qualifiedName:
                _ = await reply(VarlinkReply.encode(modelReply))
            case InferenceInterface.Method.getStatus.qualifiedName:
                _ = await reply(VarlinkReply.encode(status))
            default:
                if call.interface == InferenceInterface.name || call.interface == VarlinkService.name {
                    throw WireError.methodNotFound(method: call.method)
                }
                throw WireError.interfaceNotFound(interface: call.interface)
            }
        } catch let error as WireError {
            if call.interface == InferenceInterface.name {
                metrics.request(method: String(call.method.split(separator: ".").last ?? ""), result: ServiceMetrics.result(error))
            }
            _ = await reply(VarlinkReply.encode(error: error))
        } catch {
            logger.error("request failed", metadata: ["method": "\(call.method)", "error": "\(error)"])
            _ = await reply(VarlinkReply.encode(error: .invalidParameter(parameter: "request", reason: "\(error)")))
        }
    }

    // MARK: - Descriptions

    var info: ServiceInfo {
        ServiceInfo(
            vendor: "Brise", product: "brised", version: version, url: "https://github.com/brise-ai/brise",
            interfaces: [VarlinkService.name, InferenceInterface.name])
    }

    var modelReply: ModelReply {
        let loaded = engine.loaded
        return ModelReply(
            name: loaded.name, architecture: loaded.architecture, file: loaded.filePath, fileBytes: loaded.fileBytes,
            contextLength: loaded.contextLength, vocabularySize: loaded.vocabularySize, chatFormat: chatEncoder?.format.rawValue,
            fillInTheMiddle: builder.fillInTheMiddle != nil,
            reasoning: chatEncoder?.thinking.flatMap { thinking in
                engine.loaded.tokenizer?.vocabulary.text(of: thinking.open).map { String(decoding: $0, as: UTF8.self) }
            },
            vision: engine.vision?.path)
    }

    var status: StatusReply {
        let engineStatus = engine.status
        let generating = engineStatus.busySlots > 0
        let stateName: String
        switch state.phase {
        case .starting: stateName = "starting"
        case .stopping: stateName = "stopping"
        case .serving:
            if generating {
                if case .paused = pacer.governorState { stateName = "paused" } else { stateName = "generating" }
            } else {
                stateName = "idle"
            }
        }
        let loaded = engine.loaded
        let plan = loaded.plan
        let experts = loaded.expertResidency
        return StatusReply(
            state: stateName, activeRequests: engineStatus.busySlots, queuedRequests: engineStatus.queued,
            slots: engineStatus.slots, threads: generating ? loaded.activeThreads : loaded.threads,
            memoryPlanBytes: plan.totalBytes + (engine.draft.map { $0.loaded.plan.totalBytes - MemoryPlan.defaultOverhead } ?? 0), memoryBudgetBytes: plan.budget, residentBytes: ProcessMemory.residentBytes(),
            thermal: "\(pacer.summary) (soft \(Self.celsius(pacer.limits.softLimit)), hard \(Self.celsius(pacer.limits.hardLimit))"
                + (pacer.limits.maximumTokensPerSecond.map { ", cap \($0) tokens/s" } ?? "") + ")",
            tokensPerSecond: engineStatus.tokensPerSecond, speculativeAcceptance: engineStatus.acceptanceRate,
            expertBytes: experts?.total, expertResidentBytes: experts?.resident)
    }

    static func celsius(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) °C" : "\(value) °C"
    }

    /// The status as one line (systemd's `STATUS=`).
    var statusLine: String {
        let s = status
        let rate = s.tokensPerSecond.map { String(format: "%.1f tokens/s", $0) } ?? "no tokens yet"
        return "\(s.state); \(s.activeRequests) of \(s.slots ?? 1) slots busy, \(s.queuedRequests) queued; \(rate); \(s.threads) threads; thermal \(s.thermal ?? "-"); "
            + "RSS \(MemoryPlan.formatted(s.residentBytes)), plan \(MemoryPlan.formatted(s.memoryPlanBytes)) of \(MemoryPlan.formatted(s.memoryBudgetBytes))"
    }

    /// A fresh random seed, for a request that gives none.
    func randomSeed() -> UInt64 {
        // The system generator has no state of its own (getrandom): any thread may draw from it.
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }
}

/// This process's memory, from `/proc/self/statm`.
enum ProcessMemory {
    /// Resident bytes (file-backed and anonymous).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
