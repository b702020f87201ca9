import Engine
import Foundation
import GGUF
import Kernels
import Logging
import Model
import Sampling
import Synchronization
import Tokenization
import WireProtocol

/// Serves the methods of `org.varlink.service` and `io.brise.Inference` for one model: decodes each
/// call's parameters, runs it (generation on the model thread, one request at a time, fairly
/// queued), and sends the replies through the connection's `send`.
final class InferenceService: Sendable {
    let context: InferenceContext
    let modelThread: ModelThread
    let queue: RequestQueue
    let state: DaemonState
    let configuration: DaemonConfiguration
    let pacer: ThermalPacer
    let logger: Logger
    let version: String
    /// The model's chat encoder, built once (nil: no vocabulary, or a template Brise does not know).
    let chatEncoder: ChatEncoder?
    private let seeds = Mutex(SystemRandomNumberGenerator())

    init(
        context: InferenceContext, modelThread: ModelThread, queue: RequestQueue, state: DaemonState,
        configuration: DaemonConfiguration, pacer: ThermalPacer, logger: Logger, version: String
    ) {
        self.context = context
        self.modelThread = modelThread
        self.queue = queue
        self.state = state
        self.configuration = configuration
        self.pacer = pacer
        self.logger = logger
        self.version = version
        chatEncoder = context.loaded.tokenizer.flatMap { try? ChatEncoder(tokenizer: $0) }
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
            case InferenceInterface.Method.tokenize.qualifiedName:
                let parameters = try call.parameters(TokenizeParameters.self)
                let tokenizer = try requireTokenizer()
                let ids = tokenizer.encode(
                    parameters.text, addSpecial: parameters.addSpecial ?? true, parseSpecial: parameters.parseSpecial ?? false)
                _ = await reply(VarlinkReply.encode(TokenizeReply(tokens: ids.map(Int.init))))
            case InferenceInterface.Method.detokenize.qualifiedName:
                let parameters = try call.parameters(DetokenizeParameters.self)
                let tokenizer = try requireTokenizer()
                var ids: [TokenID] = []
                for (index, token) in parameters.tokens.enumerated() {
                    guard let id = TokenID(exactly: token), id >= 0, Int(id) < tokenizer.vocabulary.count else {
                        throw WireError.invalidParameter(
                            parameter: "tokens[\(index)]", reason: "\(token) is not a token id (0..<\(tokenizer.vocabulary.count))")
                    }
                    ids.append(id)
                }
                let text = (try? tokenizer.decode(ids)) ?? ""
                _ = await reply(VarlinkReply.encode(DetokenizeReply(text: text)))
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
        let loaded = context.loaded
        let metadata = loaded.file.metadata
        let path = loaded.file.file.path
        let name = (try? metadata.string("general.name")) ?? nil
        return ModelReply(
            name: name ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent,
            architecture: loaded.model.configuration.architecture.rawValue, file: path, fileBytes: loaded.file.fileSize,
            contextLength: context.contextLength, vocabularySize: loaded.model.vocabularySize,
            chatFormat: chatEncoder?.format.rawValue)
    }

    var status: StatusReply {
        let counts = queue.counts
        let stateName: String
        switch state.phase {
        case .starting: stateName = "starting"
        case .stopping: stateName = "stopping"
        case .serving:
            if state.isGenerating {
                if case .paused = pacer.governorState { stateName = "paused" } else { stateName = "generating" }
            } else {
                stateName = "idle"
            }
        }
        let plan = context.loaded.plan
        return StatusReply(
            state: stateName, activeRequests: counts.active, queuedRequests: counts.queued,
            threads: state.isGenerating ? context.loaded.pool.activeThreads : context.loaded.threads,
            memoryPlanBytes: plan.totalBytes, memoryBudgetBytes: plan.budget, residentBytes: ProcessMemory.residentBytes(),
            thermal: "\(pacer.summary) (soft \(Self.celsius(pacer.limits.softLimit)), hard \(Self.celsius(pacer.limits.hardLimit))"
                + (pacer.limits.maximumTokensPerSecond.map { ", cap \($0) tokens/s" } ?? "") + ")",
            tokensPerSecond: state.lastTokensPerSecond)
    }

    static func celsius(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) °C" : "\(value) °C"
    }

    /// The status as one line (systemd's `STATUS=`).
    var statusLine: String {
        let s = status
        let rate = s.tokensPerSecond.map { String(format: "%.1f tokens/s", $0) } ?? "no tokens yet"
        return "\(s.state); \(s.activeRequests) active, \(s.queuedRequests) queued; \(rate); \(s.threads) threads; thermal \(s.thermal ?? "-"); "
            + "RSS \(s.residentBytes >> 20) MiB, plan \(s.memoryPlanBytes >> 20) MiB of \(s.memoryBudgetBytes >> 20) MiB"
    }

    private func requireTokenizer() throws(WireError) -> Tokenizer {
        guard let tokenizer = context.loaded.tokenizer else {
            throw WireError.invalidParameter(parameter: "model", reason: "the model file has no vocabulary")
        }
        return tokenizer
    }

    // MARK: - Sampling options

    /// The request's sampling choices on top of llama.cpp's defaults; a request without a seed gets a
    /// fresh random one. Without `max_tokens`, the configured default, cut to what the context has
    /// left after the prompt.
    func sampling(_ options: SamplingOptions?, promptTokens: Int) throws(WireError) -> (SamplingParameters, maxTokens: Int, stop: [String]) {
        var p = SamplingParameters()
        let o = options ?? SamplingOptions()
        func float(_ value: Double?, _ name: String) throws(WireError) -> Float? {
            guard let value else { return nil }
            guard value.isFinite, abs(value) <= 1e6 else { throw .invalidParameter(parameter: "options.\(name)", reason: "\(value) is out of range") }
            return Float(value)
        }
        if let v = try float(o.temperature, "temperature") { p.temperature = v }
        if let v = o.topK { p.topK = v }
        if let v = try float(o.topP, "top_p") { p.topP = v }
        if let v = try float(o.minP, "min_p") { p.minP = v }
        if let v = try float(o.repetitionPenalty, "repetition_penalty") { p.repetitionPenalty = v }
        if let v = try float(o.presencePenalty, "presence_penalty") { p.presencePenalty = v }
        if let v = try float(o.frequencyPenalty, "frequency_penalty") { p.frequencyPenalty = v }
        if let v = o.penaltyLastN { p.penaltyLastN = v }
        if let seed = o.seed {
            guard seed >= 0 else { throw .invalidParameter(parameter: "options.seed", reason: "\(seed) is negative") }
            p.seed = UInt64(seed)
        } else {
            p.seed = seeds.withLock { $0.next() }
        }
        do {
            try p.validate()
        } catch let error as SamplingError {
            throw .invalidParameter(parameter: "options.\(VarlinkCall.wireName(error.parameter ?? "options"))", reason: error.message)
        } catch {
            throw .invalidParameter(parameter: "options", reason: "\(error)")
        }
        let maxTokens = o.maxTokens ?? max(1, min(configuration.defaultMaxTokens, context.contextLength - promptTokens))
        guard maxTokens >= 1 else { throw .invalidParameter(parameter: "options.max_tokens", reason: "\(maxTokens) must be at least 1") }
        let stop = o.stop ?? []
        guard stop.count <= 16, stop.allSatisfy({ $0.utf8.count <= 256 }) else {
            throw .invalidParameter(parameter: "options.stop", reason: "at most 16 stop strings of at most 256 bytes")
        }
        return (p, maxTokens, stop)
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
