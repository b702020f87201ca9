import Engine
import Foundation
import ModelStore
import Logging
import ServiceLifecycle
import UnixSignals
import WireProtocol

#if canImport(Glibc)
import Glibc
#endif

/// `brised`: reads the configuration, loads the model, warms it up, tells systemd it is ready, and
/// serves until SIGTERM or SIGINT, then drains and exits 0.
public enum Daemon {
    /// The daemon's version.
    public static let version = BriseVersion.current

    /// Runs the daemon.
    ///
    /// - Parameters:
    ///   - arguments: Command-line arguments without the program name.
    ///   - environment: The process environment.
    /// - Returns: The exit status: 0 after a clean stop, 78 (EX_CONFIG) for a bad configuration, 1 otherwise.
    public static func main(arguments: [String], environment: [String: String]) async -> Int32 {
        let action: DaemonConfiguration.Action
        let configuration: DaemonConfiguration
        do {
            (action, configuration) = try DaemonConfiguration.load(arguments: arguments, environment: environment)
        } catch {
            printError("brised: \(error.message)")
            return 78
        }
        switch action {
        case .help:
            print(DaemonConfiguration.usage)
            return 0
        case .version:
            print("brised \(version)")
            return 0
        case .printConfiguration:
            print(configuration.tomlText, terminator: "")
            return 0
        case .dumpHelp:
            print(DaemonConfiguration.toolInfoJSON)
            return 0
        case .serve:
            break
        }

        let journal = JournalLogHandler.stderrIsJournal(environment: environment)
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = journal ? JournalLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "io.brise.brised")
        do {
            try await serve(configuration: configuration, environment: environment, logger: logger)
            return 0
        } catch let error as DaemonError {
            // Once: to the journal with its code, or as one plain line on a terminal (the stream
            // handler writes to the same stderr, so logging it there too printed it twice).
            if journal {
                logger.critical("\(error.message)", metadata: ["code": "\(error.code)"])
            } else {
                printError("brised: \(error.message)")
            }
            return error.code == .configuration || error.code == .permission ? 78 : 1
        } catch {
            if journal { logger.critical("\(error)") } else { printError("brised: \(error)") }
            return 1
        }
    }

    /// The API key: the first line of `path` (at most 4 KiB, not empty, no spaces).
    ///
    /// - Throws: `DaemonError` `.configuration` naming the file and what is wrong.
    static func apiKey(_ path: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DaemonError(.configuration, "api_key_file \(path) cannot be read")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: 4097)) ?? Data()
        guard data.count <= 4096, let text = String(data: data, encoding: .utf8) else {
            throw DaemonError(.configuration, "api_key_file \(path) is not UTF-8 text of at most 4 KiB")
        }
        let key = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "").trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty, !key.contains(where: { $0.isWhitespace }) else {
            throw DaemonError(.configuration, "api_key_file \(path) holds no key (its first line, without spaces)")
        }
        return Array(key.utf8)
    }

    private static func serve(configuration: DaemonConfiguration, environment: [String: String], logger: Logger) async throws {
        let notifier = SystemdNotifier(environment: environment)
        let policy = try AccessPolicy(users: configuration.allowedUsers, groups: configuration.allowedGroups)
        let activated = try SocketActivation.takeListeningSockets()
        let listener: VarlinkServer.Listener = activated.varlink.map { .descriptor($0) } ?? .path(configuration.socket)
        let httpListener: VarlinkServer.Listener? = activated.http.map { .descriptor($0) } ?? configuration.httpSocket.map { .path($0) }
        let tcpListener: HTTPServer.Listener? = try configuration.httpListen.map { .tcp($0, apiKey: try Self.apiKey(configuration.apiKeyFile ?? "")) }
        let limits: ThermalGovernor<ContinuousClock>.Limits
        do {
            limits = try .init(
                softLimit: configuration.thermalSoftLimit, hardLimit: configuration.thermalHardLimit,
                maximumWait: .milliseconds(Int64(configuration.thermalMaxWaitSeconds * 1000)),
                maximumTokensPerSecond: configuration.maxTokensPerSecond)
        } catch {
            throw DaemonError(.configuration, "\(error)")
        }

        if configuration.speculative == .draft, configuration.draftModel == nil {
            throw DaemonError(.configuration, "speculative = \"draft\" needs a draft_model")
        }

        // A second brised on a live socket is refused before it maps and warms a model it cannot serve
        // (the server checks again when it binds).
        if case .path(let path) = listener { try SocketFile.prepare(path) }

        // Loading maps the file and plans memory: milliseconds for a warm page cache, longer from a
        // slow disk; the warm-up step touches every weight once. Ask systemd for time meanwhile.
        let modelPath: String
        do {
            modelPath = try ModelLocation.resolve(configuration.model ?? "", modelsDirectory: configuration.modelsDir, environment: environment)
        } catch {
            throw DaemonError(.model, error.message)
        }
        notifier.status("loading \(modelPath)")
        notifier.extendTimeout(by: .seconds(120))
        logger.info("loading the model", metadata: ["model": "\(modelPath)"])
        let loaded: LoadedModel
        do {
            loaded = try LoadedModel(
                modelPath: modelPath, contextLength: configuration.context, memoryBudget: configuration.memoryBudget,
                lockWeights: configuration.mlock, threads: configuration.threads, kvType: configuration.kvType,
                slots: configuration.parallel, environment: environment)
        } catch {
            throw DaemonError(.model, "\(modelPath): \(error)")
        }
        if let warning = loaded.contextWarning { logger.warning("\(warning)") }
        if let warning = loaded.memoryWarning { logger.warning("\(warning)") }
        var draft: DraftModel?
        if let draftName = configuration.draftModel {
            let draftPath: String
            do {
                draftPath = try ModelLocation.resolve(draftName, modelsDirectory: configuration.modelsDir, environment: environment)
            } catch {
                throw DaemonError(.model, "draft_model: \(error.message)")
            }
            notifier.status("loading the draft model \(draftPath)")
            do {
                draft = try DraftModel(path: draftPath, target: loaded, lockWeights: configuration.mlock, environment: environment)
            } catch let error as EngineError {
                throw DaemonError(.configuration, "draft_model: \(error.message)")
            } catch {
                throw DaemonError(.model, "draft_model \(draftPath): \(error)")
            }
            do {
                try draft!.loaded.warmUp()
            } catch {
                throw DaemonError(.model, "draft_model \(draftPath): the warm-up step failed: \(error)")
            }
            logger.info("draft model ready", metadata: ["draft_model": "\(draftPath)", "memory_plan": "\(draft!.loaded.plan)"])
        }
        var vision: VisionProjector?
        if let visionName = configuration.visionModel {
            let visionPath: String
            do {
                visionPath = try ModelLocation.resolve(visionName, modelsDirectory: configuration.modelsDir, environment: environment)
            } catch {
                throw DaemonError(.model, "vision_model: \(error.message)")
            }
            notifier.status("loading the vision model \(visionPath)")
            do {
                vision = try VisionProjector(path: visionPath, target: loaded, lockWeights: configuration.mlock)
            } catch let error as EngineError {
                throw DaemonError(.configuration, "vision_model: \(error.message)")
            } catch {
                throw DaemonError(.model, "vision_model \(visionPath): \(error)")
            }
            logger.info(
                "vision model ready",
                metadata: [
                    "vision_model": "\(visionPath)", "weights": "\(MemoryPlan.formatted(vision!.weightBytes))",
                    "encode_memory": "\(MemoryPlan.formatted(vision!.workingBytes))",
                ])
        }
        notifier.status("warming up \(modelPath)")
        do {
            try loaded.warmUp()
        } catch {
            throw DaemonError(.model, "\(modelPath): the warm-up step failed: \(error)")
        }
        logger.info(
            "model ready",
            metadata: [
                "architecture": "\(loaded.architecture)", "context": "\(loaded.contextLength)", "slots": "\(loaded.plan.slots)",
                "threads": "\(loaded.threads)", "kernels": "\(loaded.kernelSummary)", "load_seconds": "\(loaded.loadSeconds)",
                "memory_plan": "\(loaded.plan)",
            ])

        // The watchdog is pinged from the model thread (idle, and between steps) at half the interval.
        let lastPing = Locked(ContinuousClock.now)
        let pingEvery = notifier.watchdogInterval.map { $0 / 2 }
        let pacer = ThermalPacer(limits: limits, zones: ThermalZones(directory: configuration.thermalZones))
        let engine = InferenceEngine(
            loaded: loaded, draft: draft, vision: vision,
            configuration: .init(
                prefillChunk: configuration.prefillChunk, queueLimit: configuration.maxQueuedRequests,
                queueWait: .milliseconds(Int64(configuration.maxQueueWaitSeconds * 1000)),
                requestLimit: .milliseconds(Int64(configuration.maxRequestSeconds * 1000)),
                drain: .milliseconds(Int64(configuration.shutdownTimeoutSeconds * 1000)),
                imageSlice: .milliseconds(configuration.imageSliceMilliseconds)),
            pacer: pacer, heartbeatInterval: pingEvery
        ) {
            guard let pingEvery else { return }
            let now = ContinuousClock.now
            let due = lastPing.withLock { last in
                guard last.duration(to: now) >= pingEvery / 2 else { return false }
                last = now
                return true
            }
            if due { notifier.watchdog() }
        }

        let state = DaemonState()
        let service = InferenceService(
            engine: engine, state: state, configuration: configuration, pacer: pacer, logger: logger, version: version)
        let server = VarlinkServer(
            listener: listener, service: service, policy: policy, configuration: configuration, state: state, engine: engine,
            notifier: notifier, logger: logger)
        let http = ([httpListener.map { HTTPServer.Listener.unix($0) }, tcpListener]).compactMap { $0 }.map {
            HTTPServer(listener: $0, api: HTTPAPI(service: service, state: state), policy: policy, configuration: configuration, state: state, logger: logger)
        }
        let reporter = StatusReporter(service: service, notifier: notifier, interval: .seconds(2))
        let group = ServiceGroup(
            configuration: .init(
                // Shut down last to first: the reporter, then the server (which begins the engine's
                // drain and waits for its connections), then the engine's thread.
                services: [.init(service: engine), .init(service: server)] + http.map { .init(service: $0) }
                    + [.init(service: reporter)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    private static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
