/// Numbers with bounds, as a finite automaton over the digits compiled to right-recursive rules.
///
/// A bounded number is read as sign, then magnitude `I(.F)?`; each bound is a comparator that
/// follows the magnitude digit by digit (integer part: length and the first differing digit;
/// fraction: the first differing digit), so `x ≥ 1.5`, `x < 300`, `0 ≤ x ≤ 0` are all exact.
/// Bounded numbers are accepted without an exponent (`1e3` is refused there; `1000` is not);
/// unbounded numbers accept every JSON number. Integers (`type: integer`) accept `-?digits`
/// and also `1.0`-style spellings (`(\.0+)?`), which JSON Schema counts as integers.
extension GrammarKit {
    /// The most digits a bound may have before or after the point.
    static let maxBoundDigits = 400

    /// Numbers of `types` (`.integer`, `.fraction` or both) within the bounds.
    ///
    /// - Throws: `.tooLarge` for a bound with more than `maxBoundDigits` digits.
    mutating func number(_ types: TypeSet, lower: NumberBound?, upper: NumberBound?, multipleOf: Divisor? = nil, pointer: String)
        throws(GrammarError) -> Element
    {
        let mode: NumberMode = types == .integer ? .integer : (types == .fraction ? .fraction : .any)
        if lower == nil, upper == nil, multipleOf == nil, mode == .any { return try anyNumber() }
        var branches: [[Element]] = []
        // x ≥ 0, written without a sign: the magnitude itself.
        if let positive = try comparators(lower: lower, upper: upper, pointer: pointer) {
            if let e = try magnitude(mode, positive.lower, positive.upper, multipleOf) { branches.append([e]) }
        }
        // x ≤ 0, written "-m": m = -x, so the bounds swap and flip.
        let flippedLower = upper.map { NumberBound(value: $0.value.negated, exclusive: $0.exclusive) }
        let flippedUpper = lower.map { NumberBound(value: $0.value.negated, exclusive: $0.exclusive) }
        if let negative = try comparators(lower: flippedLower, upper: flippedUpper, pointer: pointer) {
            if let e = try magnitude(mode, negative.lower, negative.upper, multipleOf) { branches.append([Self.byte("-"), e]) }
        }
        if branches.isEmpty { return try never() }
        return try builder.group("num", branches)
    }

    /// The comparators for a magnitude m ≥ 0 under bounds on m; nil when no m ≥ 0 fits.
    private func comparators(lower: NumberBound?, upper: NumberBound?, pointer: String) throws(GrammarError)
        -> (lower: Comparator?, upper: Comparator?)?
    {
        var lo: Comparator?
        var hi: Comparator?
        if let upper {
            if upper.value.negative || (upper.value.isZero && upper.exclusive) { return nil }
            hi = try Comparator(upper, isLower: false, pointer: pointer)
        }
        if let lower, !lower.value.negative, !(lower.value.isZero && !lower.exclusive) {
            lo = try Comparator(lower, isLower: true, pointer: pointer)
        }
        return (lo, hi)
    }

    private mutating func magnitude(_ mode: NumberMode, _ lower: Comparator?, _ upper: Comparator?, _ divisor: Divisor?) throws(GrammarError)
        -> Element?
    {
        let start = NumberState(syntax: .start, lower: lower.map { _ in .integer(0, .equal) }, upper: upper.map { _ in .integer(0, .equal) }, nonzeroFraction: false)
        var alphabet = Array(UInt8(ascii: "0")...UInt8(ascii: "9"))
        alphabet.append(UInt8(ascii: "."))
        return try automaton(start: start, alphabet: alphabet, name: "mag") { state, byte in
            state.step(byte, mode: mode, lower: lower, upper: upper, divisor: divisor)
        } accepting: { state in
            state.accepts(mode: mode, lower: lower, upper: upper, divisor: divisor)
        }
    }

