/// Finds stop strings in streamed text without ever emitting part of one.
///
/// Text arrives in chunks (one token's worth at a time); a stop string may straddle chunks. The
/// matcher holds back the shortest tail that could still begin a stop string and releases it once
/// it cannot.
public struct StopSequences: Sendable {
    /// The stop strings.
    public let stops: [String]
    private var pending = ""

    /// What feeding a chunk produced.
    public struct Output: Sendable, Equatable {
        /// Text safe to emit now.
        public var text: String
        /// The stop string found, if generation must end (the text before it is in `text`).
        public var stoppedAt: String?

        /// Creates an output.
        ///
        /// - Parameters:
        ///   - text: Text safe to emit.
        ///   - stoppedAt: The stop string found, if any.
        public init(text: String, stoppedAt: String?) {
            self.text = text
            self.stoppedAt = stoppedAt
        }
    }

    /// Creates a matcher.
    ///
    /// - Parameter stops: The stop strings (empty strings are ignored).
    public init(_ stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }
    }

    /// Feeds the next chunk of generated text.
    ///
    /// - Parameter chunk: New text.
    /// - Returns: What can be emitted, and whether a stop string ended the generation.
    public mutating func feed(_ chunk: String) -> Output {
        pending += chunk
        guard !stops.isEmpty else {
            defer { pending = "" }
            return Output(text: pending, stoppedAt: nil)
        }
        // The earliest complete stop string wins.
        var earliest: (range: Range<String.Index>, stop: String)?
        for stop in stops {
            if let range = pending.firstRange(of: stop), earliest.map({ range.lowerBound < $0.range.lowerBound }) ?? true {
                earliest = (range, stop)
            }
        }
        if let earliest {
            let text = String(pending[..<earliest.range.lowerBound])
            pending = ""
            return Output(text: text, stoppedAt: earliest.stop)
        }
        // Hold back the longest suffix that is a proper prefix of some stop string.
        var hold = 0
        for stop in stops {
            for length in stride(from: min(stop.count - 1, pending.count), to: 0, by: -1)
            where pending.hasSuffix(stop.prefix(length)) {
                hold = max(hold, length)
                break
            }
        }
        let split = pending.index(pending.endIndex, offsetBy: -hold)
        let text = String(pending[..<split])
        pending = String(pending[split...])
        return Output(text: text, stoppedAt: nil)
    }

    /// Releases held-back text at the end of generation (no stop string can complete any more).
    ///
    /// - Returns: The held text.
    public mutating func flush() -> String {
        defer { pending = "" }
        return pending
    }
}
