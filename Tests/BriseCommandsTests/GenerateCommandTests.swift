import Foundation
import Testing
import TestSupport

/// `brise generate` and `brise bench --model`, run as processes on the committed fixture models.
@Suite struct GenerateCommandTests {
    static let brise = ChildProcess.builtProduct("brise")
    static let model = Fixtures.path("models/tiny-llama-Q8_0.gguf")

    /// Greedy generation prints llama.cpp's own 32-token continuation of the fixture prompt.
    @Test func greedyIdsEqualLlamaCpp() throws {
        let json = try JSONDecoder().decode(
            JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("models/tiny-llama-Q8_0.json"))))
        let prompt = json["short"]!["tokens"]!.arrayValue.map { String($0.intValue!) }
        let expected = json["short"]!["sequential"]!["greedy32"]!.arrayValue.map { String($0.intValue!) }
        let result = try ChildProcess.run(
            Self.brise,
            ["generate", "--model", Self.model, "--tokens", prompt.joined(separator: ","), "-n", "32", "--temperature", "0",
             "--verbose"])
        #expect(result.exitStatus == 0, "\(result.standardError)")
        #expect(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == expected.joined(separator: ","))
        #expect(result.standardError.contains("tokens/s"))
    }

    @Test func sameSeedSameText() throws {
        let arguments = ["generate", "--model", Self.model, "--prompt", "abc", "-n", "20", "--temperature", "1.2", "--seed", "7"]
        let a = try ChildProcess.run(Self.brise, arguments)
        let b = try ChildProcess.run(Self.brise, arguments)
        #expect(a.exitStatus == 0 && b.exitStatus == 0, "\(a.standardError)")
        #expect(a.standardOutput == b.standardOutput)
        #expect(!a.standardOutput.isEmpty)
    }

    @Test func badRequestsAreClearErrors() throws {
        let overflow = try ChildProcess.run(
            Self.brise, ["generate", "--model", Self.model, "--tokens", "1,2,3", "-n", "100", "--ctx", "16"])
        #expect(overflow.exitStatus == 1)
        #expect(overflow.standardError.contains("exceed the context of 16"))
        let badToken = try ChildProcess.run(Self.brise, ["generate", "--model", Self.model, "--tokens", "1,99999"])
        #expect(badToken.exitStatus == 1)
        #expect(badToken.standardError.contains("outside the vocabulary"))
        let badSampling = try ChildProcess.run(Self.brise, ["generate", "--model", Self.model, "--prompt", "x", "--top-p", "0"])
        #expect(badSampling.exitStatus == 64)
        #expect(badSampling.standardError.contains("topP"))
        let notAModel = try ChildProcess.run(Self.brise, ["generate", "--model", Fixtures.path("gguf/tiny-v3.gguf"), "--prompt", "x"])
        #expect(notAModel.exitStatus == 1)
        #expect(!notAModel.standardError.isEmpty)
    }

    /// A real instruct model answers through its chat template (Qwen2.5-Coder-0.5B, ChatML): llama.cpp's
    /// greedy answer to this prompt is the same 7 tokens.
    @Test(.enabled(if: Fixtures.realModelsPresent, Comment(rawValue: Fixtures.missingRealModelsMessage)))
    func realInstructModelAnswers() throws {
        let result = try ChildProcess.run(
            Self.brise,
            ["generate", "--model", Fixtures.realModelsDirectory + "/qwen2.5-coder-0.5b-instruct-q4.gguf", "--chat",
             "--prompt", "What is the capital of France?", "-n", "16", "--temperature", "0"])
        #expect(result.exitStatus == 0, "\(result.standardError)")
        #expect(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "The capital of France is Paris.")
        #expect(!result.standardError.contains("no chat template"), "the Qwen file carries its template")
        // Gemma 3 270M's file carries no chat template: --chat says which format it assumed.
        let gemma = try ChildProcess.run(
            Self.brise,
            ["generate", "--model", Fixtures.realModelsDirectory + "/gemma-3-270m-q4_k_m.gguf", "--chat", "--prompt", "Hi", "-n", "2"])
        #expect(gemma.exitStatus == 0, "\(gemma.standardError)")
        #expect(gemma.standardError.contains("has no chat template; --chat assumes the gemma format"), "\(gemma.standardError)")
    }

    @Test func benchModelReportsRatesLoadAndMemory() throws {
        let result = try ChildProcess.run(
            Self.brise, ["bench", "--model", Self.model, "-p", "32", "-n", "8", "--repetitions", "2", "--json"])
        #expect(result.exitStatus == 0, "\(result.standardError)")
        let json = try JSONDecoder().decode(JSONValue.self, from: Data(result.standardOutput.utf8))
        for field in ["promptTokensPerSecond", "generationTokensPerSecond", "loadSeconds", "peakResidentBytes", "kvCacheBytes"] {
            #expect((json[field]?.doubleValue ?? 0) > 0, "\(field)")
        }
        #expect(json["promptTokens"]?.intValue == 32 && json["generatedTokens"]?.intValue == 8)
        #expect(json["kvCacheType"]?.stringValue == "f16")
    }

    /// `--kv-type q8_0`: the bench reports a Q8_0 cache of 34/64 the F16 bytes, generate runs on it,
    /// and an unknown type is a usage error.
    @Test func kvTypeOption() throws {
        func bench(_ type: String) throws -> JSONValue {
            let result = try ChildProcess.run(
                Self.brise, ["bench", "--model", Self.model, "-p", "16", "-n", "4", "--repetitions", "1", "--json", "--kv-type", type])
            #expect(result.exitStatus == 0, "\(result.standardError)")
            return try JSONDecoder().decode(JSONValue.self, from: Data(result.standardOutput.utf8))
        }
        let f16 = try bench("f16")
        let q8 = try bench("q8_0")
        #expect(q8["kvCacheType"]?.stringValue == "q8_0")
        let f16Bytes = f16["kvCacheBytes"]?.intValue ?? 0
        let q8Bytes = q8["kvCacheBytes"]?.intValue ?? 0
        #expect(f16Bytes > 0 && q8Bytes * 64 == f16Bytes * 34, "\(q8Bytes) vs \(f16Bytes)")
        let generated = try ChildProcess.run(
            Self.brise, ["generate", "--model", Self.model, "--tokens", "1,2,3", "-n", "8", "--temperature", "0", "--kv-type", "q8_0"])
        #expect(generated.exitStatus == 0, "\(generated.standardError)")
        #expect(generated.standardOutput.split(separator: ",").count == 8)
        let bad = try ChildProcess.run(Self.brise, ["generate", "--model", Self.model, "--tokens", "1", "--kv-type", "q4_0"])
        #expect(bad.exitStatus == 64)
        #expect(bad.standardError.contains("--kv-type"))
    }
}

