// MARK: - `format` as grammars

/// String formats asserted exactly (the content of a JSON string, canonically spelled):
///
/// - `date`: RFC 3339 full-date, days per month exact, 29 February only in leap years
///   (Gregorian: by 4, not by 100 unless by 400, enumerated over the year's digits).
/// - `time`: RFC 3339 full-time, `T`/`Z` either case; a leap second (`:60`) only where it is
///   23:59:60 UTC, whatever the offset.
/// - `date-time`: `date` `T` `time`.
/// - `uuid`: 8-4-4-4-12 hexadecimal digits, either case.
/// - `ipv4`: dotted quad, 0–255, no leading zeros.
/// - `email`: RFC 5321 subset: dot-atom or quoted local part; a domain of hostname labels (1–63
///   characters, no edge hyphen) or a bracketed IPv4 literal (IPv6 literals are refused).
///
/// - `uri`: RFC 3986 URI (scheme, `//` authority with user info and port, or a path; query and
///   fragment), ASCII as written (percent-encoded otherwise); IP-literal (`[…]`) hosts are not
///   generated.
///
/// Any other format throws `.unsupported`.
extension GrammarKit {
    /// The length range (characters) of each format's strings.
    static let formatLengths: [String: (min: Int, max: Int?)] = [
        "date": (10, 10), "uuid": (36, 36), "ipv4": (7, 15), "time": (9, nil), "date-time": (20, nil), "email": (3, nil),
        "uri": (2, nil),
    ]

    /// RFC 3986's URI as an ECMA-262 pattern (a regular language once IP-literal hosts are left
    /// out), so length bounds beside `format: uri` pair with it as with any pattern.
    static let uriPattern: String = {
        let unreserved = "A-Za-z0-9._~!$&'()*+,;="  // unreserved and sub-delims, "-" added last
        let pct = "%[0-9A-Fa-f]{2}"
        let pchar = "([\(unreserved):@-]|\(pct))"
        let path = "(/\(pchar)*)*"
        let userinfo = "([\(unreserved):-]|\(pct))*@"
        let host = "([\(unreserved)-]|\(pct))*"
        let hier = "(//(\(userinfo))?\(host)(:[0-9]*)?\(path)|/(\(pchar)+\(path))?|\(pchar)+\(path))?"
        let tail = "([\(unreserved):@/?-]|\(pct))*"
        return "^[A-Za-z][A-Za-z0-9+.-]*:\(hier)(\\?\(tail))?(#\(tail))?$"
    }()

    /// The pattern a format is, for the formats written as one.
    static let formatPatterns: [String: String] = ["uri": uriPattern]

    static func set(_ s: String) -> Element { .bytes(bytes(s)) }
    static func range(_ a: Unicode.Scalar, _ b: Unicode.Scalar) -> Element {
        .bytes(ByteSet(UInt8(a.value)...UInt8(b.value)))
    }

    /// The string content of `name`.
    mutating func format(_ name: String) throws(GrammarError) -> Element {
        switch name {
        case "date": return try date()
        case "time": return try time()
        case "date-time":
            return try builder.group("date-time", [[try date(), Self.set("Tt"), try time()]])
        case "uuid":
            let hex = Element.bytes(Self.hexDigit)
            var seq: [Element] = []
            for (i, n) in [8, 4, 4, 4, 12].enumerated() {
                if i > 0 { seq.append(Self.byte("-")) }
                seq += Array(repeating: hex, count: n)
            }
            return try builder.group("uuid", [seq])
        case "ipv4": return try ipv4()
        case "email": return try email()
        case "uri":
            return try RegexCompiler(limits: builder.limits).content(Self.uriPattern, kit: &self, encoding: .jsonString).element
        default:
            throw GrammarError(.unsupported, "the format '\(name)' is not supported", keyword: "format")
        }
    }

    private mutating func date() throws(GrammarError) -> Element {
        let d = Self.range("0", "9")
        let day31 = try builder.group("d31", [[Self.byte("0"), Self.range("1", "9")], [Self.set("12"), d], [Self.byte("3"), Self.set("01")]])
        let day30 = try builder.group("d30", [[Self.byte("0"), Self.range("1", "9")], [Self.set("12"), d], [Self.byte("3"), Self.byte("0")]])
        let day28 = try builder.group("d28", [[Self.byte("0"), Self.range("1", "9")], [Self.byte("1"), d], [Self.byte("2"), Self.range("0", "8")]])
        let dash = Self.byte("-")
        let monthDay = try builder.group(
            "md",
            [
                [Self.byte("0"), Self.set("13578"), dash, day31], [Self.byte("1"), Self.set("02"), dash, day31],
                [Self.byte("0"), Self.set("469"), dash, day30], [Self.byte("1"), Self.byte("1"), dash, day30],
                [Self.byte("0"), Self.byte("2"), dash, day28],
            ])
        // Two digits divisible by 4 (00 included).
        let by4 = try builder.group("by4", [[Self.byte("0"), Self.set("048")], [Self.set("2468"), Self.set("048")], [Self.set("13579"), Self.set("26")]])
        let by4NonZero = try builder.group("by4nz", [[Self.byte("0"), Self.set("48")], [Self.set("2468"), Self.set("048")], [Self.set("13579"), Self.set("26")]])
        let leapYear = try builder.group("leap", [[d, d, by4NonZero], [by4, Self.byte("0"), Self.byte("0")]])
        return try builder.group(
            "date", [[d, d, d, d, dash, monthDay], [leapYear] + builder.literal("-02-29")])
    }

