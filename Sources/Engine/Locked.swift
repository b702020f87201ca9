#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a POSIX mutex: state shared by the engine's thread, the server's tasks and the
/// status reporter. Not `Synchronization.Mutex`: its futex-based lock lives inside the standard library,
/// where ThreadSanitizer cannot see it, so every access under it is reported as a race; a pthread
/// mutex is intercepted, and the daemon's tests run clean under `--sanitize=thread`.
public final class Locked<Value>: @unchecked Sendable {
    // @unchecked Sendable: `value` is only touched with `mutex` held. `mutex` comes first: a value of
    // zero size (a `SystemRandomNumberGenerator`) would otherwise share its address, and
    // ThreadSanitizer's exclusivity checks would take an unlocked read of `mutex` for a race on it.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    /// Creates a lock guarding `value`.
    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value, the lock held.
    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
