/// Mistral's Tekken pre-tokenizer, hand-written to match tiktoken's regex engine exactly.
///
/// The pattern (from `tekken.json`, MODEL-SPEC §5.2), with `A = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`,
/// `B = [\p{Ll}\p{Lm}\p{Lo}\p{M}]`, `P = [^\r\n\p{L}\p{N}]` and `C = [^\s\p{L}\p{N}]`:
///
/// ```
/// P?A*B+ | P?A+B* | \p{N} | ' '?C+[\r\n/]* | \s*[\r\n]+ | \s+(?!\S) | \s+
/// ```
///
/// tiktoken (mistral-common) runs it with a backtracking engine: at each position the first
/// alternative that matches wins, and inside an alternative greedy quantifiers give back characters
/// until the rest matches. Each alternative below reproduces that, including the backtracking of
/// `A*` when no `B` follows (`A` and `B` share `Lm`, `Lo` and marks). Every code point matches some
/// alternative, so the splitter never skips text.
struct TekkenSplitter {
    /// Appends the end index (in code points) of each pre-token of `text` to `ends`.
    static func split(_ text: DecodedText, into ends: inout [Int]) {
        let n = text.count
        text.scalars.withUnsafeBufferPointer { scalars in
            text.classes.withUnsafeBufferPointer { classes in
                var position = 0
                while position < n {
                    position = match(at: position, n, scalars, classes)
                    ends.append(position)
                }
            }
        }
    }

    @inline(__always)
    private static func isLineBreak(_ scalar: UInt32) -> Bool { scalar == 0x0A || scalar == 0x0D }

    /// `P = [^\r\n\p{L}\p{N}]`.
    @inline(__always)
    private static func isPrefix(_ i: Int, _ s: UnsafeBufferPointer<UInt32>, _ c: UnsafeBufferPointer<UInt8>) -> Bool {
        c[i] & (UnicodeClasses.letter | UnicodeClasses.number) == 0 && !isLineBreak(s[i])
    }

    /// `C = [^\s\p{L}\p{N}]`.
    @inline(__always)
    private static func isOther(_ classes: UInt8) -> Bool {
        classes & (UnicodeClasses.letter | UnicodeClasses.number | UnicodeClasses.whitespace) == 0
    }

    /// `A*B+` at `start`: the end of the match, or `nil`.
    @inline(__always)
    private static func upperThenLower(_ start: Int, _ n: Int, _ c: UnsafeBufferPointer<UInt8>) -> Int? {
        var k = start
        while k < n && c[k] & UnicodeClasses.tekkenUpper != 0 { k += 1 }
        if k < n && c[k] & UnicodeClasses.tekkenLower != 0 {
            var end = k + 1
            while end < n && c[end] & UnicodeClasses.tekkenLower != 0 { end += 1 }
            return end
        }
        // Backtrack A*: the last code point of the A-run that is also in B ends the match (the
        // code points after it are Lu/Lt, not B, so B+ takes exactly that one).
        var last = k - 1
        while last >= start {
            if c[last] & UnicodeClasses.tekkenLower != 0 { return last + 1 }
            last -= 1
        }
        return nil
    }

    /// `A+B*` at `start`: the end of the match, or `nil`.
    @inline(__always)
    private static func upperRunThenLower(_ start: Int, _ n: Int, _ c: UnsafeBufferPointer<UInt8>) -> Int? {
        var k = start
        while k < n && c[k] & UnicodeClasses.tekkenUpper != 0 { k += 1 }
        guard k > start else { return nil }
        while k < n && c[k] & UnicodeClasses.tekkenLower != 0 { k += 1 }
        return k
    }

    private static func match(
        at p: Int, _ n: Int, _ s: UnsafeBufferPointer<UInt32>, _ c: UnsafeBufferPointer<UInt8>
    ) -> Int {
        let hasPrefix = isPrefix(p, s, c)
        // 1. P?A*B+  (with the optional prefix first, then without)
        if hasPrefix && p + 1 < n, let end = upperThenLower(p + 1, n, c) { return end }
        if let end = upperThenLower(p, n, c) { return end }
        // 2. P?A+B*
        if hasPrefix && p + 1 < n, let end = upperRunThenLower(p + 1, n, c) { return end }
        if let end = upperRunThenLower(p, n, c) { return end }
        // 3. \p{N}
        if c[p] & UnicodeClasses.number != 0 { return p + 1 }
        // 4. ' '?C+[\r\n/]*
        var q = -1
        if s[p] == 0x20 && p + 1 < n && isOther(c[p + 1]) {
            q = p + 1
        } else if isOther(c[p]) {
            q = p
        }
        if q >= 0 {
            while q < n && isOther(c[q]) { q += 1 }
            while q < n && (isLineBreak(s[q]) || s[q] == 0x2F) { q += 1 }
            return q
        }
        // White space: the run [p, end).
        var end = p
        var lastBreak = -1
        while end < n && c[end] & UnicodeClasses.whitespace != 0 {
            if isLineBreak(s[end]) { lastBreak = end }
            end += 1
        }
        if end > p {
            // 5. \s*[\r\n]+ : backtracking ends the match after the run's last line break.
            if lastBreak >= 0 { return lastBreak + 1 }
            // 6. \s+(?!\S) : the whole run at the end of text, else all but its last code point.
            if end == n { return end }
            if end - 1 > p { return end - 1 }
            // 7. \s+
            return end
        }
        // Unreachable for valid text (every code point is L, N, white space or C); advance anyway.
        return p + 1
    }
}
