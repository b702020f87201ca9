import Engine
import Foundation
import Sampling
import Testing
import TestSupport
import Tokenization

/// The synthetic v13 Tekken vocabulary ([THINK] = 22, [/THINK] = 23).
enum SyntheticV13 {
    static let path = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(
        ".cache/brise/tokenizers/mistral-tekken-240718-v13-synthetic.gguf").path
    static var present: Bool { FileManager.default.fileExists(atPath: path) }
    static let tokenizer = try? Tokenizer(path: path)
}

/// The split between a reply's thinking and its answer, made by `SequenceState` at the thinking
/// tokens' ids — the same state the daemon's engine and `brise generate` step. The "model" here is a
/// script: each step's logits put the scripted token first (and another second), so what the state
/// draws, forces or forbids is exact.
@Suite(.enabled(if: SyntheticV13.present, "needs ~/.cache/brise/tokenizers (scripts/make-tokenizer-fixtures.py --vocabs-only)"))
struct ReasoningTests {
    static var tokenizer: Tokenizer? { SyntheticV13.tokenizer }

    struct Run {
        var reasoning = ""
        var text = ""
        var events: [GenerationOutput] = []
        var generated: [Int32] = []
        var finish: FinishReason?
        var reasoningTokens = 0
    }

    /// Steps a sequence whose model always prefers `script[i]` (then `second`), until it ends.
    static func run(
        _ script: [Int32], control: ReasoningControl?, maxTokens: Int = 64, stop: [String] = [], second: Int32? = nil
    ) throws -> Run {
        let tokenizer = try #require(Self.tokenizer)
        var request = GenerationRequest(prompt: [1], sampling: .greedy, maxTokens: TokenCount(clamping: maxTokens), stop: stop)
        request.reasoning = control
        var state = try SequenceState(request: request, tokenizer: tokenizer, endOfGeneration: [2])
        var run = Run()
        var logits = [Float](repeating: 0, count: tokenizer.vocabulary.count)
        func emit(_ output: GenerationOutput) {
            run.events.append(output)
            switch output {
            case .text(let t): run.text += t
            case .reasoning(let t): run.reasoning += t
            case .token: break
            }
        }
        var step = 0
        while true {
            for i in logits.indices { logits[i] = 0 }
            logits[Int(step < script.count ? script[step] : 2)] = 10
            if let second { logits[Int(second)] = 5 }
            let result = try logits.withUnsafeBufferPointer { try state.step(logits: $0, emit: emit) }
            step += 1
            if case .finished(let reason) = result {
                run.finish = reason
                break
            }
        }
        state.finish(emit: emit)
        run.generated = state.generated
        run.reasoningTokens = state.reasoningTokens
        return run
    }

    static var thinking: ThinkingTokens { ThinkingTokens(open: 22, close: 23, style: .mistral) }
    static func ids(_ text: String) -> [Int32] { tokenizer?.encode(text) ?? [] }

    @Test func theReplyIsSplitExactlyAtTheThinkingTokens() throws {
        let thought = Self.ids("Two and two make four.")
        let answer = Self.ids("It is 4.")
        let run = try Self.run([22] + thought + [23] + answer, control: ReasoningControl(tokens: Self.thinking))
        #expect(run.reasoning == "Two and two make four.")
        #expect(run.text == "It is 4.")
        #expect(run.finish == .stop)
        #expect(run.generated == [22] + thought + [23] + answer)
        #expect(run.reasoningTokens == thought.count + 2)
        // Every reasoning event comes before every text event: nothing of the answer leaked into the thinking.
        let lastReasoning = run.events.lastIndex { if case .reasoning = $0 { true } else { false } } ?? -1
        let firstText = run.events.firstIndex { if case .text = $0 { true } else { false } } ?? .max
        #expect(lastReasoning < firstText)
        // Without a control the same ids are all answer (markers are control tokens: not rendered).
        let plain = try Self.run([22] + thought + [23] + answer, control: nil)
        #expect(plain.reasoning.isEmpty && plain.text == "Two and two make four.It is 4." && plain.reasoningTokens == 0)
    }

    @Test func aReplyThePromptOpenedBeginsInTheThinking() throws {
        let thought = Self.ids("still thinking")
        let run = try Self.run(thought + [23] + Self.ids("Done."), control: ReasoningControl(tokens: Self.thinking, startsInside: true))
        #expect(run.reasoning == "still thinking" && run.text == "Done.")
    }

    @Test func aSpentBudgetForcesTheClosingToken() throws {
        // The model would think forever; the budget closes its thinking after 3 tokens.
        let endless = [Int32](repeating: Self.ids(" hmm").first!, count: 40)
        let run = try Self.run([22] + endless, control: ReasoningControl(tokens: Self.thinking, mode: .budget(3)), maxTokens: 8)
        #expect(Array(run.generated.prefix(5)) == [22] + Array(endless.prefix(3)) + [23])
        let three = try #require(Self.tokenizer).decode(Array(endless.prefix(3)))
        #expect(run.reasoning == three)
        #expect(run.reasoningTokens == 5)
        #expect(run.generated.count == 8 && run.finish == .length)
        #expect(run.text == three)
        // Budget 0 closes at once; begun inside, the first token is the close.
        let zero = try Self.run(endless, control: ReasoningControl(tokens: Self.thinking, mode: .budget(0), startsInside: true), maxTokens: 3)
        #expect(zero.generated.first == 23 && zero.reasoning.isEmpty && zero.reasoningTokens == 1)
    }

    @Test func thinkingOffNeverDrawsTheOpeningToken() throws {
        let a = try #require(Self.ids("A").first)
        // The model wants [THINK] at every step; "A" comes second.
        let run = try Self.run([Int32](repeating: 22, count: 5), control: ReasoningControl(tokens: Self.thinking, mode: .off), maxTokens: 5, second: a)
        #expect(!run.generated.contains(22) && run.generated == [Int32](repeating: a, count: 5))
        #expect(run.reasoning.isEmpty && run.text == "AAAAA")
        // Begun inside (the prompt opened it), "off" closes it at once.
        let inside = try Self.run([a, a], control: ReasoningControl(tokens: Self.thinking, mode: .off, startsInside: true), maxTokens: 3)
        #expect(inside.generated.first == 23 && inside.reasoning.isEmpty)
    }

    @Test func aThoughtCutByMaxTokensIsReasoningWithNoAnswer() throws {
        let thought = Self.ids("a long chain of thought that never ends")
        let run = try Self.run([22] + thought, control: ReasoningControl(tokens: Self.thinking), maxTokens: 4)
        #expect(run.finish == .length && run.text.isEmpty)
        #expect(run.reasoning == (try Self.tokenizer!.decode(Array(thought.prefix(3)))))
    }

    @Test func stopStringsApplyToTheAnswerOnly() throws {
        let script = [22] + Self.ids("first STOP then more") + [23] + Self.ids("answer STOP tail")
        let run = try Self.run(script, control: ReasoningControl(tokens: Self.thinking), stop: ["STOP"])
        #expect(run.reasoning == "first STOP then more")
        #expect(run.text == "answer " && run.finish == .stop)
    }
}
