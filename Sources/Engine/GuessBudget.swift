/// How many guessed rows a step carries when several sequences guess at once, from what a row costs on
/// this machine and how often each sequence's guesses are right.
///
/// A guessed row costs the step about as much compute as a decoding row, and it yields a token only if
/// it and every guess before it are accepted. Where decode is bound by memory bandwidth (one sequence:
/// the weights are read once whatever the batch) rows are nearly free and long guesses pay; where a
/// batch of streams has already turned the weight reads into a compute-bound mat-mat, each row costs
/// its full share and only likely guesses pay. The budget fits the step's time as `base + perRow ×
/// rows` over recent decode steps (least squares, older steps weighing less), and takes guessed
/// tokens in the order of their chance of being kept (guess j of a sequence whose guesses are each
/// kept with probability a is kept with a^j) while each adds more expected tokens per second than the
/// step yields without it. A pure value, fed measurements: no clock, no threads.
struct GuessBudget: Sendable {
    /// How much each older step counts against the newest (per step).
    static let forgetting = 0.95
    /// The fit needs rows to vary this much (weighted variance, rows²) before its slope is trusted.
    static let minimumVariance = 0.5

    // Weighted sums of the observations: weight, rows, seconds, rows², rows × seconds.
    private var weight = 0.0
    private var sumRows = 0.0
    private var sumSeconds = 0.0
    private var sumRows2 = 0.0
    private var sumRowsSeconds = 0.0

    /// Records a decode step (no prompt rows) that evaluated `rows` tokens in `seconds`.
    mutating func observe(rows: Int, seconds: Double) {
        guard rows > 0, seconds.isFinite, seconds >= 0 else { return }
        let x = Double(rows)
        let f = Self.forgetting
        weight = f * weight + 1
        sumRows = f * sumRows + x
        sumSeconds = f * sumSeconds + seconds
        sumRows2 = f * sumRows2 + x * x
        sumRowsSeconds = f * sumRowsSeconds + x * seconds
    }

    /// The fitted step time, `base + perRow × rows` (seconds), or nil before the steps seen vary
    /// enough in rows to tell the two apart.
    var cost: (base: Double, perRow: Double)? {
        guard weight > 0 else { return nil }
        let meanRows = sumRows / weight, meanSeconds = sumSeconds / weight
        let variance = sumRows2 / weight - meanRows * meanRows
        guard variance >= Self.minimumVariance else { return nil }
        let perRow = max(0, (sumRowsSeconds / weight - meanRows * meanSeconds) / variance)
        return (max(0, meanSeconds - perRow * meanRows), perRow)
    }

    /// A sequence that may guess this step.
    struct Candidate: Equatable {
        /// The most tokens it guesses (its own length, limits and the batch's room).
        var length: Int
        /// The chance that each of its guesses is kept, given the ones before it were.
        var acceptance: Double
    }

    /// How many tokens each candidate guesses (at most its `length`, in all at most `room`), in a step
    /// that decodes `decoding` sequences. Before the cost is known every candidate guesses its length
    /// (up to the room): the steps that follow then measure what rows cost.
    func lengths(for candidates: [Candidate], decoding: Int, room: Int) -> [Int] {
        var lengths = candidates.map { _ in 0 }
        var left = max(0, room)
        guard let cost else {
            for (i, candidate) in candidates.enumerated() {
                lengths[i] = min(max(0, candidate.length), left)
                left -= lengths[i]
            }
            return lengths
        }
        // Each candidate's next guess and its chance of being kept; the likeliest is taken first.
        let acceptance = candidates.map { min(max($0.acceptance, 0), 1) }
        var chance = acceptance
        var tokens = Double(max(decoding, 1)), rows = Double(max(decoding, 1))
        while left > 0 {
            var best = -1
            for (i, candidate) in candidates.enumerated() where lengths[i] < candidate.length && (best < 0 || chance[i] > chance[best]) {
                best = i
            }
            guard best >= 0 else { break }
            // It pays when its expected tokens per second of its row beat the step's yield without it.
            let p = chance[best]
            guard p > 0, p * (cost.base + cost.perRow * rows) > cost.perRow * tokens else { break }
            lengths[best] += 1
            left -= 1
            tokens += p
            rows += 1
            chance[best] *= acceptance[best]
        }
        return lengths
    }
}
