/// An element of a `PriorityHeap`: `precedes` is the heap's order (the first element comes out first).
protocol HeapOrdered {
    func precedes(_ other: Self) -> Bool
}

/// A binary min-heap by `precedes`, the priority queue both merge encoders run (llama.cpp's
/// `llm_bigram_*` queues): pairs to merge, best first.
struct PriorityHeap<Element: HeapOrdered> {
    private var items: [Element] = []

    init() {}

    var isEmpty: Bool { items.isEmpty }

    mutating func reserveCapacity(_ count: Int) {
        items.reserveCapacity(count)
    }

    mutating func push(_ item: Element) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return top }
        items[0] = last
        var parent = 0
        let count = items.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { break }
            let right = left + 1
            let best = right < count && items[right].precedes(items[left]) ? right : left
            guard items[best].precedes(items[parent]) else { break }
            items.swapAt(best, parent)
            parent = best
        }
        return top
    }
}
