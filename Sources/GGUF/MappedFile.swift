import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory.
///
/// Model weights are used in place from the mapping: nothing is copied, and the page cache decides
/// what stays resident. The mapping lives as long as this object; tensors that point into it keep a
/// reference. Bytes are only reachable inside `withUnsafeBytes`, so no pointer outlives the owner.
///
/// - Warning: If another process truncates the file while it is mapped, touching the lost pages
///   raises `SIGBUS`; replace model files by renaming a new file into place, never by rewriting.
public final class MappedFile: @unchecked Sendable {
    // @unchecked Sendable: every stored property is immutable after init and the mapping is
    // PROT_READ, so concurrent readers cannot race; `lock`/`advise` are syscalls the kernel serialises.

    /// The path the file was opened from (empty for an anonymous copy).
    public let path: String
    /// The file's size in bytes, and the mapping's.
    public let count: Int
    private let base: UnsafeMutableRawPointer?

    /// How the kernel should expect the mapping to be read (`madvise`).
    public enum Advice: Sendable {
        /// No expectation.
        case normal
        /// Read once front to back: read ahead aggressively, drop behind.
        case sequential
        /// Random access: no read-ahead.
        case random
        /// Start reading the range into the page cache now.
        case willNeed
        /// The range will not be needed soon.
        case dontNeed

        var rawValue: Int32 {
            switch self {
            case .normal: MADV_NORMAL
            case .sequential: MADV_SEQUENTIAL
            case .random: MADV_RANDOM
            case .willNeed: MADV_WILLNEED
            case .dontNeed: MADV_DONTNEED
            }
        }
    }

