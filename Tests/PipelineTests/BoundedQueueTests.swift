// BoundedQueue policies: `.block` suspends the producer and loses nothing, `.dropOldest` never suspends and
// counts what it discards; finish/close/cancellation wake whoever waits.
import Foundation
@testable import Pipeline
import TestSupport
import XCTest

/// TestSupport's `eventually`, under the signature the scheduler tests of this target call without importing
/// TestSupport themselves.
func eventually(_ condition: () -> Bool, timeout: Double = 10) async -> Bool {
    await TestSupport.eventually(timeout: timeout, poll: 0.001, condition)
}

final class BoundedQueueTests: XCTestCase {
    func testBlockPolicySuspendsTheProducerAndLosesNothing() async throws {
        let queue = BoundedQueue<Int>(capacity: 2, policy: .block)
        let producer = Task {
            for i in 0..<5 { try await queue.push(i) }
            queue.finish()
        }
        // The producer fills the queue and then waits: nothing is dropped, the queue never exceeds capacity.
        let waited = await eventually { queue.stats.producerWaits >= 1 }
        XCTAssertTrue(waited)
        XCTAssertEqual(queue.count, 2)
        XCTAssertEqual(queue.stats.pushed, 2)
        var received: [Int] = []
        while let value = try await queue.pop() { received.append(value) }
        try await producer.value
        XCTAssertEqual(received, [0, 1, 2, 3, 4])
        let stats = queue.stats
        XCTAssertEqual(stats.dropped, 0)
        XCTAssertEqual(stats.pushed, 5)
        XCTAssertEqual(stats.popped, 5)
        XCTAssertLessThanOrEqual(stats.highWater, 2)
    }

    func testDropOldestNeverSuspendsAndCountsDrops() async throws {
        let queue = BoundedQueue<Int>(capacity: 3, policy: .dropOldest)
        for i in 0..<10 { try await queue.push(i) }  // would hang here if the producer could block
        queue.finish()
        XCTAssertEqual(queue.count, 3)
        var received: [Int] = []
        while let value = try await queue.pop() { received.append(value) }
        XCTAssertEqual(received, [7, 8, 9])
        XCTAssertEqual(queue.stats, QueueStats(pushed: 10, popped: 3, dropped: 7, highWater: 3, producerWaits: 0))
    }

    func testWaitingConsumerGetsTheNextPushDirectly() async throws {
        let queue = BoundedQueue<String>(capacity: 1, policy: .block)
        let consumer = Task { try await queue.pop() }
        try? await Task.sleep(nanoseconds: 5_000_000)
        try await queue.push("frame")
        let value = try await consumer.value
        XCTAssertEqual(value, "frame")
        XCTAssertEqual(queue.count, 0)
    }

    /// A pop on an empty queue registers the consumer and counts one wait; pops that find an element, and the
    /// end after finish, do not.
    func testConsumerWaitsCountPopsThatFoundTheQueueEmpty() async throws {
        let queue = BoundedQueue<Int>(capacity: 4, policy: .block)
        let consumer = Task { try await queue.pop() }
        let waiting = await eventually { queue.stats.consumerWaits == 1 }
        XCTAssertTrue(waiting)
        try await queue.push(1)
        let first = try await consumer.value
        XCTAssertEqual(first, 1)
        try await queue.push(2)
        try await queue.push(3)
        queue.finish()
        var rest: [Int] = []
        while let value = try await queue.pop() { rest.append(value) }
        XCTAssertEqual(rest, [2, 3])
        XCTAssertEqual(queue.stats.consumerWaits, 1)
        XCTAssertEqual(queue.stats.popped, 3)
    }

    func testFinishDeliversWhatIsQueuedThenEnds() async throws {
        let queue = BoundedQueue<Int>(capacity: 4, policy: .block)
        try await queue.push(1)
        try await queue.push(2)
        queue.finish()
        do {
            try await queue.push(3)
            XCTFail("push after finish must throw")
        } catch is QueueClosed {}
        let first = try await queue.pop()
        let second = try await queue.pop()
        let end = try await queue.pop()
        let again = try await queue.pop()
        XCTAssertEqual([first, second, end, again], [1, 2, nil, nil])
    }

    func testFinishWakesAWaitingConsumer() async throws {
        let queue = BoundedQueue<Int>(capacity: 1, policy: .block)
        let consumer = Task { try await queue.pop() }
        try? await Task.sleep(nanoseconds: 5_000_000)
        queue.finish()
        let value = try await consumer.value
        XCTAssertNil(value)
    }

    func testCloseWakesBlockedProducerAndConsumer() async throws {
        let queue = BoundedQueue<Int>(capacity: 1, policy: .block)
        try await queue.push(0)
        let producer = Task { try await queue.push(1) }
        let waited = await eventually { queue.stats.producerWaits >= 1 }
        XCTAssertTrue(waited)
        queue.close()
        do {
            try await producer.value
            XCTFail("a blocked producer must be woken with QueueClosed")
        } catch is QueueClosed {}
        do {
            _ = try await queue.pop()
            XCTFail("pop on a closed queue must throw")
        } catch is QueueClosed {}

        let idle = BoundedQueue<Int>(capacity: 1, policy: .block)
        let consumer = Task { try await idle.pop() }
        try? await Task.sleep(nanoseconds: 5_000_000)
        idle.close()
        do {
            _ = try await consumer.value
            XCTFail("a waiting consumer must be woken with QueueClosed")
        } catch is QueueClosed {}
    }

    func testCancellingAWaiterThrowsAndLeavesTheQueueUsable() async throws {
        let queue = BoundedQueue<Int>(capacity: 1, policy: .block)
        try await queue.push(0)
        let producer = Task { try await queue.push(1) }
        let waited = await eventually { queue.stats.producerWaits >= 1 }
        XCTAssertTrue(waited)
        producer.cancel()
        do {
            try await producer.value
            XCTFail("a cancelled producer must throw")
        } catch is CancellationError {}
        let zero = try await queue.pop()
        XCTAssertEqual(zero, 0)
        XCTAssertEqual(queue.count, 0)  // the cancelled push did not land

        let consumer = Task { try await queue.pop() }
        try? await Task.sleep(nanoseconds: 5_000_000)
        consumer.cancel()
        do {
            _ = try await consumer.value
            XCTFail("a cancelled consumer must throw")
        } catch is CancellationError {}
        try await queue.push(7)
        let seven = try await queue.pop()
        XCTAssertEqual(seven, 7)
    }

    func testManyProducersOneConsumerKeepEachProducersOrder() async throws {
        let queue = BoundedQueue<(producer: Int, index: Int)>(capacity: 4, policy: .block)
        let producers = 4, perProducer = 2000
        let done = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for p in 0..<producers {
                    group.addTask { for i in 0..<perProducer { try await queue.push((p, i)) } }
                }
                try await group.waitForAll()
            }
            queue.finish()
        }
        var next = [Int](repeating: 0, count: producers)
        var total = 0
        while let item = try await queue.pop() {
            XCTAssertEqual(item.index, next[item.producer], "producer \(item.producer) out of order")
            next[item.producer] = item.index + 1
            total += 1
        }
        try await done.value
        XCTAssertEqual(total, producers * perProducer)
        XCTAssertEqual(queue.stats.dropped, 0)
        XCTAssertLessThanOrEqual(queue.stats.highWater, 4)
    }
}
