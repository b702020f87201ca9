import Engine
import Testing
import TestSupport

/// The scheduler alone, on a manual clock: admission, prefix reuse, chunked prefill beside decoding,
/// the queue's limits and deadlines, cancellation and shutdown.
@Suite struct SchedulerTests {
    typealias S = Scheduler<ManualClock>

    static func make(
        slots: Int = 2, chunk: Int = 4, queue: Int = 2, wait: Duration = .seconds(10), limit: Duration = .seconds(60)
    ) -> (S, ManualClock) {
        (S(configuration: .init(slots: slots, prefillChunk: chunk, maximumBatch: 64, queueLimit: queue, queueWait: wait, requestLimit: limit)), ManualClock())
    }

    static func prompt(_ count: Int, from start: Int32 = 1) -> [Int32] { (0..<Int32(count)).map { start + $0 } }

    @Test func admitsFirstComeFirstServedThenQueuesThenRefuses() {
        var (s, clock) = Self.make(slots: 2, queue: 1)
        #expect(s.arrive(1, prompt: Self.prompt(3), now: clock.now) == [.admit(1, slot: 0, reuse: 0)])
        #expect(s.arrive(2, prompt: Self.prompt(3, from: 50), now: clock.now) == [.admit(2, slot: 1, reuse: 0)])
        #expect(s.arrive(3, prompt: Self.prompt(3), now: clock.now) == [])
        #expect(s.waitingCount == 1)
        #expect(s.arrive(4, prompt: Self.prompt(3), now: clock.now) == [.refuse(4, .busy(queued: 1, limit: 1))])
        // A slot frees: the first in line takes it, with the prefix the slot's cache shares (all but
        // the last prompt token, which is evaluated again for its logits).
        #expect(s.finish(1, cached: Self.prompt(5), now: clock.now) == [.admit(3, slot: 0, reuse: 2)])
    }

