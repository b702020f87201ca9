import Tokenization

/// A step into a JSON value: an object's key or an array's index.
protocol ChatJSONPathElement: Sendable {}
extension String: ChatJSONPathElement {}
extension Int: ChatJSONPathElement {}

extension ChatJSON {
    /// This value with the value at `path` replaced by `value` (unchanged when the path does not
    /// lead anywhere).
    func replacing(_ path: [any ChatJSONPathElement], with value: ChatJSON) -> ChatJSON {
        guard let first = path.first else { return value }
        let rest = Array(path.dropFirst())
        switch (self, first) {
        case (.object(var pairs), let key as String):
            guard let i = pairs.firstIndex(where: { $0.key == key }) else { return self }
            pairs[i].value = pairs[i].value.replacing(rest, with: value)
            return .object(pairs)
        case (.array(var items), let index as Int):
            guard items.indices.contains(index) else { return self }
            items[index] = items[index].replacing(rest, with: value)
            return .array(items)
        default:
            return self
        }
    }
}
