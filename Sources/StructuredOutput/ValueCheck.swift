/// A check on the text of a rule's references that rules alone cannot say, made by the matcher
/// when the text closes: JSON Schema's `uniqueItems`.
///
/// The matcher records where each checked reference starts (its stack node keeps the byte offset),
/// so when an item's rule ends it knows the item's bytes and, through the enclosing array's frame,
/// the earlier items'. A stack whose item repeats an earlier one dies there, so the bytes (and
/// tokens) that would close a duplicate are masked.
public enum ValueCheck: Hashable, Sendable {
    /// The reference spans a JSON array's items, from just after its `[`: the frame the items of
    /// `uniqueItem` references look in.
    case uniqueArray
    /// The reference is one item of the innermost enclosing `uniqueArray`: when it closes, its value
    /// must differ (JSON Schema equality: numbers by value, objects in any member order) from every
    /// earlier item of that array.
    case uniqueItem

    /// Words for a grammar's printout.
    var summary: String {
        switch self {
        case .uniqueArray: return "an array whose items are checked unique"
        case .uniqueItem: return "an item that must differ from the array's earlier items"
        }
    }
}

/// The JSON side of `ValueCheck.uniqueItem`: items as semantic keys (equal exactly when the values
/// are equal in JSON Schema's sense).
enum UniqueItems {
    /// The keys of the items in `text`, the part of an array between its `[` and the current item:
    /// `ws v ws , ws v ws , ws` (empty for the first item). Nil when it does not parse (the check
    /// then lets the item pass: it cannot tell).
    static func earlierKeys(_ text: ArraySlice<UInt8>) -> Set<String>? {
        var end = text.endIndex
        while end > text.startIndex, isWhitespace(text[end - 1]) { end -= 1 }
        guard end > text.startIndex else { return [] }
        guard text[end - 1] == UInt8(ascii: ",") else { return nil }
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        bytes.reserveCapacity(end - text.startIndex + 1)
        bytes += text[text.startIndex..<(end - 1)]
        bytes.append(UInt8(ascii: "]"))
        guard case .array(let items)? = try? JSONNode.parse(bytes) else { return nil }
        return Set(items.map(\.semanticKey))
    }

    /// The key of one item's text; nil when it does not parse.
    static func key(_ text: ArraySlice<UInt8>) -> String? {
        (try? JSONNode.parse(text))?.semanticKey
    }

    private static func isWhitespace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D
    }
}