/// `brise budget`: the CPU budget and the memory plan, including under a real cgroup memory limit.
@Suite struct BudgetCommandTests {
    static let brise = ChildProcess.builtProduct("brise")

    @Test func plansAndRefusesWithTheNumbers() throws {
        let model = Fixtures.path("models/tiny-mistral3-Q4_K_M.gguf")
        let fits = try ChildProcess.run(Self.brise, ["budget", "--model", model, "--memory-budget", "256M"])
        #expect(fits.exitStatus == 0, "\(fits.standardError)")
        #expect(fits.standardOutput.contains("memory  "), "\(fits.standardOutput)")
        #expect(fits.standardOutput.contains("(256 tokens"), "\(fits.standardOutput)")
        let refused = try ChildProcess.run(Self.brise, ["budget", "--model", model, "--memory-budget", "8M"])
        #expect(refused.exitStatus == 1)
        #expect(refused.standardError.contains("needs") && refused.standardError.contains("budget 8.0 MiB (--memory-budget)"),
                "\(refused.standardError)")
        let tooLong = try ChildProcess.run(
            Self.brise, ["generate", "--model", model, "--tokens", "1,2", "--ctx", "100000", "--memory-budget", "40M"])
        #expect(tooLong.exitStatus == 1)
        #expect(tooLong.standardError.contains("use --context"), "\(tooLong.standardError)")
    }

    /// A real v1 memory cgroup of 1 GiB: a 2 GB model is refused, naming the cgroup file.
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isWritableFile(atPath: "/sys/fs/cgroup/memory")))
    func realCgroupMemoryLimit() throws {
        let group = "/sys/fs/cgroup/memory/brise-test-\(getpid())"
        try FileManager.default.createDirectory(atPath: group, withIntermediateDirectories: false)
        defer { rmdir(group) }
        try "1073741824".write(toFile: group + "/memory.limit_in_bytes", atomically: false, encoding: .utf8)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("brise-budget-\(UUID()).gguf").path
        defer { unlink(path) }
        try MinistralShape.writeSparse3B(to: path)
        let result = try ChildProcess.run(
            "/bin/sh", ["-c", "echo $$ > \(group)/cgroup.procs && exec \(Self.brise) budget --model \(path)"])
        #expect(result.exitStatus == 1, "\(result.standardOutput)")
        #expect(result.standardError.contains("budget 1.0 GiB (cgroup v1 "), "\(result.standardError)")
        #expect(result.standardError.contains("memory.limit_in_bytes"), "\(result.standardError)")
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// `brise generate` paced by a fake thermal zone and by a rate cap.
@Suite struct ThermalPacingCommandTests {
    static let brise = ChildProcess.builtProduct("brise")
    static let model = Fixtures.path("models/tiny-llama-Q8_0.gguf")

    static func zones(celsius: Double) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("brise-zones-\(UUID())")
        let zone = root.appendingPathComponent("thermal_zone0")
        try FileManager.default.createDirectory(at: zone, withIntermediateDirectories: true)
        try "soc-thermal".write(to: zone.appendingPathComponent("type"), atomically: true, encoding: .utf8)
        try "\(Int(celsius * 1000))".write(to: zone.appendingPathComponent("temp"), atomically: true, encoding: .utf8)
        return root
    }

    @Test func coolZonesChangeNothing() throws {
        let cool = try Self.zones(celsius: 40)
        defer { try? FileManager.default.removeItem(at: cool) }
        let arguments = ["generate", "--model", Self.model, "--tokens", "1,5,9", "-n", "12", "--temperature", "0"]
        let plain = try ChildProcess.run(Self.brise, arguments)
        let governed = try ChildProcess.run(Self.brise, arguments + ["--thermal-zones", cool.path, "--verbose"])
        #expect(plain.exitStatus == 0 && governed.exitStatus == 0, "\(governed.standardError)")
        #expect(plain.standardOutput == governed.standardOutput)
        #expect(governed.standardError.contains("thermal 40.0 °C, normal"), "\(governed.standardError)")
    }

    @Test func aHotZoneHoldsGenerationUntilTheBound() throws {
        let hot = try Self.zones(celsius: 92)
        defer { try? FileManager.default.removeItem(at: hot) }
        let start = Date()
        let result = try ChildProcess.run(
            Self.brise,
            ["generate", "--model", Self.model, "--tokens", "1,5,9", "-n", "4", "--thermal-zones", hot.path,
             "--max-thermal-wait", "1"])
        #expect(result.exitStatus == 1)
        #expect(result.standardError.contains("thermal pause"), "\(result.standardError)")
        #expect(result.standardError.contains("92"), "\(result.standardError)")
        #expect(Date().timeIntervalSince(start) >= 1)
    }

    /// 20 tokens per second at most: 8 tokens take at least 7 spacings of 50 ms.
    @Test func rateCapSpacesTokens() throws {
        let start = Date()
        let result = try ChildProcess.run(
            Self.brise,
            ["generate", "--model", Self.model, "--tokens", "1,5,9", "-n", "8", "--temperature", "0",
             "--max-tokens-per-second", "20", "--thermal-zones", "/nonexistent"])
        #expect(result.exitStatus == 0, "\(result.standardError)")
        #expect(result.standardOutput.split(separator: ",").count == 8)
        #expect(Date().timeIntervalSince(start) >= 0.35)
    }

    @Test func badLimitsAreRefused() throws {
        let result = try ChildProcess.run(
            Self.brise, ["generate", "--model", Self.model, "--tokens", "1", "--soft-limit", "90", "--hard-limit", "80"])
        #expect(result.exitStatus != 0)
        #expect(result.standardError.contains("soft limit"), "\(result.standardError)")
        // brised's names work too (the old ones above stay as aliases).
        let named = try ChildProcess.run(
            Self.brise,
            ["generate", "--model", Self.model, "--tokens", "1", "--thermal-soft-limit", "90", "--thermal-hard-limit", "80"])
        #expect(named.exitStatus != 0 && named.standardError.contains("soft limit"), "\(named.standardError)")
        // The committed tiny models were trained for 256 positions: more is allowed, with a warning.
        let long = try ChildProcess.run(Self.brise, ["generate", "--model", Self.model, "--tokens", "1,2", "-n", "2", "--context", "512"])
        #expect(long.exitStatus == 0 && long.standardError.contains("longer than the 256 the model was trained for"), "\(long.standardError)")
        let fits = try ChildProcess.run(Self.brise, ["generate", "--model", Self.model, "--tokens", "1,2", "-n", "2", "--context", "128"])
        #expect(fits.exitStatus == 0 && !fits.standardError.contains("trained for"), "\(fits.standardError)")
        let context = try ChildProcess.run(
            Self.brise, ["generate", "--model", Self.model, "--tokens", "1,2,3", "-n", "100", "--context", "16"])
        #expect(context.exitStatus == 1 && context.standardError.contains("exceed the context of 16 (--context)"))
    }
}