    /// A deterministic automaton as rules: one rule per live state (reachable and able to reach an
    /// accepting state), alternatives `[bytes, next]` grouped by next state, plus `""` when
    /// accepting. Nil when no state accepts.
    ///
    /// - Throws: `.tooLarge` past 100,000 states.
    mutating func automaton<State: Hashable>(
        start: State, alphabet: [UInt8], name: String, step: (State, UInt8) -> State?, accepting: (State) -> Bool
    ) throws(GrammarError) -> Element? {
        var index: [State: Int] = [start: 0]
        var states = [start]
        var edges: [[(UInt8, Int)]] = []
        var i = 0
        while i < states.count {
            var out: [(UInt8, Int)] = []
            for b in alphabet {
                guard let next = step(states[i], b) else { continue }
                if let j = index[next] {
                    out.append((b, j))
                } else {
                    guard states.count < 100_000 else {
                        throw GrammarError(.tooLarge, "a number automaton past 100000 states")
                    }
                    index[next] = states.count
                    out.append((b, states.count))
                    states.append(next)
                }
            }
            edges.append(out)
            i += 1
        }
        // Live states: those that reach an accepting state (a backward fixed point).
        var live = states.map(accepting)
        var reverse = [[Int]](repeating: [], count: states.count)
        for (s, out) in edges.enumerated() { for (_, t) in out { reverse[t].append(s) } }
        var work = live.indices.filter { live[$0] }
        while let t = work.popLast() {
            for s in reverse[t] where !live[s] {
                live[s] = true
                work.append(s)
            }
        }
        guard live[0] else { return nil }
        var rules: [Int: Int] = [:]
        for s in states.indices where live[s] { rules[s] = try builder.declare(name) }
        for s in states.indices where live[s] {
            var byTarget: [Int: ByteSet] = [:]
            var order: [Int] = []
            for (b, t) in edges[s] where live[t] {
                if byTarget[t] == nil { order.append(t) }
                byTarget[t, default: ByteSet()].insert(b)
            }
            var alternatives: [[Element]] = order.compactMap { t in
                guard let set = byTarget[t], let r = rules[t] else { return nil }
                return [.bytes(set), .rule(r)]
            }
            if accepting(states[s]) { alternatives.append([]) }
            if let r = rules[s] { try builder.define(r, alternatives) }
        }
        return rules[0].map { .rule($0) }
    }
}

/// `multipleOf` as an exact decimal `p / 10^q`: x is a multiple when x·10^q is an integer divisible
/// by p — read digit by digit, a remainder modulo p over the integer digits and the first q fraction
/// digits (later fraction digits must be 0). Bounded so the automaton stays small.
struct Divisor: Hashable, Sendable {
    let p: Int
    let q: Int
    static let maxP = 10_000
    static let maxQ = 18

    init?(p: Int, q: Int) {
        guard p >= 1, p <= Self.maxP, q >= 0, q <= Self.maxQ else { return nil }
        self.p = p
        self.q = q
    }

    /// The divisor of a positive decimal; nil past the bounds.
    init?(_ value: DecimalValue) {
        guard !value.negative, !value.isZero, let parts = value.split(maxDigits: Self.maxQ + 5) else { return nil }
        let significant = (parts.integer + parts.fraction).drop { $0 == 0 }
        guard parts.fraction.count <= Self.maxQ, significant.count <= 6 else { return nil }
        var p = 0
        for d in significant { p = p * 10 + Int(d) }
        self.init(p: p, q: parts.fraction.count)
    }

    /// The divisor both `self` and `other` divide into: their least common multiple on a common scale.
    func combined(with other: Divisor) -> Divisor? {
        let q = max(self.q, other.q)
        func scaled(_ d: Divisor) -> Int? {
            var p = d.p
            for _ in 0..<(q - d.q) {
                p *= 10
                if p > Self.maxP { return nil }
            }
            return p
        }
        guard let a = scaled(self), let b = scaled(other) else { return nil }
        func gcd(_ x: Int, _ y: Int) -> Int { y == 0 ? x : gcd(y, x % y) }
        let lcm = a / gcd(a, b) * b
        return Divisor(p: lcm, q: q)
    }

    /// Whether `value` is a multiple.
    func divides(_ value: DecimalValue) -> Bool {
        if value.isZero { return true }
        guard let parts = value.split(maxDigits: GrammarKit.maxBoundDigits), parts.fraction.count <= q else { return false }
        var r = 0
        for d in parts.integer + parts.fraction + [UInt8](repeating: 0, count: q - parts.fraction.count) { r = (r * 10 + Int(d)) % p }
        return r == 0
    }
}

enum NumberMode {
    /// Any number.
    case any
    /// Whole numbers: digits, optionally `.0+`.
    case integer
    /// Numbers with a non-zero fraction digit.
    case fraction
}

enum Relation: Hashable {
    case less, equal, greater
}

/// A bound on a magnitude as digit strings: integer digits without leading zeros, fraction
/// digits without trailing zeros.
struct Comparator {
    var integer: [UInt8]
    var fraction: [UInt8]
    var isLower: Bool
    var exclusive: Bool

    init(_ bound: NumberBound, isLower: Bool, pointer: String) throws(GrammarError) {
        guard let parts = bound.value.magnitude.split(maxDigits: GrammarKit.maxBoundDigits) else {
            throw GrammarError(.tooLarge, "a numeric bound with more than \(GrammarKit.maxBoundDigits) digits", location: pointer)
        }
        self.integer = parts.integer
        self.fraction = parts.fraction
        self.isLower = isLower
        self.exclusive = bound.exclusive
    }

    /// Whether a final relation (magnitude vs bound) satisfies the bound.
    func satisfied(_ r: Relation) -> Bool {
        switch r {
        case .equal: return !exclusive
        case .less: return !isLower
        case .greater: return isLower
        }
    }
}

