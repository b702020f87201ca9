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
    /// The best this engine has: the draft model when one is configured, else prompt lookup. Either
    /// pauses while it does not pay.
    case auto

    /// The values, for help and error texts.
    public static let names = allCases.map(\.rawValue).joined(separator: ", ")
}

/// One sequence's guessing: where guesses come from, how many to make, and when to stop for a while.
///
/// The guess length adapts to what the model accepts: it doubles after a guess accepted whole (up to
/// `maximumDraft`), falls back to one more than the accepted run after a partial one, and after a
/// guess rejected outright the sequence stops guessing for a number of steps that doubles with each
/// such miss in a row (up to `maximumPause`): a verified guess costs a little compute per guessed
/// token even when it is wrong, so free text that copies nothing goes back to plain decoding.
struct Speculator: Sendable {
    /// The most tokens guessed in one step.
    static let maximumDraft = 16
    /// The longest pause, in steps.
    static let maximumPause = 64

    private var index: NGramIndex
    /// Generated tokens already in the index.
    private var known = 0
    private var length = 4
    private var pause = 0
    private var nextPause = 0
    /// Tokens guessed and verified so far.
    private(set) var drafted = 0
    /// Guessed tokens the model agreed with.
    private(set) var accepted = 0

    /// Starts guessing for a sequence with `prompt`.
    init(prompt: [Int32]) {
        index = NGramIndex()
        index.append(contentsOf: prompt)
    }

    /// The guesses for the tokens after the last of `generated` (the sequence's output so far, the
    /// token about to be evaluated last), at most `limit`; empty while paused or when nothing matches.
    mutating func propose(generated: [Int32], limit: Int) -> [Int32] {
        if known < generated.count {
            index.append(contentsOf: generated[known...])
            known = generated.count
        }
        guard limit > 0 else { return [] }
        if pause > 0 {
            pause -= 1
            return []
        }
        return index.propose(limit: min(limit, length))
    }

    /// Records how a guess of `drafted` tokens fared: the first `accepted` were right.
    mutating func record(drafted: Int, accepted: Int) {
        guard drafted > 0 else { return }
        self.drafted += drafted
        self.accepted += accepted
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
