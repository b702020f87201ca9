/// Unicode scalar ranges as UTF-8 byte-range sequences (the construction of Russ Cox's RE2 and
/// Rust's utf8-ranges), so a character class becomes alternatives over bytes.
enum UTF8Ranges {
    static let maxScalar: UInt32 = 0x10FFFF

    /// Sorted, merged ranges within 0...0x10FFFF.
    static func normalize(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        let clipped = ranges.compactMap { r -> ClosedRange<UInt32>? in
            r.lowerBound > maxScalar ? nil : r.lowerBound...min(r.upperBound, maxScalar)
        }.sorted { $0.lowerBound < $1.lowerBound }
        var out: [ClosedRange<UInt32>] = []
        for r in clipped {
            if let last = out.last, r.lowerBound <= last.upperBound &+ 1 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }

    static func removingSurrogates(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        for r in ranges {
            if r.upperBound < 0xD800 || r.lowerBound > 0xDFFF {
                out.append(r)
                continue
            }
            if r.lowerBound < 0xD800 { out.append(r.lowerBound...0xD7FF) }
            if r.upperBound > 0xDFFF { out.append(0xE000...r.upperBound) }
        }
        return out
    }

    /// `ranges` (normalized) without the scalars in `points`.
    static func subtracting(_ points: [UInt32], from ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        let sorted = Array(Set(points)).sorted()
        var out: [ClosedRange<UInt32>] = []
        var i = 0
        for r in ranges {
            var lo = r.lowerBound
            while i < sorted.count, sorted[i] < lo { i += 1 }
            var done = false
            while i < sorted.count, sorted[i] <= r.upperBound {
                let p = sorted[i]
                if p > lo { out.append(lo...(p - 1)) }
                i += 1
                if p == r.upperBound {
                    done = true
                    break
                }
                lo = p + 1
            }
            if !done { out.append(lo...r.upperBound) }
        }
        return out
    }

    /// The scalars not in `ranges` (normalized), without surrogates.
    static func complement(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in ranges {
            if r.lowerBound > next { out.append(next...(r.lowerBound - 1)) }
            next = r.upperBound &+ 1
            if r.upperBound >= maxScalar { next = maxScalar + 1 }
        }
        if next <= maxScalar { out.append(next...maxScalar) }
        return removingSurrogates(out)
    }

    /// Byte-set sequences whose union is exactly the UTF-8 encodings of the scalars in `ranges`
    /// (normalized, no surrogates).
    static func byteSequences(_ ranges: [ClosedRange<UInt32>]) -> [[ByteSet]] {
        var out: [[ByteSet]] = []
        for r in ranges { split(r.lowerBound, r.upperBound, into: &out) }
        return out
    }

    private static let lengthBounds: [UInt32] = [0x7F, 0x7FF, 0xFFFF, 0x10FFFF]

    private static func split(_ lo: UInt32, _ hi: UInt32, into out: inout [[ByteSet]]) {
        // Split at encoded-length boundaries first.
        for bound in lengthBounds where lo <= bound && hi > bound {
            split(lo, bound, into: &out)
            split(bound + 1, hi, into: &out)
            return
        }
        if hi <= 0x7F {
            out.append([ByteSet(UInt8(lo)...UInt8(hi))])
            return
        }
        // Split so each continuation byte position spans a full 6-bit range or one value.
        let n = hi <= 0x7FF ? 2 : (hi <= 0xFFFF ? 3 : 4)
        for i in 1..<n {
            let m: UInt32 = (1 << (6 * UInt32(i))) - 1
            if lo & ~m != hi & ~m {
                if lo & m != 0 {
                    split(lo, lo | m, into: &out)
                    split((lo | m) + 1, hi, into: &out)
                    return
                }
                if hi & m != m {
                    split(lo, (hi & ~m) - 1, into: &out)
                    split(hi & ~m, hi, into: &out)
                    return
                }
            }
        }
        let a = encode(lo, length: n)
        let b = encode(hi, length: n)
        out.append((0..<n).map { ByteSet(a[$0]...b[$0]) })
    }

    private static func encode(_ scalar: UInt32, length: Int) -> [UInt8] {
        switch length {
        case 2: return [UInt8(0xC0 | (scalar >> 6)), UInt8(0x80 | (scalar & 0x3F))]
        case 3: return [UInt8(0xE0 | (scalar >> 12)), UInt8(0x80 | ((scalar >> 6) & 0x3F)), UInt8(0x80 | (scalar & 0x3F))]
        default:
            return [
                UInt8(0xF0 | (scalar >> 18)), UInt8(0x80 | ((scalar >> 12) & 0x3F)),
                UInt8(0x80 | ((scalar >> 6) & 0x3F)), UInt8(0x80 | (scalar & 0x3F)),
            ]
        }
    }
}
