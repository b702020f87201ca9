import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A fixed set of worker threads that split each operation's rows between them.
///
/// The forward pass calls it a few hundred times per token, so an operation must cost microseconds,
/// not a thread creation or a `Task`: threads are created once; an operation publishes a job and
/// bumps a generation counter that idle workers spin on (and, after a short while, sleep on, so an
/// idle daemon burns no CPU); the caller works too. Rows are handed out in chunks through an
/// atomic counter, so a worker that the OS preempts (shared boxes, CPU quotas) delays one chunk,
/// not a whole share.
///
/// One operation at a time: `parallelFor` must not be called concurrently or re-entrantly.
public final class WorkerPool: @unchecked Sendable {
    // @unchecked Sendable: all shared state lives in `Shared` (see there); `parallelFor` is
    // documented as single-caller.

    /// The number of threads an operation runs on, the caller included.
    public let threadCount: Int
    private let shared: Shared
    private var threads: [pthread_t] = []
    private let busy = Atomic<Bool>(false)
    private let active: Atomic<Int>

    /// Threads the next operations run on (1...`threadCount`, the caller included): the thermal
    /// governor lowers it to cut power while pacing. The others stay parked. Results do not depend on
    /// it (rows are split in chunks whatever the thread count).
    public var activeThreads: Int {
        get { active.load(ordering: .relaxed) }
        set { active.store(min(threadCount, max(1, newValue)), ordering: .relaxed) }
    }

    /// Each worker thread's stack (virtual; only the pages touched become resident).
    static let threadStackBytes = 4 << 20

    /// Starts `threadCount - 1` worker threads (the caller is the last one).
    ///
    /// - Parameter threadCount: Threads per operation, at least 1.
    public init(threadCount: Int) {
        precondition(threadCount >= 1, "a pool needs at least one thread")
        self.threadCount = threadCount
        active = Atomic(threadCount)
        shared = Shared()
        for index in 0..<(threadCount - 1) {
            // The thread owns one retain of `shared` (in its start record); it never references the
            // pool itself, so the pool's deinit can run, stop the threads and join them.
            let context = Unmanaged.passRetained(WorkerStart(shared: shared, index: index)).toOpaque()
            var thread = pthread_t()
            // A stated stack size, not the process's RLIMIT_STACK (which `ulimit -s` may make small):
            // the repacked prefill kernels keep up to ~141 KiB of scratch on the worker's stack.
            let attributes = UnsafeMutablePointer<pthread_attr_t>.allocate(capacity: 1)
            pthread_attr_init(attributes)
            defer {
                pthread_attr_destroy(attributes)
                attributes.deallocate()
            }
            pthread_attr_setstacksize(attributes, Self.threadStackBytes)
            let status = pthread_create(
                &thread, attributes,
                { raw in
                    let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                    start.shared.workerLoop(index: start.index)
                    return nil
                }, context)
            precondition(status == 0, "pthread_create failed: \(status)")
            threads.append(thread)
        }
    }

