/// Bounds on what a compiled grammar may grow to, so a hostile grammar or schema costs bounded
/// time and memory: it is refused (`GrammarError.tooLarge`) instead.
public struct GrammarLimits: Sendable, Equatable {
    /// The most rules.
    public var maxRules: Int = 50_000
    /// The most elements over all alternatives.
    public var maxElements: Int = 1_000_000
    /// The largest count in a bounded repetition (`{m,n}`, `maxLength`, `maxItems`).
    public var maxRepetition: Int = 10_000
    /// The deepest nesting of a parsed text (GBNF groups, schema subschemas, regex groups).
    public var maxNesting: Int = 256

    public init() {}
}
