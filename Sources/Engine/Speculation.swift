/// Speculative decoding: a sequence guesses the tokens after its next one, and one forward pass
/// evaluates them all; the guesses the model agrees with cost no pass of their own. Lossless: every
/// position's token is still drawn from the model's own logits with the sequence's random stream
/// (`SequenceState.step(rows:vocabulary:drafted:emit:)`), so the text is the one plain decoding gives.
public enum SpeculativeMode: String, Sendable, Equatable, CaseIterable {
    /// Never guess.
    case off
    /// Prompt lookup: guesses copied from where the latest tokens appeared before (`NGramIndex`).
    case ngram
    /// Guesses from a smaller draft model (needs one configured).
    case draft
    /// The best this engine has: prompt lookup, and the draft model (when one is configured) when
    /// lookup finds nothing. Each pauses while it does not pay.
    case auto

    /// The values, for help and error texts.
    public static let names = allCases.map(\.rawValue).joined(separator: ", ")
}

/// One sequence's guessing: where guesses come from (prompt lookup, a draft model, or prompt lookup
/// first and the draft model when it finds nothing), how many to make, and when to stop for a while.
///
/// Each source has its own `GuessControl`, fed how its guesses fared.
struct Speculator: Sendable {
    /// A step's plan.
    enum Guess: Equatable {
        /// No guess this step.
        case none
        /// These tokens, from prompt lookup.
        case tokens([Int32])
        /// This many tokens from the draft model.
        case draft(Int)

        /// How many tokens it guesses.
        var count: Int {
            switch self {
            case .none: return 0
            case .tokens(let tokens): return tokens.count
            case .draft(let count): return count
            }
        }
    }

    /// Where a guess came from.
    enum Source { case lookup, draft }

    private var index: NGramIndex?
    /// Generated tokens already in the index.
    private var known = 0
    private var lookup: GuessControl?
    private var draft: GuessControl?
    /// Tokens guessed and verified so far.
    private(set) var drafted = 0
    /// Guessed tokens the model agreed with.
    private(set) var accepted = 0

    /// Starts guessing for a sequence with `prompt` in `mode` (`.auto` uses the draft model when
    /// prompt lookup finds nothing and `hasDraftModel`); nil for `.off`, or `.draft` without a draft model.
    init?(mode: SpeculativeMode, prompt: [Int32], hasDraftModel: Bool) {
        let useLookup = mode == .ngram || mode == .auto
        let useDraft = hasDraftModel && (mode == .draft || mode == .auto)
        guard useLookup || useDraft else { return nil }
        if useLookup {
            var index = NGramIndex()
            index.append(contentsOf: prompt)
            self.index = index
            lookup = GuessControl()
        }
        if useDraft { draft = GuessControl() }
    }

    /// The guess for the tokens after the last of `generated` (the sequence's output so far, the
    /// token about to be evaluated last), at most `limit` tokens.
    mutating func propose(generated: [Int32], limit: Int) -> Guess {
        if index != nil, known < generated.count {
            index!.append(contentsOf: generated[known...])
            known = generated.count
        }
        guard limit > 0 else { return .none }
        if lookup != nil, let length = lookup!.nextLength(), index != nil {
            let tokens = index!.propose(limit: min(limit, length))
            if !tokens.isEmpty { return .tokens(tokens) }
        }
        if draft != nil, let length = draft!.nextLength() { return .draft(min(limit, length)) }
        return .none
    }

    /// The guessed tokens for this step and where they came from: prompt lookup's tokens, or the
    /// draft model's guesses from its `slot` after `prompt` + `generated` (a draft model that fails
    /// only costs the guess).
    mutating func guess(
        prompt: [Int32], generated: [Int32], limit: Int, draft: DraftModel?, slot: Int
    ) -> (tokens: [Int32], source: Source) {
        let proposal = propose(generated: generated, limit: limit)
        return Self.tokens(of: proposal, count: proposal.count, prompt: prompt, generated: generated, draft: draft, slot: slot)
    }

    /// The first `count` tokens of `guess` (at most its own): prompt lookup's, or as many from the draft
    /// model (run only now, for the tokens the step carries), and where they came from.
    static func tokens(
        of guess: Guess, count: Int, prompt: [Int32], generated: [Int32], draft: DraftModel?, slot: Int
    ) -> (tokens: [Int32], source: Source) {
        let count = min(max(0, count), guess.count)
        switch guess {
        case .none: return ([], .lookup)
        case .tokens(let tokens): return (Array(tokens.prefix(count)), .lookup)
        case .draft:
            guard count > 0 else { return ([], .draft) }
            return ((try? draft?.propose(slot: slot, sequence: prompt + generated, count: count)) ?? [], .draft)
        }
    }

