public import Tokenization

/// How a request treats a reasoning model's thinking, and where a reply's thinking starts and ends.
///
/// The split between reasoning and answer is made at the thinking tokens' ids (`[THINK]`/`[/THINK]`,
/// `<think>`/`</think>`), never by matching text: a model that writes "[THINK]" as plain text does not
/// think. The markers themselves are neither reasoning nor answer text.
public struct ReasoningControl: Sendable, Equatable {
    /// What the request allows.
    public enum Mode: Sendable, Equatable {
        /// The model decides (it thinks when its training and prompt say so).
        case auto
        /// No thinking: the opening token is never drawn, and a reply the prompt began inside the
        /// thinking is closed at once.
        case off
        /// At most this many thinking tokens (the markers not counted); when they are spent the
        /// closing token is forced, as llama.cpp's reasoning budget does. 0 closes at once.
        case budget(Int)
    }

    /// The model's thinking tokens.
    public var tokens: ThinkingTokens
    /// What the request allows.
    public var mode: Mode
    /// The reply begins inside the thinking (the prompt opened it).
    public var startsInside: Bool

    /// Creates a control.
    public init(tokens: ThinkingTokens, mode: Mode = .auto, startsInside: Bool = false) {
        self.tokens = tokens
        self.mode = mode
        self.startsInside = startsInside
    }
}

/// Where one sequence is in its thinking, token by token: what it must draw next, what it may not,
/// and which part (reasoning or answer) each drawn token belongs to.
struct ReasoningTracker: Sendable, Equatable {
    /// The part a token belongs to.
    enum Part: Equatable {
        /// A marker: opens or closes the thinking; neither reasoning nor answer.
        case marker
        /// Thinking text.
        case reasoning
        /// Answer text.
        case answer
    }

    let control: ReasoningControl
    /// Inside the thinking now.
    private(set) var inside: Bool
    /// Thinking tokens drawn so far (markers not counted).
    private(set) var thoughts = 0
    /// Tokens that belong to the reasoning, markers included (usage's `reasoning_tokens`).
    private(set) var reasoningTokens = 0

    init(_ control: ReasoningControl) {
        self.control = control
        inside = control.startsInside
    }

    /// The token the next step must be, without drawing: the closing token once the budget is
    /// spent (or at once when thinking is off and the prompt opened it).
    var forced: Int32? {
        guard inside else { return nil }
        switch control.mode {
        case .auto: return nil
        case .off: return control.tokens.close
        case .budget(let limit): return thoughts >= limit ? control.tokens.close : nil
        }
    }

    /// The token the next draw may not be: the opening token when thinking is off.
    var forbidden: Int32? {
        !inside && control.mode == .off ? control.tokens.open : nil
    }

    /// Records a drawn (or forced) token and says which part it belongs to.
    mutating func record(_ token: Int32) -> Part {
        if !inside && token == control.tokens.open {
            inside = true
            reasoningTokens += 1
            return .marker
        }
        if inside && token == control.tokens.close {
            inside = false
            reasoningTokens += 1
            return .marker
        }
        guard inside else { return .answer }
        thoughts += 1
        reasoningTokens += 1
        return .reasoning
    }
}