    /// Each step decodes every sequence past its prompt and feeds prompts in chunks: a long prompt
    /// joining never holds back the others by more than one chunk.
    @Test func longPromptsAreChunkedBetweenDecodeSteps() {
        var (s, clock) = Self.make(slots: 3, chunk: 4)
        _ = s.arrive(1, prompt: Self.prompt(2), now: clock.now)
        #expect(s.nextStep() == .init(decode: [], prefill: [.init(id: 1, range: 0..<2, isLast: true)]))
        _ = s.arrive(2, prompt: Self.prompt(10, from: 100), now: clock.now)
        _ = s.arrive(3, prompt: Self.prompt(3, from: 200), now: clock.now)
        #expect(s.nextStep() == .init(decode: [1], prefill: [.init(id: 2, range: 0..<4, isLast: false)]))
        #expect(s.nextStep() == .init(decode: [1], prefill: [.init(id: 2, range: 4..<8, isLast: false)]))
        // The rest of 2's prompt and the start of 3's share a step's budget, first admitted first.
        #expect(
            s.nextStep()
                == .init(decode: [1], prefill: [.init(id: 2, range: 8..<10, isLast: true), .init(id: 3, range: 0..<2, isLast: false)]))
        #expect(s.nextStep() == .init(decode: [1, 2], prefill: [.init(id: 3, range: 2..<3, isLast: true)]))
        #expect(s.nextStep() == .init(decode: [1, 2, 3], prefill: []))
        #expect(s.nextStep()?.tokenCount == 3)
    }

    /// A request takes the free slot sharing the longest prefix; among equals the one idle longest.
    @Test func prefixReusePicksTheSlot() {
        var (s, clock) = Self.make(slots: 3)
        for id in S.ID(1)...3 { _ = s.arrive(id, prompt: [Int32(id)], now: clock.now) }
        _ = s.finish(2, cached: [7, 8, 9, 10], now: clock.now)
        _ = s.finish(1, cached: [7, 8, 1], now: clock.now)
        _ = s.finish(3, cached: [5], now: clock.now)
        #expect(s.arrive(4, prompt: [7, 8, 9, 10, 11, 12], now: clock.now) == [.admit(4, slot: 1, reuse: 4)])
        #expect(s.arrive(5, prompt: [7, 8, 3], now: clock.now) == [.admit(5, slot: 0, reuse: 2)])
        // No prefix anywhere: slot 2 is the only one free.
        #expect(s.arrive(6, prompt: [1], now: clock.now) == [.admit(6, slot: 2, reuse: 0)])
        #expect(s.runningCount == 3)
    }

    /// A prompt that shares only a token or two with a cached conversation (a BOS) takes an empty
    /// slot, else the one idle longest, and keeps the prefix that slot happens to share.
    @Test func aSharedBOSDoesNotStealAConversation() {
        var (s, clock) = Self.make(slots: 3)
        for id in S.ID(1)...3 { _ = s.arrive(id, prompt: [1], now: clock.now) }
        _ = s.finish(2, cached: [1, 8, 9, 10, 11], now: clock.now)
        _ = s.finish(1, cached: [1, 5, 6, 7, 8], now: clock.now)
        #expect(s.arrive(4, prompt: [1, 4, 4], now: clock.now) == [.admit(4, slot: 1, reuse: 1)])
        _ = s.finish(3, cached: [], now: clock.now)
        #expect(s.arrive(5, prompt: [1, 5, 3], now: clock.now) == [.admit(5, slot: 2, reuse: 0)])
    }

    @Test func queueWaitAndRequestLimitRunOnTheClock() {
        var (s, clock) = Self.make(slots: 1, queue: 4, wait: .seconds(10), limit: .seconds(30))
        _ = s.arrive(1, prompt: [1], now: clock.now)
        clock.advance(by: .seconds(4))
        _ = s.arrive(2, prompt: [2], now: clock.now)
        #expect(s.nextDeadline == clock.now.advanced(by: .seconds(10)))
        clock.advance(by: .seconds(9))
        #expect(s.tick(now: clock.now) == [])
        clock.advance(by: .seconds(1))
        #expect(s.tick(now: clock.now) == [.refuse(2, .queueTimeout)])
        clock.advance(by: .seconds(16))
        #expect(s.tick(now: clock.now) == [.end(1, .requestTimeout)])
    }

    @Test func cancellationLeavesTheLineOrEndsTheSequence() {
        var (s, clock) = Self.make(slots: 1, queue: 4)
        _ = s.arrive(1, prompt: [1], now: clock.now)
        _ = s.arrive(2, prompt: [2], now: clock.now)
        _ = s.arrive(3, prompt: [3], now: clock.now)
        #expect(s.cancel(2) == [])
        #expect(s.waitingCount == 1)
        #expect(s.cancel(1) == [.end(1, .cancelled)])
        #expect(s.finish(1, cached: [1], now: clock.now) == [.admit(3, slot: 0, reuse: 0)])
        #expect(s.cancel(99) == [])
    }

    @Test func shutdownRefusesWaitingAndNewThenEndsRunningAtTheDeadline() {
        var (s, clock) = Self.make(slots: 1, queue: 4)
        _ = s.arrive(1, prompt: [1], now: clock.now)
        _ = s.arrive(2, prompt: [2], now: clock.now)
        #expect(s.shutdown(deadline: clock.now.advanced(by: .seconds(5))) == [.refuse(2, .shuttingDown)])
        #expect(s.arrive(3, prompt: [3], now: clock.now) == [.refuse(3, .shuttingDown)])
        #expect(s.tick(now: clock.now) == [])
        // A later shutdown does not push the deadline back.
        _ = s.shutdown(deadline: clock.now.advanced(by: .seconds(50)))
        clock.advance(by: .seconds(5))
        #expect(s.tick(now: clock.now) == [.end(1, .shutdown)])
        #expect(s.finish(1, cached: [1], now: clock.now) == [])
        #expect(s.isIdle)
    }

    /// A cache that cannot be rewound to the offered prefix (a sliding-window ring that wrapped):
    /// the prompt starts over from its first token.
    @Test func restartFeedsTheWholePrompt() {
        var (s, clock) = Self.make(slots: 1, chunk: 8)
        _ = s.arrive(1, prompt: [1], now: clock.now)
        _ = s.finish(1, cached: [4, 5, 6], now: clock.now)
        #expect(s.arrive(2, prompt: [4, 5, 6, 7], now: clock.now) == [.admit(2, slot: 0, reuse: 3)])
        s.restart(2)
        #expect(s.nextStep() == .init(decode: [], prefill: [.init(id: 2, range: 0..<4, isLast: true)]))
    }

    /// A chunk the engine could not evaluate in full (an image on the way still being encoded) is fed
    /// again from where it stopped; a rewind past what was planned, or of an unknown sequence, changes
    /// nothing.
    @Test func rewindFeedsTheRestAgain() {
        var (s, clock) = Self.make(slots: 2, chunk: 8)
        _ = s.arrive(1, prompt: Self.prompt(6), now: clock.now)
        #expect(s.nextStep() == .init(decode: [], prefill: [.init(id: 1, range: 0..<6, isLast: true)]))
        s.rewind(1, to: 2)
        #expect(s.nextStep() == .init(decode: [], prefill: [.init(id: 1, range: 2..<6, isLast: true)]))
        s.rewind(1, to: 2)
        s.rewind(1, to: 2)  // twice: the same
        s.rewind(1, to: 9)  // past what was planned: ignored
        s.rewind(7, to: 0)  // unknown: ignored
        #expect(s.nextStep() == .init(decode: [], prefill: [.init(id: 1, range: 2..<6, isLast: true)]))
        #expect(s.nextStep() == .init(decode: [1], prefill: []))
    }

    /// Many sequences never exceed the batch: decodes come first, prompts get what is left.
    @Test func stepsStayWithinTheBatch() {
        var s = S(configuration: .init(slots: 8, prefillChunk: 256, maximumBatch: 12, queueLimit: 0, queueWait: .seconds(1), requestLimit: .seconds(1)))
        let clock = ManualClock()
        for id in S.ID(1)...8 { _ = s.arrive(id, prompt: Self.prompt(Int(id) * 3), now: clock.now) }
        var steps = 0
        while let step = s.nextStep(), steps < 40 {
            #expect(step.tokenCount <= 12)
            steps += 1
            if step.prefill.isEmpty { break }
        }
        #expect(s.nextStep()?.decode.count == 8)
    }
}
