@testable import Engine
import Foundation
import Testing

/// The guess budget: the step-time fit (base + per row) from decode steps, and which guessed tokens a
/// step carries: all of them where rows are nearly free (memory-bound decode), only the likely ones
/// where each row costs its share of compute, the likeliest first, never past the room.
@Suite struct GuessBudgetTests {
    /// A budget fed steps that took `base + perRow × rows` for each of `rows`.
    static func fitted(base: Double, perRow: Double, rows: [Int] = [1, 5, 9, 3, 17, 2, 8]) -> GuessBudget {
        var budget = GuessBudget()
        for r in rows { budget.observe(rows: r, seconds: base + perRow * Double(r)) }
        return budget
    }

    @Test func theFitRecoversTheStepCost() throws {
        let cost = try #require(Self.fitted(base: 0.017, perRow: 0.0067).cost)
        #expect(abs(cost.base - 0.017) < 1e-9)
        #expect(abs(cost.perRow - 0.0067) < 1e-9)
    }

    @Test func noFitUntilTheRowsVary() {
        var budget = GuessBudget()
        #expect(budget.cost == nil)
        for _ in 0..<20 { budget.observe(rows: 4, seconds: 0.05) }
        #expect(budget.cost == nil)
        // Bad measurements are ignored.
        budget.observe(rows: 9, seconds: .nan)
        budget.observe(rows: 9, seconds: -1)
        budget.observe(rows: 0, seconds: 0.1)
        #expect(budget.cost == nil)
        budget.observe(rows: 12, seconds: 0.1)
        #expect(budget.cost != nil)
    }

    @Test func theFitFollowsAChangedMachine() throws {
        // Rows got three times as expensive (another load on the machine): recent steps dominate.
        var budget = Self.fitted(base: 0.02, perRow: 0.001)
        for _ in 0..<12 { for r in [2, 10, 6] { budget.observe(rows: r, seconds: 0.02 + 0.003 * Double(r)) } }
        let cost = try #require(budget.cost)
        #expect(abs(cost.perRow - 0.003) < 3e-4)
    }

    @Test func beforeAFitEveryCandidateGuessesWithinTheRoom() {
        let budget = GuessBudget()
        let candidates = [GuessBudget.Candidate(length: 8, acceptance: 0.1), .init(length: 6, acceptance: 0.9), .init(length: 0, acceptance: 0.9)]
        #expect(budget.lengths(for: candidates, decoding: 3, room: 100) == [8, 6, 0])
        #expect(budget.lengths(for: candidates, decoding: 3, room: 10) == [8, 2, 0])
        #expect(budget.lengths(for: candidates, decoding: 3, room: 0) == [0, 0, 0])
    }

    @Test func nearlyFreeRowsTakeWholeGuesses() {
        // Memory-bound: a step costs 50 ms whatever it carries, 1 ms a row more.
        let budget = Self.fitted(base: 0.050, perRow: 0.001)
        #expect(budget.lengths(for: [.init(length: 16, acceptance: 0.9)], decoding: 1, room: 100) == [16])
        // The room still bounds them.
        #expect(budget.lengths(for: [.init(length: 16, acceptance: 0.9)], decoding: 1, room: 5) == [5])
    }

    @Test func costlyRowsTakeOnlyLikelyGuesses() {
        // Compute-bound: 10 ms a step and 7 ms a row; four sequences decode.
        let budget = Self.fitted(base: 0.010, perRow: 0.007)
        let unlikely = GuessBudget.Candidate(length: 8, acceptance: 0.5)
        #expect(budget.lengths(for: Array(repeating: unlikely, count: 4), decoding: 4, room: 100) == [0, 0, 0, 0])
        // Copying text: guesses right 97 times in 100 pay for a few rows each, not for 16.
        let likely = GuessBudget.Candidate(length: 16, acceptance: 0.97)
        let lengths = budget.lengths(for: Array(repeating: likely, count: 4), decoding: 4, room: 100)
        #expect(lengths.allSatisfy { $0 > 0 && $0 < 16 })
        #expect(lengths.max()! - lengths.min()! <= 1)
        // Each added token raised the expected tokens per second; one more would not have.
        func rate(_ lengths: [Int], _ a: Double) -> Double {
            var tokens = 4.0
            for k in lengths {
                var chance = 1.0
                for _ in 0..<k {
                    chance *= a
                    tokens += chance
                }
            }
            return tokens / (0.010 + 0.007 * Double(4 + lengths.reduce(0, +)))
        }
        #expect(rate(lengths, 0.97) > rate([0, 0, 0, 0], 0.97))
        var more = lengths
        more[lengths.firstIndex(of: lengths.min()!)!] += 1
        #expect(rate(more, 0.97) <= rate(lengths, 0.97))
    }

    @Test func theLikeliestCandidateGuessesFirst() {
        let budget = Self.fitted(base: 0.010, perRow: 0.004)
        let lengths = budget.lengths(for: [.init(length: 8, acceptance: 0.3), .init(length: 8, acceptance: 0.95)], decoding: 2, room: 100)
        #expect(lengths[1] > 0)
        #expect(lengths[0] == 0)
    }

    @Test func acceptanceFollowsTheRecentGuesses() {
        var control = GuessControl()
        #expect(control.acceptance == 0.75)
        for _ in 0..<8 { control.record(drafted: 8, accepted: 8) }
        #expect(control.acceptance > 0.95)
        // Misses after a long run of whole guesses bring it down within a few steps.
        control.record(drafted: 16, accepted: 0)
        #expect(control.acceptance > 0.8)
        for _ in 0..<3 { control.record(drafted: 1, accepted: 0) }
        #expect(control.acceptance < 0.5)
        // Guesses held back still teach it: their first tokens drawn after all bring it back up.
        for _ in 0..<4 { control.recordUntaken(hit: true) }
        #expect(control.acceptance > 0.9)
        control.recordUntaken(hit: false)
        #expect(control.acceptance < 0.9)
        // Held back with nothing learnt (a draft model's guess): back toward the start, 0.75.
        var drifting = GuessControl()
        for _ in 0..<6 { drifting.record(drafted: 2, accepted: 0) }
        #expect(drifting.acceptance < 0.1)
        for _ in 0..<60 { drifting.relax() }
        #expect(abs(drifting.acceptance - 0.75) < 0.02)
        // A partial run: 3 kept, then one rejected.
        var fresh = GuessControl()
        fresh.record(drafted: 6, accepted: 3)
        #expect(abs(fresh.acceptance - (0.5 * 3 + 3) / (0.5 * 3 + 3 + 0.5 + 1)) < 1e-12)
    }
}