    /// The chance that a guess from where `guess` comes from is right, given the guesses before it in
    /// the same step were (see `GuessControl.acceptance`); 0 for no guess.
    func acceptance(of guess: Guess) -> Double {
        switch guess {
        case .none: return 0
        case .tokens: return lookup?.acceptance ?? 0
        case .draft: return draft?.acceptance ?? 0
        }
    }

    /// Records whether the first token of a lookup guess the step did not carry (the budget found it
    /// did not pay) was the token the step then drew: evidence for `acceptance` that costs no row, so a
    /// sequence whose guesses were held back can earn them again.
    mutating func recordUntaken(hit: Bool) {
        lookup?.recordUntaken(hit: hit)
    }

    /// A draft-model guess held back whole (its tokens were never made, so nothing is learnt): the
    /// draft's `acceptance` drifts back toward its starting value, so a sequence whose draft guesses
    /// stopped paying is tried again after a while, as the pauses do for guesses that were made.
    mutating func recordDraftHeldBack() {
        draft?.relax()
    }

    /// Records how a guess of `drafted` tokens from `source` fared: the first `accepted` were right.
    mutating func record(_ source: Source, drafted: Int, accepted: Int) {
        guard drafted > 0 else { return }
        self.drafted += drafted
        self.accepted += accepted
        switch source {
        case .lookup: lookup?.record(drafted: drafted, accepted: accepted)
        case .draft: draft?.record(drafted: drafted, accepted: accepted)
        }
    }
}

/// How many tokens one source guesses, adapted to what the model accepts: the length doubles after a
/// guess accepted whole (up to `maximumDraft`), falls back to one more than the accepted run after a
/// partial one, and after a guess rejected outright the source pauses for a number of steps that
/// doubles with each such miss in a row (up to `maximumPause`): a verified guess costs compute per
/// guessed token even when it is wrong, so text that guesses miss goes back to plain decoding.
struct GuessControl: Sendable {
    /// The most tokens guessed in one step.
    static let maximumDraft = 16
    /// The longest pause, in steps.
    static let maximumPause = 64

    /// How fast `acceptance` forgets older guesses (per recorded guess).
    static let acceptanceMemory = 0.5

    private var length = 4
    private var pause = 0
    private var nextPause = 0
    // Guessed tokens kept, and guesses cut short by a rejection, older ones weighing less. The start
    // counts as 3 kept and 1 rejection (0.75), as the first guesses are made at length 4.
    private static let startKept = 3.0
    private static let startRejections = 1.0
    private var kept = startKept
    private var rejections = startRejections

    /// The chance that a guess is right given the ones before it in the same step were: the guesses
    /// kept over the guesses kept plus the guesses rejected (each step's guess is a run of such trials
    /// that ends at its first rejection), recent guesses weighing more.
    var acceptance: Double { kept / (kept + rejections) }

    /// The length to guess this step; nil while paused (the step counts toward the pause).
    mutating func nextLength() -> Int? {
        guard pause == 0 else {
            pause -= 1
            return nil
        }
        return length
    }

    /// No evidence this step: `acceptance` drifts a tenth of the way back to its start (0.75).
    mutating func relax() {
        kept = 0.9 * kept + 0.1 * Self.startKept
        rejections = 0.9 * rejections + 0.1 * Self.startRejections
    }

    /// A guess held back: only `acceptance` learns whether its first token was right.
    mutating func recordUntaken(hit: Bool) {
        learn(kept: hit ? 1 : 0, rejected: !hit)
    }

    /// `acceptance`'s counts: older guesses halved, these added.
    private mutating func learn(kept newlyKept: Int, rejected: Bool) {
        kept = Self.acceptanceMemory * kept + Double(newlyKept)
        rejections = Self.acceptanceMemory * rejections + (rejected ? 1 : 0)
    }

    mutating func record(drafted: Int, accepted: Int) {
        learn(kept: accepted, rejected: accepted < drafted)
        if accepted == drafted {
            length = min(Self.maximumDraft, length * 2)
            nextPause = 0
        } else if accepted > 0 {
            length = min(Self.maximumDraft, accepted + 1)
            nextPause = 0
        } else {
            length = 1
            pause = nextPause
            nextPause = min(Self.maximumPause, max(1, nextPause * 2))
        }
    }
}
