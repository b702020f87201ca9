public import ArgumentParser
import Engine
import Foundation
import GGUF
import Kernels
import Model
import Sampling
import Tokenization

/// `brise generate`: run a model in process on a prompt and stream the continuation to stdout.
public struct Generate: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Generate text from a prompt with a model, in process (llama, mistral3, qwen2 and gemma3 models).")

    @Option(help: "The GGUF model: a file, or a name in the models directory (as brised --model takes it).")
    var model: String

    @Option(help: "The prompt text.")
    var prompt: String?

    @Option(help: "The prompt as token ids, comma-separated (instead of --prompt); the output is ids too.")
    var tokens: String?

    @Flag(help: "Wrap the prompt as one user message in the model's chat format.")
    var chat = false

    @Option(name: [.customShort("n"), .long], help: "The most tokens to generate.")
    var maxTokens = 128

    @Option(help: "Stop when this text appears (repeatable); it is not printed.")
    var stop: [String] = []

    @Option(name: .customLong("json-schema"), help: "A JSON Schema file the answer must validate against (as response_format json_schema).")
    var jsonSchema: String?

    @Option(help: "A GBNF grammar file (llama.cpp's syntax) the answer must match.")
    var grammar: String?

    @Option(help: "Temperature (0 = greedy).")
    var temperature: Float = 0.8
    @Option(help: "Top-k (0 = off).")
    var topK = 40
    @Option(help: "Top-p (1 = off).")
    var topP: Float = 0.95
    @Option(help: "Min-p (0 = off).")
    var minP: Float = 0.05
    @Option(help: "Repetition penalty (1 = off).")
    var repeatPenalty: Float = 1
    @Option(help: "Presence penalty.")
    var presencePenalty: Float = 0
    @Option(help: "Frequency penalty.")
    var frequencyPenalty: Float = 0
    @Option(help: "Tokens the penalties look back over.")
    var repeatLastN = 64
    @Option(help: "Seed of the random draw.")
    var seed: UInt64 = 0

    @Option(help: "Worker threads (default: what the affinity mask and the cgroup CPU quota allow; see brise budget).")
    var threads: Int?

    @Option(
        name: [.customLong("context"), .customLong("ctx")],
        help: "Context length (default: the largest that fits the memory budget, at most 4096 and the model's; as brised's --context).")
    var ctx: Int?

    @Option(help: "Memory budget, e.g. 2G or 512M (the cgroup's limit applies when lower).")
    var memoryBudget: String?

    @Option(name: .customLong("kv-type"), help: "KV cache element type: f16 (default, as llama.cpp) or q8_0 (about half the memory).")
    var kvType: String = KVCacheType.f16.rawValue

    @Flag(help: "Lock the weights in memory (mlock); needs RLIMIT_MEMLOCK at least the model's size.")
    var mlock = false

    @Option(help: "Directory of thermal_zone* to watch (the kernel's by default).")
    var thermalZones = "/sys/class/thermal"

    @Option(
        name: [.customLong("thermal-soft-limit"), .customLong("soft-limit")],
        help: "°C where generation starts pausing after each token (more as it gets hotter).")
    var softLimit: Double = 70

    @Option(
        name: [.customLong("thermal-hard-limit"), .customLong("hard-limit")],
        help: "°C where generation pauses until it is below the soft limit again.")
    var hardLimit: Double = 85

    @Option(
        name: [.customLong("thermal-max-wait-seconds"), .customLong("max-thermal-wait")],
        help: "Seconds a token may wait in a thermal pause before the request fails.")
    var maxThermalWait: Double = 60

    @Option(help: "Cap generation at this many tokens per second (fanless boxes).")
    var maxTokensPerSecond: Double?

    @Option(
        help: ArgumentHelp(
            "Guess tokens ahead and verify them in one pass: off, ngram (from the prompt and the text so far), draft (needs a draft model) or auto; the text is the same either way.",
            valueName: "mode"))
    var speculative = SpeculativeMode.off.rawValue

    @Option(
        name: .customLong("draft-model"),
        help: "A smaller GGUF with the same vocabulary that guesses tokens ahead for --speculative draft or auto (a file, or a name in the models directory).")
    var draftModel: String?

    @Option(
        name: [.customLong("mmproj"), .customLong("vision-model")],
        help: "The model's vision projector (llama.cpp's mmproj GGUF, projector type pixtral), for --image.")
    var mmproj: String?

    @Option(name: .customLong("image"), help: "A PNG or JPEG file before the prompt (repeatable; needs --chat and --mmproj).")
    var images: [String] = []

    @Flag(help: "Print the text (or ids) and the usage as one JSON object when done, instead of streaming the text.")
    var json = false

    @Flag(help: "Print load time and prompt / generation tokens per second to stderr.")
    var verbose = false

    public init() {}

    public func validate() throws {
        guard (prompt == nil) != (tokens == nil) else { throw ValidationError("give exactly one of --prompt and --tokens") }
        guard TokenCount(maxTokens) != nil else { throw ValidationError("-n must be in 0…\(TokenCount.limit)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let ctx, ctx < 1 { throw ValidationError("--context must be at least 1") }
        if chat, tokens != nil { throw ValidationError("--chat needs --prompt") }
        _ = try thermalLimits()
        _ = try cacheType()
        if try speculativeMode() == .draft, draftModel == nil { throw ValidationError("--speculative draft needs --draft-model") }
        if !images.isEmpty, !chat || mmproj == nil { throw ValidationError("--image needs --chat and --mmproj") }
        if let memoryBudget, MemoryBudget.parse(memoryBudget) == nil {
            throw ValidationError("--memory-budget takes a size like 2G, 512M or 1000000")
        }
    }

    func thermalLimits() throws -> ThermalGovernor<ContinuousClock>.Limits {
        do {
            guard maxThermalWait.isFinite, maxThermalWait > 0 else {
                throw ThermalError.invalidLimits("--max-thermal-wait must be a positive number of seconds")
            }
            return try .init(
                softLimit: softLimit, hardLimit: hardLimit, maximumWait: .milliseconds(Int64(maxThermalWait * 1000)),
                maximumTokensPerSecond: maxTokensPerSecond)
        } catch let error as ThermalError {
            throw ValidationError(error.description)
        }
    }

    var parameters: SamplingParameters {
        SamplingParameters(
            temperature: temperature, topK: topK, topP: topP, minP: minP, repetitionPenalty: repeatPenalty,
            presencePenalty: presencePenalty, frequencyPenalty: frequencyPenalty, penaltyLastN: repeatLastN, seed: seed)
    }

    public func run() throws {
        let model = try ModelArgument.path(self.model, command: "generate")
        var stderr = StandardError()
        do {
            try generate(model: model, &stderr)
        } catch let error as ValidationError {
            throw error  // ArgumentParser reports usage errors itself
        } catch let error as SamplingError {
            print("brise generate: \(error)", to: &stderr)
            throw ExitCode(64)
        } catch {
            // GGUFError, ModelError, TokenizerError, KernelError, ThermalError, MemoryPlanError: each
            // describes itself (what, which file or parameter, the numbers).
            print("brise generate: \(model): \(error)", to: &stderr)
            throw ExitCode.failure
        }
    }

    /// The `--speculative` value.
    private func speculativeMode() throws -> SpeculativeMode {
        guard let mode = SpeculativeMode(rawValue: speculative) else {
            throw ValidationError("--speculative must be one of \(SpeculativeMode.names)")
        }
        return mode
    }

    /// The `--kv-type` value as a cache type.
    private func cacheType() throws -> KVCacheType {
        guard let type = KVCacheType(rawValue: kvType) else { throw ValidationError("--kv-type must be f16 or q8_0") }
        return type
    }

    private func generate(model: String, _ stderr: inout StandardError) throws {
        try parameters.validate()
        let loaded = try LoadedModel(
            modelPath: model, contextLength: ctx, memoryBudget: memoryBudget.flatMap(MemoryBudget.parse), lockWeights: mlock,
            threads: threads, cacheType: try cacheType(),
            environment: ProcessInfo.processInfo.environment)
        if let warning = loaded.contextWarning { print("brise generate: warning: \(warning)", to: &stderr) }
        if let warning = loaded.memoryWarning { print("brise generate: warning: \(warning)", to: &stderr) }
        var vision: VisionProjector?
        if let mmproj {
            let visionPath = try ModelArgument.path(mmproj, command: "generate")
            do {
                vision = try VisionProjector(path: visionPath, target: loaded, lockWeights: mlock)
            } catch let error as EngineError {
                print("brise generate: --mmproj: \(error.message)", to: &stderr)
                throw ExitCode(64)
            }
        }
        var prepared: [PreparedImage] = []
        for path in images {
            do {
                prepared.append(try vision!.prepare([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))))
            } catch {
                print("brise generate: --image \(path): \(error)", to: &stderr)
                throw ExitCode(65)
            }
        }
        let promptIDs: [Int32]
        var placedImages: [PromptImage] = []
        if let tokens {
            let parsed = tokens.split(separator: ",").map { Int32($0.trimmingCharacters(in: .whitespaces)) }
            guard parsed.allSatisfy({ $0 != nil }), !parsed.isEmpty else {
                throw ValidationError("--tokens takes comma-separated token ids")
            }
            promptIDs = parsed.map { $0! }
        } else {
            guard let tokenizer = loaded.tokenizer else {
                throw ModelError(.invalidToken, "\(model) has no vocabulary: use --tokens")
            }
            if chat {
                let encoder = try ChatEncoder(tokenizer: tokenizer)
                if tokenizer.vocabulary.chatTemplate == nil {
                    // A base model often has the control tokens but was never tuned to follow them.
                    print(
                        "brise generate: \(model) has no chat template; --chat assumes the \(encoder.format.rawValue) format from its "
                            + "control tokens, which a base model may not follow", to: &stderr)
                }
                if prepared.isEmpty {
                    promptIDs = try encoder.encode([ChatMessage(.user, prompt ?? "")])
                } else {
                    let chunks = prepared.map { ChatMessage.ContentChunk.image(columns: $0.grid.columns, rows: $0.grid.rows) }
                    promptIDs = try encoder.encode([ChatMessage(.user, chunks: chunks + [.text(prompt ?? "")])])
                    placedImages = zip(prepared, encoder.imagePositions(in: promptIDs)).map { $0.placed(at: $1) }
                }
            } else {
                promptIDs = tokenizer.encode(prompt ?? "", addSpecial: true)
            }
        }
        var draft: DraftModel?
        if let draftModel {
            let draftPath = try ModelArgument.path(draftModel, command: "generate")
            do {
                draft = try DraftModel(path: draftPath, target: loaded, lockWeights: mlock, environment: ProcessInfo.processInfo.environment)
            } catch let error as EngineError {
                print("brise generate: --draft-model: \(error.message)", to: &stderr)
                throw ExitCode(64)
            }
        }
        let context = InferenceContext(loaded: loaded, draft: draft, vision: vision)
        let pacer = ThermalPacer(limits: try thermalLimits(), zones: ThermalZones(directory: thermalZones))
        let out = FileHandle.standardOutput
        var first = true
        var compiled: CompiledGrammar?
        if jsonSchema != nil || grammar != nil {
            guard let tokenizer = loaded.tokenizer else { throw ValidationError("\(model) has no vocabulary: --json-schema and --grammar need one") }
            let format = try ConstraintFiles(schema: jsonSchema, grammar: grammar).format(command: "generate", prefix: "brise")
            do {
                compiled = try GrammarCompiler(tokenizer: tokenizer).compile(format)
            } catch {
                print("brise generate: \(jsonSchema != nil ? "--json-schema" : "--grammar"): \(error.message)", to: &stderr)
                throw ExitCode(3)
            }
        }
        var request = GenerationRequest(
            prompt: promptIDs, sampling: parameters, maxTokens: TokenCount(clamping: maxTokens), stop: stop, grammar: compiled)
        request.speculative = try speculativeMode()
        request.images = placedImages
        // A reasoning model's thinking (--chat): on standard error, or the report's "reasoning".
        if chat, tokens == nil, let vocabulary = loaded.tokenizer?.vocabulary, let thinking = ThinkingTokens(vocabulary: vocabulary) {
            request.reasoning = ReasoningControl(tokens: thinking, startsInside: thinking.promptEndsInside(promptIDs, vocabulary: vocabulary))
        }
        let outcome: GenerationOutcome
        var text = ""
        var reasoning = ""
        do {
            outcome = try context.generate(request, emitIDs: tokens != nil, pacer: pacer) { output in
                switch output {
                case .text(let piece):
                    if json { text += piece } else { out.write(Data(piece.utf8)) }
                case .reasoning(let piece):
                    if json { reasoning += piece } else { FileHandle.standardError.write(Data(piece.utf8)) }
                case .token(let id):
                    if !json { out.write(Data((first ? "\(id)" : ",\(id)").utf8)) }
                }
                first = false
            }
        } catch let error as ModelError where error.code == .contextOverflow {
            throw ModelError(
                .contextOverflow,
                "the prompt (\(promptIDs.count) tokens) and -n \(maxTokens) exceed the context of \(context.contextLength) (--context)")
        }
        if json {
            let report = GenerateReport(
                text: tokens == nil ? text : nil, reasoning: request.reasoning != nil ? reasoning : nil,
                tokens: tokens == nil ? nil : outcome.generated.map(Int.init),
                finishReason: outcome.finishReason.rawValue, stop: outcome.stoppedAt,
                usage: .init(
                    promptTokens: outcome.promptTokens, cachedTokens: outcome.cachedTokens, generatedTokens: outcome.generated.count,
                    promptSeconds: outcome.promptSeconds, generationSeconds: outcome.generationSeconds,
                    draftedTokens: outcome.draftedTokens, acceptedTokens: outcome.acceptedTokens,
                    reasoningTokens: request.reasoning != nil ? outcome.reasoningTokens : nil))
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            out.write(try encoder.encode(report))
        }
        out.write(Data("\n".utf8))
        if verbose {
            func rate(_ x: Double) -> String { String(format: "%.2f", x) }
            let generated = outcome.generated.count
            print(
                "load \(String(format: "%.3f", loaded.loadSeconds)) s; prompt \(promptIDs.count) tokens, "
                    + "\(rate(Double(promptIDs.count) / outcome.promptSeconds)) tokens/s; generation \(generated) tokens, "
                    + "\(rate(generated > 0 ? Double(generated) / outcome.generationSeconds : 0)) tokens/s; "
                    + (outcome.draftedTokens > 0 ? "guessed \(outcome.draftedTokens), accepted \(outcome.acceptedTokens); " : "")
                    + "\(loaded.threads) threads, "
                    + "\(loaded.path.rawValue) kernels; memory \(loaded.plan); thermal \(pacer.summary)",
                to: &stderr)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// `brise generate --json`'s output: the answer and its usage as one object.
struct GenerateReport: Encodable {
    struct Usage: Encodable {
        var promptTokens: Int
        var cachedTokens: Int
        var generatedTokens: Int
        var promptSeconds: Double
        var generationSeconds: Double
        var draftedTokens: Int
        var acceptedTokens: Int
        /// Tokens of thinking, markers included (--chat with a reasoning model).
        var reasoningTokens: Int?
    }

    /// The text (nil with --tokens): the answer.
    var text: String?
    /// A reasoning model's thinking (--chat; nil for a model without thinking tokens).
    var reasoning: String?
    /// The generated ids (with --tokens).
    var tokens: [Int]?
    var finishReason: String
    /// The stop string that ended it, if one did.
    var stop: String?
    var usage: Usage
}
