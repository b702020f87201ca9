/// Qwen2's pre-tokenizer as llama.cpp runs it (`unicode_regex_split_custom_qwen2`).
///
/// The pattern is `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
/// llama.cpp does not run a regex engine on it but a hand-written scanner, whose choices this port
/// follows step by step (parity with llama.cpp is the goal for the Qwen2.5 models).
struct Qwen2Splitter {
    /// Appends the end index (in code points) of each pre-token of `text` to `ends`.
    static func split(_ text: DecodedText, into ends: inout [Int]) {
        let n = text.count
        text.scalars.withUnsafeBufferPointer { s in
            text.classes.withUnsafeBufferPointer { c in
                // Out-of-range positions read as "no class" (llama.cpp's empty flags) and no code point.
                @inline(__always) func cls(_ i: Int) -> UInt8 { i < n ? c[i] : 0 }
                @inline(__always) func isLetter(_ i: Int) -> Bool { cls(i) & UnicodeClasses.letter != 0 }
                @inline(__always) func isNumber(_ i: Int) -> Bool { cls(i) & UnicodeClasses.number != 0 }
                @inline(__always) func isSpace(_ i: Int) -> Bool { cls(i) & UnicodeClasses.whitespace != 0 }
                @inline(__always) func lower(_ i: Int) -> UInt32 {
                    guard i < n else { return 0xFFFF_FFFF }
                    let v = s[i]
                    return v >= 0x41 && v <= 0x5A ? v + 0x20 : v
                }
                var pos = 0
                var previousEnd = 0
                func add(_ end: Int) {
                    if end > previousEnd { ends.append(end) }
                    previousEnd = end
                }
                while pos < n {
                    let cpt = s[pos]
                    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
                    if cpt == 0x27 && pos + 1 < n {
                        let next = lower(pos + 1)
                        if next == 0x73 || next == 0x74 || next == 0x6D || next == 0x64 {  // s t m d
                            add(pos + 2)
                            pos += 2
                            continue
                        }
                        if pos + 2 < n {
                            let nextNext = lower(pos + 2)
                            if (next == 0x72 && nextNext == 0x65) || (next == 0x76 && nextNext == 0x65)
                                || (next == 0x6C && nextNext == 0x6C)
                            {  // re ve ll
                                add(pos + 3)
                                pos += 3
                                continue
                            }
                        }
                    }
                    // [^\r\n\p{L}\p{N}]?\p{L}+
                    if !(cpt == 0x0D || cpt == 0x0A || isNumber(pos)) {
                        if isLetter(pos) || isLetter(pos + 1) {
                            pos += 1
                            while isLetter(pos) { pos += 1 }
                            add(pos)
                            continue
                        }
                    }
                    // \p{N}
                    if isNumber(pos) {
                        pos += 1
                        add(pos)
                        continue
                    }
                    // <space>?[^\s\p{L}\p{N}]+[\r\n]*
                    let probe = cpt == 0x20 ? pos + 1 : pos
                    if probe < n && !(isSpace(probe) || isLetter(probe) || isNumber(probe)) {
                        pos = probe
                        while pos < n && !(isSpace(pos) || isLetter(pos) || isNumber(pos)) { pos += 1 }
                        while pos < n && (s[pos] == 0x0D || s[pos] == 0x0A) { pos += 1 }
                        add(pos)
                        continue
                    }
                    var spaces = 0
                    var lastBreakEnd = 0
                    while isSpace(pos + spaces) {
                        let v = s[pos + spaces]
                        if v == 0x0D || v == 0x0A { lastBreakEnd = pos + spaces + 1 }
                        spaces += 1
                    }
                    // \s*[\r\n]+
                    if lastBreakEnd > 0 {
                        pos = lastBreakEnd
                        add(pos)
                        continue
                    }
                    // \s+(?!\S)
                    if spaces > 1 && pos + spaces < n {
                        pos += spaces - 1
                        add(pos)
                        continue
                    }
                    // \s+
                    if spaces > 0 {
                        pos += spaces
                        add(pos)
                        continue
                    }
                    pos += 1
                    add(pos)
                }
            }
        }
    }
}
