/// A trie of strings by Unicode scalar: node 0 is the root, `children[n]` its edges, `ends[n]`
/// whether a string ends there. Used to take strings out of a string grammar (keys that must differ
/// from named keys, the strings a `not` excludes).
struct StringTrie {
    private(set) var children: [[UInt32: Int]] = [[:]]
    private(set) var ends: [Bool] = [false]

    init(_ strings: [String]) {
        for string in strings {
            var node = 0
            for scalar in string.unicodeScalars {
                if let next = children[node][scalar.value] {
                    node = next
                } else {
                    children.append([:])
                    ends.append(false)
                    children[node][scalar.value] = children.count - 1
                    node = children.count - 1
                }
            }
            ends[node] = true
        }
    }

    var count: Int { children.count }
}