/// Where a comparator is: in the integer part (digits so far, relation of the prefix to the
/// bound's prefix of the same length), in the fraction (position, relation so far), or decided.
enum ComparatorState: Hashable {
    case integer(Int, Relation)
    case fraction(Int)
    case decided(Relation)
}

struct NumberState: Hashable {
    enum Syntax: Hashable {
        case start
        /// The integer part is "0".
        case zero
        case integer
        /// Just read ".".
        case point
        case fraction
    }
    var syntax: Syntax
    var lower: ComparatorState?
    var upper: ComparatorState?
    var nonzeroFraction: Bool
    /// With a divisor: the remainder of the digits read so far (integer part, then up to q fraction
    /// digits), and how many fraction digits were read (at most q + 1: past q only 0 may come).
    var remainder = 0
    var fractionDigits = 0

    func step(_ b: UInt8, mode: NumberMode, lower lc: Comparator?, upper uc: Comparator?, divisor: Divisor? = nil) -> NumberState? {
        var next = self
        let isDigit = b != UInt8(ascii: ".")
        let d = isDigit ? b - 0x30 : 0
        if let divisor, isDigit {
            if syntax == .point || syntax == .fraction {
                if fractionDigits < divisor.q {
                    next.remainder = (remainder * 10 + Int(d)) % divisor.p
                    next.fractionDigits = fractionDigits + 1
                } else if d != 0 {
                    return nil
                }
            } else {
                next.remainder = (remainder * 10 + Int(d)) % divisor.p
            }
        }
        switch syntax {
        case .start:
            guard isDigit else { return nil }
            next.syntax = d == 0 ? .zero : .integer
        case .zero:
            guard !isDigit else { return nil }
            next.syntax = .point
        case .integer:
            next.syntax = isDigit ? .integer : .point
        case .point, .fraction:
            guard isDigit else { return nil }
            if mode == .integer, d != 0 { return nil }
            next.syntax = .fraction
            if d != 0 { next.nonzeroFraction = true }
        }
        // "0" as an integer part is the empty digit string for comparison.
        let countsAsIntegerDigit = isDigit && (syntax == .start || syntax == .integer) && !(syntax == .start && d == 0)
        if let lc, let s = lower {
            guard let n = Self.advance(s, lc, byte: b, integerDigit: countsAsIntegerDigit, digit: d) else { return nil }
            next.lower = n
        }
        if let uc, let s = upper {
            guard let n = Self.advance(s, uc, byte: b, integerDigit: countsAsIntegerDigit, digit: d) else { return nil }
            next.upper = n
        }
        return next
    }

    /// The comparator after one byte; nil when the bound can no longer be satisfied.
    static func advance(_ s: ComparatorState, _ c: Comparator, byte: UInt8, integerDigit: Bool, digit: UInt8)
        -> ComparatorState?
    {
        var state = s
        switch s {
        case .decided: return s
        case .integer(let length, let relation):
            if byte == UInt8(ascii: ".") {
                let r: Relation = length < c.integer.count ? .less : (length > c.integer.count ? .greater : relation)
                state = r == .equal ? .fraction(0) : .decided(r)
            } else if integerDigit {
                if length >= c.integer.count {
                    state = .decided(.greater)
                } else if relation == .equal {
                    let b = c.integer[length]
                    state = .integer(length + 1, digit < b ? .less : (digit > b ? .greater : .equal))
                } else {
                    state = .integer(length + 1, relation)
                }
            }
        case .fraction(let position):
            if position < c.fraction.count {
                let b = c.fraction[position]
                state = digit < b ? .decided(.less) : (digit > b ? .decided(.greater) : .fraction(position + 1))
            } else {
                state = digit > 0 ? .decided(.greater) : .fraction(position)
            }
        }
        if case .decided(let r) = state {
            // Decided: satisfied or dead; a satisfied comparator needs no more tracking.
            return c.satisfied(r) ? .decided(.equal == r ? .equal : r) : nil
        }
        return state
    }

    /// The final relation of the magnitude read so far to the bound.
    static func finish(_ s: ComparatorState, _ c: Comparator) -> Relation {
        switch s {
        case .decided(let r): return r
        case .integer(let length, let relation):
            return length < c.integer.count ? .less : (length > c.integer.count ? .greater : relation)
        case .fraction(let position):
            return position < c.fraction.count ? .less : .equal
        }
    }

    func accepts(mode: NumberMode, lower lc: Comparator?, upper uc: Comparator?, divisor: Divisor? = nil) -> Bool {
        guard syntax == .zero || syntax == .integer || syntax == .fraction else { return false }
        if let divisor {
            // The fraction digits not written are zeros.
            var r = remainder
            for _ in fractionDigits..<divisor.q { r = r * 10 % divisor.p }
            if r != 0 { return false }
        }
        if mode == .fraction, !nonzeroFraction { return false }
        if let lc, let s = lower, !lc.satisfied(Self.finish(s, lc)) { return false }
        if let uc, let s = upper, !uc.satisfied(Self.finish(s, uc)) { return false }
        return true
    }
}
