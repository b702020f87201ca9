import Sampling
import Testing
import TestSupport

@Suite struct SamplerTests {
    static func logits(_ count: Int, seed: UInt64) -> [Float] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in Float.random(in: -5...5, using: &random) }
    }

    static func sample(_ parameters: SamplingParameters, _ logits: [Float], history: [Int32] = [], steps: Int = 1) throws -> [Int32] {
        var sampler = try Sampler(parameters)
        return logits.withUnsafeBufferPointer { l in (0..<steps).map { _ in sampler.sample(logits: l, history: history) } }
    }

    @Test func greedyIsArgmax() throws {
        for seed in 0..<20 as Range<UInt64> {
            let l = Self.logits(1000, seed: seed)
            let best = Int32(l.indices.max { l[$0] < l[$1] }!)
            #expect(try Self.sample(.greedy, l) == [best])
            #expect(try Self.sample(.init(temperature: 0.7, topK: 1), l) == [best])
        }
    }

    @Test func sameSeedSameTokensAndDifferentSeedsDiffer() throws {
        let l = Self.logits(500, seed: 1)
        let parameters = SamplingParameters(temperature: 1.5, topK: 0, topP: 1, minP: 0, seed: 42)
        let a = try Self.sample(parameters, l, steps: 200)
        #expect(a == (try Self.sample(parameters, l, steps: 200)))
        var other = parameters
        other.seed = 43
        #expect(a != (try Self.sample(other, l, steps: 200)))
        #expect(Set(a).count > 20)  // really random at temperature 1.5 over 500 tokens
    }

    /// Draws follow the softmax: with three tokens at known probabilities, 30 000 draws land within
    /// a few standard deviations of the expected counts.
    @Test func drawsFollowTheDistribution() throws {
        let l: [Float] = [0, logf(2), logf(7)]  // probabilities 0.1, 0.2, 0.7
        let draws = try Self.sample(.init(temperature: 1, topK: 0, topP: 1, minP: 0, seed: 9), l, steps: 30_000)
        for (token, p) in [(0, 0.1), (1, 0.2), (2, 0.7)] {
            let count = Double(draws.filter { $0 == token }.count)
            let sd = (30_000 * p * (1 - p)).squareRoot()
            #expect(abs(count - 30_000 * p) < 5 * sd, "token \(token): \(count)")
        }
    }

    @Test func topKTopPMinPNarrowTheSet() throws {
        let l: [Float] = [5, 4, 3, 2, 1, 0, -1, -2]
        for seed in 0..<50 as Range<UInt64> {
            let k = try Self.sample(.init(temperature: 1, topK: 3, topP: 1, minP: 0, seed: seed), l)
            #expect([0, 1, 2].contains(k[0]))
            // p(0) ≈ 0.63, p(0)+p(1) ≈ 0.86: top-p 0.8 keeps exactly two.
            let p = try Self.sample(.init(temperature: 1, topK: 0, topP: 0.8, minP: 0, seed: seed), l)
            #expect([0, 1].contains(p[0]))
            // min-p 0.3: keeps logits ≥ 5 + ln 0.3 ≈ 3.8: tokens 0 and 1.
            let m = try Self.sample(.init(temperature: 1, topK: 0, topP: 1, minP: 0.3, seed: seed), l)
            #expect([0, 1].contains(m[0]))
        }
    }

    /// Top-k, top-p and min-p pick from an unsorted vocabulary without sorting all of it; what they
    /// keep, and its order, must be what they keep from the fully sorted vocabulary (ties included:
    /// logits in quarter steps so many are equal).
    @Test func selectionWithoutFullSortKeepsWhatSortingKeeps() {
        let processors: [(String, any LogitProcessor)] = [
            ("top-k 1", TopK(1)), ("top-k 40", TopK(40)), ("top-k 3000", TopK(3000)), ("top-k 9000", TopK(9000)),
            ("top-p 0.5", TopP(0.5)), ("top-p 0.95", TopP(0.95)), ("top-p 0.95 keep 100", TopP(0.95, minKeep: 100)),
            ("min-p 0.05", MinP(0.05)), ("min-p 0.5 keep 500", MinP(0.5, minKeep: 500)),
        ]
        for seed in 0..<2 as Range<UInt64> {
            // A peaked vocabulary (a few likely tokens) and a flat one (the nucleus is thousands wide).
            for spread: Float in [12, 1.5] {
                var random = SeededRandom(seed: seed)
                let logits = (0..<50_000).map { _ in
                    (Float.random(in: 0...1, using: &random) * Float.random(in: 0...1, using: &random) * spread * 4).rounded() / 4
                }
                for (name, processor) in processors {
                    var fast = logits.withUnsafeBufferPointer { Candidates(logits: $0) }
                    var reference = fast
                    reference.sortDescending()
                    processor.process(&fast, history: [])
                    processor.process(&reference, history: [])
                    #expect(fast.isSorted, "\(name)")
                    #expect(fast.ids == reference.ids, "\(name), spread \(spread), seed \(seed)")
                    #expect(fast.logits == reference.logits, "\(name), spread \(spread), seed \(seed)")
                }
            }
        }
    }

    /// llama.cpp's penalty arithmetic, on hand-computed values.
    @Test func penaltiesFollowLlamaCpp() {
        var candidates = Candidates(ids: [0, 1, 2, 3], logits: [2, -2, 1, 3])
        RepetitionPenalty(lastN: 64, repetition: 2, frequency: 0.5, presence: 0.25)
            .process(&candidates, history: [0, 1, 0, 9])
        // token 0: seen twice, positive: 2/2 - 2·0.5 - 0.25 = -0.25; token 1: once, negative: -2·2 - 0.5 - 0.25
        #expect(candidates.logits == [-0.25, -4.75, 1, 3])
        var windowed = Candidates(ids: [0, 1], logits: [2, 2])
        RepetitionPenalty(lastN: 1, repetition: 2).process(&windowed, history: [0, 1])
        #expect(windowed.logits == [2, 1])  // only the last token counts
    }

    @Test func greedyWithPenaltiesAvoidsRepeats() throws {
        let l: [Float] = [3, 2.9, 0]
        let parameters = SamplingParameters(temperature: 0, repetitionPenalty: 1.5)
        #expect(try Self.sample(parameters, l, history: [0]) == [1])
    }

    @Test func badParametersAreNamed() {
        for (parameters, name) in [
            (SamplingParameters(temperature: -1), "temperature"), (SamplingParameters(topP: 0), "topP"),
            (SamplingParameters(minP: 1), "minP"), (SamplingParameters(topK: -3), "topK"),
            (SamplingParameters(repetitionPenalty: .nan), "repetitionPenalty"),
        ] {
            do {
                _ = try Sampler(parameters)
                Issue.record("accepted \(name)")
            } catch let error as SamplingError {
                #expect(error.parameter == name)
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}

@Suite struct StopSequencesTests {
    @Test func stopStringAcrossChunksIsNeverEmitted() {
        var matcher = StopSequences(["</answer>", "STOP"])
        var emitted = ""
        var stopped: String?
        for chunk in ["The ans", "wer is 42<", "/ans", "wer> trailing"] {
            let out = matcher.feed(chunk)
            emitted += out.text
            if let stop = out.stoppedAt {
                stopped = stop
                break
            }
        }
        #expect(emitted == "The answer is 42")
        #expect(stopped == "</answer>")
    }

    @Test func heldBackTextIsReleasedWhenItCannotMatch() {
        var matcher = StopSequences(["STOP"])
        #expect(matcher.feed("go ST") == .init(text: "go ", stoppedAt: nil))
        #expect(matcher.feed("ART") == .init(text: "START", stoppedAt: nil))
        #expect(matcher.feed("ST") == .init(text: "", stoppedAt: nil))
        #expect(matcher.flush() == "ST")
    }

    @Test func earliestStopWinsAndUnicodeIsSafe() {
        var matcher = StopSequences(["b", "ab"])
        #expect(matcher.feed("xxab") == .init(text: "xx", stoppedAt: "ab"))
        var emoji = StopSequences(["🛑"])
        #expect(emoji.feed("ok 👍🛑 no") == .init(text: "ok 👍", stoppedAt: "🛑"))
        var none = StopSequences([])
        #expect(none.feed("all of it") == .init(text: "all of it", stoppedAt: nil))
    }
}

#if canImport(Glibc)
import Glibc
#endif