/// `brise generate --mlock` under a memlock limit that is too low: a clear error, not a crash.
@Suite struct LockWeightsCommandTests {
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit")))
    func lowMemlockLimitIsAClearError() throws {
        // A copy anyone can read, and the binary reachable by an unprivileged user.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brise-mlock-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = directory.appendingPathComponent("model.gguf").path
        let brise = directory.appendingPathComponent("brise").path
        // Copied by /bin/cp in a child: a copy written by this process would leave a writable descriptor
        // open that other tests' concurrently spawned children inherit, and exec would fail with ETXTBSY.
        for (source, destination) in [(Fixtures.path("models/tiny-llama-Q8_0.gguf"), model), (ChildProcess.builtProduct("brise"), brise)] {
            #expect(try ChildProcess.run("/bin/cp", [source, destination]).exitStatus == 0)
        }
        for path in [directory.path, model, brise] {
            #expect(chmod(path, 0o755) == 0)
        }
        let result = try ChildProcess.run(
            "/usr/bin/setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/prlimit", "--memlock=65536", brise, "generate",
             "--model", model, "--tokens", "1,2", "-n", "2", "--mlock"])
        #expect(result.exitStatus == 1, "\(result.standardOutput) \(result.standardError)")
        #expect(result.standardError.contains("RLIMIT_MEMLOCK is 65536 bytes"), "\(result.standardError)")
        #expect(result.standardError.contains("LimitMEMLOCK"), "\(result.standardError)")

        // Root (CAP_IPC_LOCK) locks fine.
        let root = try ChildProcess.run(brise, ["generate", "--model", model, "--tokens", "1,2", "-n", "2", "--mlock"])
        #expect(root.exitStatus == 0, "\(root.standardError)")
    }
}
