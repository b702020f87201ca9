import Kernels
import Synchronization
import Testing

@Suite struct WorkerPoolTests {
    /// Every item is processed exactly once, for many operations in a row (the forward pass's pattern),
    /// across chunk sizes that do and do not divide the count.
    @Test(arguments: [1, 2, 3, 4])
    func everyItemExactlyOnce(threads: Int) {
        let pool = WorkerPool(threadCount: threads)
        for (count, chunk) in [(1, 1), (7, 3), (1000, 16), (4096, 64), (100_003, 257)] {
            let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
            hits.initialize(repeating: 0)
            defer { hits.deallocate() }
            for _ in 0..<20 {
                pool.parallelFor(count: count, chunk: chunk) { range in
                    for i in range { hits[i] += 1 }
                }
            }
            #expect(hits.allSatisfy { $0 == 20 }, "count \(count) chunk \(chunk)")
        }
    }

    /// Many tiny operations back to back (each shorter than a worker's wake-up), with more pool
    /// threads than cores so workers are often descheduled: the caller closes each job without waiting
    /// for late workers, and a late worker must never run a closed job's body (it would touch the
    /// previous operation's captured buffer) nor miss the next one.
    @Test func lateWorkersNeverRunAClosedJob() {
        let pool = WorkerPool(threadCount: 4)
        let count = 6
        let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
        defer { hits.deallocate() }
        let stray = Atomic<Int>(0)
        let current = Atomic<Int>(0)
        for operation in 1...20_000 {
            hits.initialize(repeating: 0)
            current.store(operation, ordering: .sequentiallyConsistent)
            pool.parallelFor(count: count, chunk: 1) { range in
                if current.load(ordering: .sequentiallyConsistent) != operation { stray.add(1, ordering: .relaxed) }
                for i in range { hits[i] += 1 }
            }
            current.store(0, ordering: .sequentiallyConsistent)
            if !hits.allSatisfy({ $0 == 1 }) {
                Issue.record("operation \(operation): items processed \(Array(hits)) times")
                break
            }
        }
        #expect(stray.load(ordering: .relaxed) == 0)
    }

    /// Work really runs on several threads: with N threads, N distinct threads take chunks.
    @Test func usesAllThreads() {
        let pool = WorkerPool(threadCount: 3)
        let seen = Mutex<Set<UInt>>([])
        for _ in 0..<200 {
            pool.parallelFor(count: 300, chunk: 1) { _ in
                let id = UInt(pthread_self())
                seen.withLock { _ = $0.insert(id) }
                var x = 0.0
                for i in 0..<2000 { x += Double(i) }  // long enough that others get a chunk
                precondition(x > 0)
            }
        }
        #expect(seen.withLock { $0.count } == 3)
    }

    /// Fewer active threads (the thermal governor's lever): only that many distinct threads take
    /// chunks, every item is still processed once, and raising it again brings the others back.
    @Test func activeThreadsLimitsTheThreadsUsed() {
        let pool = WorkerPool(threadCount: 4)
        for active in [1, 2, 4, 3, 9, 0] {
            pool.activeThreads = active
            let expected = min(4, max(1, active))
            #expect(pool.activeThreads == expected)
            let seen = Mutex<Set<UInt>>([])
            let total = Atomic<Int>(0)
            for _ in 0..<100 {
                pool.parallelFor(count: 200, chunk: 1) { range in
                    seen.withLock { _ = $0.insert(UInt(pthread_self())) }
                    var x = 0.0
                    for i in 0..<2000 { x += Double(i) }
                    precondition(x > 0)
                    total.add(range.count, ordering: .relaxed)
                }
            }
            #expect(total.load(ordering: .relaxed) == 20_000)
            let used = seen.withLock { $0.count }
            #expect(used <= expected, "active \(active): \(used) threads took chunks")
            if expected > 1 { #expect(used >= 2, "active \(active): work spread over several threads") }
        }
    }

    /// Idle workers go to sleep and wake for the next operation; the pool stops cleanly.
    @Test func wakesAfterSleepingAndStops() throws {
        for _ in 0..<5 {
            let pool = WorkerPool(threadCount: 4)
            let total = Atomic<Int>(0)
            pool.parallelFor(count: 64, chunk: 1) { range in total.add(range.count, ordering: .relaxed) }
            usleep(50_000)  // long past the spin phase: workers are asleep
            pool.parallelFor(count: 64, chunk: 1) { range in total.add(range.count, ordering: .relaxed) }
            #expect(total.load(ordering: .relaxed) == 128)
        }
    }

    /// The cost of one operation: thousands per second even on a busy 2-core box.
    @Test func operationsAreCheap() {
        let pool = WorkerPool(threadCount: 2)
        let clock = ContinuousClock()
        let operations = 20_000
        let elapsed = clock.measure {
            for _ in 0..<operations {
                pool.parallelFor(count: 64, chunk: 16) { _ in }
            }
        }
        print("worker pool: \(operations) operations in \(elapsed) (\(elapsed / operations) each)")
        #expect(elapsed < .seconds(20))  // a bound for hangs, not a speed target
    }
}

#if canImport(Glibc)
import Glibc
#endif