    deinit {
        shared.stop()
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Runs `body` over `0..<count` in chunks of `chunk` items, on every thread of the pool, and
    /// returns when all chunks are done.
    ///
    /// - Parameters:
    ///   - count: The number of items (rows).
    ///   - chunk: Items per chunk (the last may be shorter). Pick it so a chunk is worth tens of µs.
    ///   - body: Processes one chunk. Called concurrently from several threads with disjoint ranges.
    public func parallelFor(count: Int, chunk: Int, _ body: (Range<Int>) -> Void) {
        precondition(chunk >= 1, "chunk must be positive")
        guard count > 0 else { return }
        let threads = activeThreads
        if threads == 1 || count <= chunk {
            body(0..<count)
            return
        }
        // A second caller would overwrite the job under the workers' feet: catch it loudly.
        precondition(!busy.exchange(true, ordering: .acquiring), "WorkerPool.parallelFor called concurrently")
        withoutActuallyEscaping(body) { body in
            shared.run(Job(body: body, count: count, chunk: chunk), workers: threads - 1)
        }
        busy.store(false, ordering: .releasing)
    }

    /// What a worker thread starts with.
    private final class WorkerStart {
        let shared: Shared
        let index: Int
        init(shared: Shared, index: Int) {
            self.shared = shared
            self.index = index
        }
    }

    fileprivate struct Job {
        let body: (Range<Int>) -> Void
        let count: Int
        let chunk: Int
    }

    /// The state the caller and the workers share.
    ///
    /// `job` is written only by the caller, before it opens the job (`open` = the job's generation)
    /// and bumps `generation`; a worker that wakes for a generation counts itself in `inFlight`, then
    /// reads `job` only if `open` still names that generation. When the caller has handed out every
    /// chunk it closes the job (`open` = 0) and waits for `inFlight` to drain — it does not wait for
    /// workers that have not woken yet (a worker the OS has descheduled would otherwise hold up every
    /// operation on a busy box: measured 35% of a decode's samples spinning here with another process
    /// on the second core). All four accesses are sequentially consistent, so either the worker's
    /// increment precedes the caller's drain check (the caller waits for it) or its check of `open`
    /// follows the close (it never touches the job). The mutex and condition guard only sleeping: a
    /// worker that stops spinning counts itself in `sleepers` and re-checks the generation under the
    /// mutex; the caller bumps the generation and then reads `sleepers` (both sequentially
    /// consistent), broadcasting under the mutex when someone may sleep. The generation's low 16 bits
    /// say how many workers take part in its job (workers `0..<n`; the rest only note the generation),
    /// so a worker learns it from the same load that wakes it.
    fileprivate final class Shared: @unchecked Sendable {
        private var job: Job?
        private let generation = Atomic<UInt64>(0)
        private let nextChunk = Atomic<Int>(0)
        /// The generation whose job workers may run (0: none).
        private let open = Atomic<UInt64>(0)
        /// Workers between counting themselves in and leaving a generation's job.
        private let inFlight = Atomic<Int>(0)
        private let sleepers = Atomic<Int>(0)
        private let stopping = Atomic<Bool>(false)
        private let mutex: UnsafeMutablePointer<pthread_mutex_t>
        private let condition: UnsafeMutablePointer<pthread_cond_t>

        /// How long an idle worker spins before it sleeps (atomic loads; tens of µs).
        private static let spinIterations = 50_000

        init() {
            mutex = .allocate(capacity: 1)
            mutex.initialize(to: pthread_mutex_t())
            pthread_mutex_init(mutex, nil)
            condition = .allocate(capacity: 1)
            condition.initialize(to: pthread_cond_t())
            pthread_cond_init(condition, nil)
        }

        deinit {
            pthread_cond_destroy(condition)
            pthread_mutex_destroy(mutex)
            condition.deallocate()
            mutex.deallocate()
        }

        func run(_ job: Job, workers: Int) {
            self.job = job
            nextChunk.store(0, ordering: .relaxed)
            let next = nextGeneration(participants: workers)
            open.store(next, ordering: .sequentiallyConsistent)
            publish(next)
            drainChunks()
            // Every chunk is claimed: late workers must not start, running ones must finish (each
            // chunk is short: spinning beats sleeping here).
            open.store(0, ordering: .sequentiallyConsistent)
            while inFlight.load(ordering: .sequentiallyConsistent) > 0 {}
            self.job = nil
        }

        func stop() {
            stopping.store(true, ordering: .sequentiallyConsistent)
            publish(nextGeneration(participants: 0))
        }

        /// The generation after the current one, with `participants` in its low 16 bits (never 0).
        private func nextGeneration(participants: Int) -> UInt64 {
            // Only the caller (one at a time) and deinit write the generation.
            ((generation.load(ordering: .relaxed) >> 16) + 1) << 16 | UInt64(participants)
        }

        private func publish(_ next: UInt64) {
            generation.store(next, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(condition)
                pthread_mutex_unlock(mutex)
            }
        }

        private func drainChunks() {
            guard let job else { return }
            while true {
                let start = nextChunk.add(1, ordering: .relaxed).oldValue * job.chunk
                guard start < job.count else { return }
                job.body(start..<min(job.count, start + job.chunk))
            }
        }

        func workerLoop(index: Int) {
            var seen: UInt64 = 0
            while true {
                var spins = 0
                var current = generation.load(ordering: .acquiring)
                while current == seen {
                    if spins < Self.spinIterations {
                        spins += 1
                    } else {
                        sleep(whileGenerationIs: seen)
                    }
                    current = generation.load(ordering: .acquiring)
                }
                seen = current
                if stopping.load(ordering: .acquiring) { return }
                guard index < Int(current & 0xFFFF) else { continue }  // not needed for this job
                inFlight.add(1, ordering: .sequentiallyConsistent)
                if open.load(ordering: .sequentiallyConsistent) == current { drainChunks() }
                inFlight.subtract(1, ordering: .sequentiallyConsistent)
            }
        }

        private func sleep(whileGenerationIs seen: UInt64) {
            pthread_mutex_lock(mutex)
            sleepers.add(1, ordering: .sequentiallyConsistent)
            while generation.load(ordering: .sequentiallyConsistent) == seen {
                pthread_cond_wait(condition, mutex)
            }
            sleepers.subtract(1, ordering: .sequentiallyConsistent)
            pthread_mutex_unlock(mutex)
        }
    }
}