    /// Maps the file at `path` read-only.
    ///
    /// Opening never blocks: a FIFO or device is refused rather than waited on.
    ///
    /// - Parameter path: The file to map.
    /// - Throws: `GGUFError` with code `.io` when the file cannot be opened, is not a regular file,
    ///   or cannot be mapped.
    public init(path: String) throws {
        self.path = path
        let descriptor: FileDescriptor
        do {
            // O_NONBLOCK so that opening a FIFO does not wait for a writer; it has no effect on reads of
            // a regular file's mapping.
            descriptor = try FileDescriptor.open(
                FilePath(path), .readOnly, options: [.nonBlocking, .closeOnExec])
        } catch {
            throw GGUFError(.io, "cannot open \(path)", underlying: error)
        }
        defer { try? descriptor.close() }

        var info = stat()
        guard fstat(descriptor.rawValue, &info) == 0 else {
            throw GGUFError(.io, "cannot stat \(path)", underlying: Errno(rawValue: errno))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError(.io, "\(path) is not a regular file")
        }
        guard info.st_size >= 0, let size = Int(exactly: info.st_size) else {
            throw GGUFError(.io, "\(path) has an invalid size \(info.st_size)")
        }
        count = size
        if size == 0 {
            // mmap refuses a zero length; an empty file simply has no bytes.
            base = nil
            return
        }
        let mapped = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor.rawValue, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw GGUFError(.io, "cannot map \(path) (\(size) bytes)", underlying: Errno(rawValue: errno))
        }
        base = mapped
    }

    /// Maps an anonymous, read-only copy of `bytes`, for files built in memory (tests, fuzzing).
    ///
    /// - Parameter bytes: The file's contents.
    /// - Throws: `GGUFError` with code `.io` when memory cannot be mapped.
    public init(copying bytes: some Collection<UInt8>) throws {
        path = ""
        count = bytes.count
        if count == 0 {
            base = nil
            return
        }
        let mapped = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw GGUFError(.io, "cannot map \(count) anonymous bytes", underlying: Errno(rawValue: errno))
        }
        let buffer = UnsafeMutableRawBufferPointer(start: mapped, count: count)
        buffer.copyBytes(from: bytes)
        // Read-only from here on, like a file mapping, so an out-of-bounds write would fault in tests.
        mprotect(mapped, count, PROT_READ)
        base = mapped
    }

    deinit {
        if let base {
            munmap(base, count)
        }
    }

    /// Calls `body` with the mapped bytes.
    ///
    /// - Parameter body: A closure that reads the bytes. The buffer must not escape it.
    /// - Returns: What `body` returns.
    /// - Warning: The pointer is valid only during the call.
    @inlinable
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(unsafeBuffer)
    }

    @usableFromInline
    var unsafeBuffer: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { UnsafeRawPointer($0) }, count: count)
    }

    /// Tells the kernel how a byte range will be read.
    ///
    /// - Parameters:
    ///   - advice: The expected access pattern.
    ///   - range: The byte range (page-aligned outward); the whole file when `nil`.
    /// - Throws: `GGUFError` with code `.io` when `madvise` fails or the range is outside the file.
    public func advise(_ advice: Advice, range: Range<Int>? = nil) throws {
        guard let base else { return }
        let (start, length) = try pageRange(range)
        if madvise(base + start, length, advice.rawValue) != 0 {
            throw GGUFError(.io, "madvise failed on \(path)", underlying: Errno(rawValue: errno))
        }
    }

    /// Locks a byte range in memory so it cannot be paged out (`mlock`).
    ///
    /// - Parameter range: The byte range (page-aligned outward); the whole file when `nil`.
    /// - Throws: `GGUFError` with code `.io`; when the lock limit is too low, the message says how
    ///   large it is and how to raise it (`LimitMEMLOCK=` in the unit, `ulimit -l`).
    public func lock(range: Range<Int>? = nil) throws {
        guard let base else { return }
        let (start, length) = try pageRange(range)
        if mlock(base + start, length) != 0 {
            let error = Errno(rawValue: errno)
            var limit = rlimit()
            getrlimit(__rlimit_resource_t(__RLIMIT_MEMLOCK.rawValue), &limit)
            let current = limit.rlim_cur == rlim_t.max ? "unlimited" : "\(limit.rlim_cur) bytes"
            throw GGUFError(
                .io,
                "cannot lock \(length) bytes of \(path) in memory: RLIMIT_MEMLOCK is \(current); "
                    + "raise it (LimitMEMLOCK=infinity in the systemd unit, or ulimit -l) or turn locking off",
                underlying: error)
        }
    }

    /// Unlocks a byte range locked with `lock(range:)`.
    ///
    /// - Parameter range: The byte range; the whole file when `nil`.
    /// - Throws: `GGUFError` with code `.io` when `munlock` fails.
    public func unlock(range: Range<Int>? = nil) throws {
        guard let base else { return }
        let (start, length) = try pageRange(range)
        if munlock(base + start, length) != 0 {
            throw GGUFError(.io, "munlock failed on \(path)", underlying: Errno(rawValue: errno))
        }
    }

    /// How many bytes of a range are resident in memory now (`mincore`), counted in whole pages.
    ///
    /// Weights are file-backed: this is what the page cache holds of them, as opposed to anonymous
    /// memory (KV cache, scratch), which the daemon reports separately.
    ///
    /// - Parameter range: The byte range (page-aligned outward); the whole file when `nil`.
    /// - Returns: The resident bytes (at most the page-aligned length of the range).
    /// - Throws: `GGUFError` with code `.io` when `mincore` fails or the range is outside the file.
    public func residentByteCount(range: Range<Int>? = nil) throws -> Int {
        guard let base else { return 0 }
        let (start, length) = try pageRange(range)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let pages = (length + page - 1) / page
        var vector = [UInt8](repeating: 0, count: pages)
        let status = vector.withUnsafeMutableBufferPointer { mincore(base + start, length, $0.baseAddress) }
        guard status == 0 else {
            throw GGUFError(.io, "mincore failed on \(path)", underlying: Errno(rawValue: errno))
        }
        return vector.reduce(0) { $0 + Int($1 & 1) } * page
    }

    private func pageRange(_ range: Range<Int>?) throws -> (start: Int, length: Int) {
        let range = range ?? 0..<count
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw GGUFError(.io, "range \(range) is outside \(path) (\(count) bytes)")
        }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = range.lowerBound / page * page
        return (start, range.upperBound - start)
    }
}
