import Synchronization

/// A flag one side sets and others poll (a client hung up; a request timed out), shareable by reference.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)

    /// Whether the flag is set.
    var isSet: Bool { value.load(ordering: .acquiring) }

    /// Sets the flag.
    func set() { value.store(true, ordering: .releasing) }
}
