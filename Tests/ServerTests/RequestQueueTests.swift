import Synchronization
import Testing
import WireProtocol

@testable import Server

@Suite struct RequestQueueTests {
    /// Records the order in which requests got their turn.
    final class Order: Sendable {
        let items = Mutex<[Int]>([])
        func append(_ i: Int) { items.withLock { $0.append(i) } }
        var value: [Int] { items.withLock { $0 } }
    }

    /// Counts requests inside their turn, and the most seen at once.
    final class Occupancy: Sendable {
        let state = Mutex<(now: Int, most: Int)>((0, 0))
        func enter() { state.withLock { $0.now += 1; $0.most = max($0.most, $0.now) } }
        func leave() { state.withLock { $0.now -= 1 } }
        var most: Int { state.withLock { $0.most } }
    }

    /// Waits (by polling) until `condition` holds.
    static func until(_ condition: () -> Bool) async throws {
        for _ in 0..<12_000 {  // up to a minute: on 2 cores, blocking daemon tests can starve the cooperative pool
            if condition() { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("condition never held")
    }

    @Test func oneAtATimeFirstComeFirstServed() async throws {
        let queue = RequestQueue(limit: 8)
        let order = Order()
        let occupancy = Occupancy()
        let (gate, release) = AsyncStream<Void>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The first holds the turn until released; the others line up in order.
            group.addTask {
                try await queue.withTurn(timeout: .seconds(120)) {
                    order.append(0)
                    for await _ in gate { break }
                }
            }
            try await Self.until { queue.counts.active == 1 }
            for i in 1...5 {
                group.addTask {
                    try await queue.withTurn(timeout: .seconds(120)) {
                        occupancy.enter()
                        order.append(i)
                        try await Task.sleep(for: .milliseconds(2))
                        occupancy.leave()
                    }
                }
                try await Self.until { queue.counts.queued == i }
            }
            release.yield()
            try await group.waitForAll()
        }
        #expect(order.value == [0, 1, 2, 3, 4, 5])
        #expect(occupancy.most == 1)
        #expect(queue.counts.active == 0 && queue.counts.queued == 0)
    }

    @Test func aFullLineIsBusyAndALongWaitTimesOut() async throws {
        let queue = RequestQueue(limit: 1)
        let (gate, release) = AsyncStream<Void>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await queue.withTurn(timeout: .seconds(120)) { for await _ in gate { break } } }
            try await Self.until { queue.counts.active == 1 }
            group.addTask {
                await #expect(throws: WireError.timeout(seconds: 0.2, reason: "waited for the model longer than allowed")) {
                    try await queue.withTurn(timeout: .milliseconds(200)) {}
                }
            }
            try await Self.until { queue.counts.queued == 1 }
            await #expect(throws: WireError.busy(queued: 1, limit: 1)) { try await queue.withTurn(timeout: .seconds(1)) {} }
            try await Self.until { queue.counts.queued == 0 }  // the timed-out waiter left the line
            release.yield()
            try await group.waitForAll()
        }
        // The line works again.
        try await queue.withTurn(timeout: .seconds(1)) {}
    }

    @Test func aCancelledWaiterLeavesAndShutdownEmptiesTheLine() async throws {
        let queue = RequestQueue(limit: 4)
        let (gate, release) = AsyncStream<Void>.makeStream()
        let ran = Order()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await queue.withTurn(timeout: .seconds(120)) { for await _ in gate { break } } }
            try await Self.until { queue.counts.active == 1 }
            let cancelled = Task {
                try await queue.withTurn(timeout: .seconds(120)) { ran.append(1) }
            }
            try await Self.until { queue.counts.queued == 1 }
            cancelled.cancel()
            await #expect(throws: CancellationError.self) { try await cancelled.value }
            #expect(queue.counts.queued == 0)
            group.addTask {
                await #expect(throws: WireError.shuttingDown) { try await queue.withTurn(timeout: .seconds(120)) {} }
            }
            try await Self.until { queue.counts.queued == 1 }
            queue.close()
            release.yield()
            try await group.waitForAll()
        }
        #expect(ran.value.isEmpty)
        await #expect(throws: WireError.shuttingDown) { try await queue.withTurn(timeout: .seconds(1)) {} }
    }
}