    private mutating func time() throws(GrammarError) -> Element {
        let d = Self.range("0", "9")
        let colon = Self.byte(":")
        let hour = try builder.group("hh", [[Self.set("01"), d], [Self.byte("2"), Self.range("0", "3")]])
        let minute = try builder.group("mm", [[Self.range("0", "5"), d]])
        let fraction = try builder.optional([Self.byte("."), try builder.plus([d], base: "digits")], base: "secfrac")
        let offset = try builder.group("offset", [[Self.set("Zz")], [Self.set("+-"), hour, colon, minute]])
        var alternatives: [[Element]] = [[hour, colon, minute, colon, minute, fraction, offset]]
        // Leap seconds: the local time is 23:59 UTC shifted by the offset (any offset, to the
        // minute). One rule per local hour holds its 60 minutes × 2 signs, each with the one offset
        // that makes it 23:59 UTC.
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        var byHour: [[[Element]]] = Array(repeating: [], count: 24)
        for sign in [1, -1] {
            for offset in 0..<(24 * 60) {
                let local = ((23 * 60 + 59 + sign * offset) % 1440 + 1440) % 1440
                let text = ":\(two(local % 60)):60"
                let zone: [Element]
                if offset == 0 {
                    guard sign == 1 else { continue }
                    zone = [try builder.group("z", [[Self.set("Zz")], [Self.set("+-")] + builder.literal("00:00")])]
                } else {
                    zone = builder.literal("\(sign > 0 ? "+" : "-")\(two(offset / 60)):\(two(offset % 60))")
                }
                byHour[local / 60].append(builder.literal(text) + [fraction] + zone)
            }
        }
        var leap: [[Element]] = []
        for (h, rest) in byHour.enumerated() {
            leap.append(builder.literal(two(h)) + [try builder.add("leap\(two(h))", rest)])
        }
        alternatives.append([try builder.add("leapsecond", leap)])
        return try builder.group("time", alternatives)
    }

    private mutating func ipv4() throws(GrammarError) -> Element {
        let d = Self.range("0", "9")
        let octet = try builder.group(
            "octet",
            [
                [Self.byte("2"), Self.byte("5"), Self.range("0", "5")], [Self.byte("2"), Self.range("0", "4"), d],
                [Self.byte("1"), d, d], [Self.range("1", "9"), d], [d],
            ])
        let dot = Self.byte(".")
        return try builder.group("ipv4", [[octet, dot, octet, dot, octet, dot, octet]])
    }

    private mutating func email() throws(GrammarError) -> Element {
        let atext = Self.set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-")
        let atom = try builder.plus([atext], base: "atom")
        let dotAtom = try builder.group("dot-atom", [[atom, try builder.star([Self.byte("."), atom], base: "atoms")]])
        // Quoted local part, as it appears inside a JSON string: `"` is `\"`, `\` is `\\`.
        let escapedQuote: [Element] = [Self.byte("\\"), Self.byte("\"")]
        let escapedBackslash: [Element] = [Self.byte("\\"), Self.byte("\\")]
        var qtext = ByteSet(0x20...0x21)
        qtext.insert(0x23...0x5B)
        qtext.insert(0x5D...0x7E)
        let pairChar = try builder.group("qpchar", [[.bytes(qtext)], escapedQuote, escapedBackslash])
        let qcontent = try builder.group("qcontent", [[.bytes(qtext)], escapedBackslash + [pairChar]])
        let quoted = try builder.group("quoted", [escapedQuote + [try builder.star([qcontent], base: "qcontents")] + escapedQuote])
        let alnum = Self.bytes("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var alnumHyphen = alnum
        alnumHyphen.insert(UInt8(ascii: "-"))
        let middle = try builder.repeated([.bytes(alnumHyphen)], min: 0, max: 61, base: "label-mid")
        let label = try builder.group("label", [[.bytes(alnum)], [.bytes(alnum), middle, .bytes(alnum)]])
        let hostname = try builder.group("hostname", [[label, try builder.star([Self.byte("."), label], base: "labels")]])
        let domain = try builder.group("domain", [[hostname], [Self.byte("["), try ipv4(), Self.byte("]")]])
        return try builder.group("email", [[try builder.group("local", [[dotAtom], [quoted]]), Self.byte("@"), domain]])
    }
}
