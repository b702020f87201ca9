/// A `Content-Range: bytes START-END/TOTAL` header of a 206 answer (RFC 9110 §14.4).
struct ContentRange: Sendable, Hashable {
    /// The first byte sent.
    var start: Int
    /// The last byte sent (inclusive).
    var end: Int
    /// The whole representation's length, when the server knows it (`*` otherwise).
    var total: Int?

    /// Parses a header value; `nil` when it is not a well-formed byte range.
    ///
    /// - Parameter value: The header's value.
    init?(_ value: String) {
        let text = value.trimmingSpaces()
        guard text.hasPrefix("bytes ") else { return nil }
        let spec = text.dropFirst("bytes ".count)
        let halves = spec.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2 else { return nil }
        let bounds = halves[0].split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let start = Int(bounds[0]), let end = Int(bounds[1]), start >= 0, end >= start
        else { return nil }
        if halves[1] == "*" {
            total = nil
        } else {
            guard let total = Int(halves[1]), total > end else { return nil }
            self.total = total
        }
        self.start = start
        self.end = end
    }

    /// The total length of an unsatisfied range (`bytes */TOTAL`, sent with a 416), or `nil`.
    ///
    /// - Parameter value: The header's value.
    static func unsatisfiedTotal(_ value: String) -> Int? {
        let text = value.trimmingSpaces()
        guard text.hasPrefix("bytes */") else { return nil }
        return Int(text.dropFirst("bytes */".count)).flatMap { $0 >= 0 ? $0 : nil }
    }
}

extension String {
    func trimmingSpaces() -> Substring {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return text
    }
}
