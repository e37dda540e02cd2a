// A fixed-capacity queue between two pipeline tasks with an explicit policy for when it is full:
// `.block` suspends the producer (files: never drop, never grow), `.dropOldest` discards the oldest element and
// counts it (live streams: the decoder must never wait for a slow pipeline).
import Synchronization

/// What a full queue does with a new element.
public enum QueuePolicy: String, Sendable, Equatable {
    /// The producer suspends until the consumer takes an element.
    case block
    /// The oldest queued element is discarded (and counted) to make room.
    case dropOldest = "drop-oldest"
}

/// Thrown to a producer whose consumer has gone away (the pipeline is stopping), and to a consumer of a
/// queue that was closed by an error upstream.
public struct QueueClosed: Error, Sendable, CustomStringConvertible {
    public var description: String { "the queue was closed" }
}

/// Counters of one queue, read for metrics and tests.
public struct QueueStats: Sendable, Equatable {
    public var pushed = 0
    public var popped = 0
    /// Elements discarded by `.dropOldest`.
    public var dropped = 0
    /// Most elements ever waiting at once.
    public var highWater = 0
    /// Times a producer had to wait on a full `.block` queue.
    public var producerWaits = 0
    /// Times the consumer found the queue empty and had to wait for a push (or the end).
    public var consumerWaits = 0
}

/// A bounded multi-producer, single-consumer queue for async tasks. Every method is safe to call from any task.
public final class BoundedQueue<Element: Sendable>: Sendable {
    public let capacity: Int
    public let policy: QueuePolicy
    /// Name in errors and metrics, e.g. "decode → detect".
    public let name: String

    private struct State {
        var buffer: [Element] = []
        var head = 0
        var finished = false
        var closed = false
        var stats = QueueStats()
        var consumer: CheckedContinuation<Element?, Error>?
        var producers: [(id: UInt64, continuation: CheckedContinuation<Void, Error>)] = []
        var nextWaiterID: UInt64 = 0

        var count: Int { buffer.count - head }

        mutating func removeFirst() -> Element {
            let element = buffer[head]
            head += 1
            if head > 64, head * 2 > buffer.count {  // compact now and then instead of shifting on every pop
                buffer.removeFirst(head)
                head = 0
            }
            return element
        }
    }

    private let state = Mutex(State())

    private enum PushStep {
        case done
        case handOff(CheckedContinuation<Element?, Error>, Element)
        case closed
        case wait
    }

    private enum PopStep {
        case element(Element, CheckedContinuation<Void, Error>?)
        case end
        case error(Error)
        /// Nothing to take yet (before registering), or registered as the waiting consumer (after).
        case wait
    }

    public init(capacity: Int, policy: QueuePolicy, name: String = "queue") {
        precondition(capacity >= 1, "a queue holds at least one element")
        self.capacity = capacity
        self.policy = policy
        self.name = name
    }

    public var stats: QueueStats { state.withLock { $0.stats } }
    public var count: Int { state.withLock { $0.count } }

    /// Adds `element`. With `.block`, suspends while the queue is full. Throws `QueueClosed` if the consumer has
    /// gone, `CancellationError` if the calling task is cancelled while waiting.
    public func push(_ element: Element) async throws {
        while true {
            let step: PushStep = state.withLock { s in
                if s.closed || s.finished { return .closed }
                if let consumer = s.consumer {  // the consumer waits only on an empty queue: hand over directly
                    s.consumer = nil
                    s.stats.pushed += 1
                    s.stats.popped += 1
                    s.stats.highWater = max(s.stats.highWater, 1)
                    return .handOff(consumer, element)
                }
                if s.count < capacity {
                    s.buffer.append(element)
                    s.stats.pushed += 1
                    s.stats.highWater = max(s.stats.highWater, s.count)
                    return .done
                }
                switch policy {
                case .dropOldest:
                    _ = s.removeFirst()
                    s.stats.dropped += 1
                    s.buffer.append(element)
                    s.stats.pushed += 1
                    return .done
                case .block:
                    s.stats.producerWaits += 1
                    return .wait
                }
            }
            switch step {
            case .done: return
            case let .handOff(consumer, element):
                consumer.resume(returning: element)
                return
            case .closed: throw QueueClosed()
            case .wait: try await waitForSpace()
            }
        }
    }

    /// Suspends until a pop makes room (or the queue closes, or the task is cancelled).
    private func waitForSpace() async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                let resumeNow: Error?? = state.withLock { s in
                    if Task.isCancelled { return .some(CancellationError()) }
                    if s.closed || s.finished { return .some(QueueClosed()) }
                    if s.count < capacity { return .some(nil) }  // room appeared before we registered
                    s.producers.append((id, continuation))
                    return .none
                }
                if let resumeNow {
                    if let error = resumeNow { continuation.resume(throwing: error) } else { continuation.resume() }
                }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Error>? in
                guard let index = s.producers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.producers.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Takes the oldest element, suspending while the queue is empty. Returns nil once the producer has
    /// finished and everything queued has been taken. Throws `QueueClosed` if closed by an error.
    public func pop() async throws -> Element? {
        let step: PopStep = state.withLock { s in
            if s.closed { return .error(QueueClosed()) }
            if s.count > 0 {
                let element = s.removeFirst()
                s.stats.popped += 1
                let producer = s.producers.isEmpty ? nil : s.producers.removeFirst().continuation
                return .element(element, producer)
            }
            return s.finished ? .end : .wait
        }
        switch step {
        case let .element(element, producer):
            producer?.resume()
            return element
        case .end: return nil
        case let .error(error): throw error
        case .wait: break
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Element?, Error>) in
                let now: PopStep = state.withLock { s in
                    if Task.isCancelled { return .error(CancellationError()) }
                    if s.closed { return .error(QueueClosed()) }
                    if s.count > 0 {  // a push landed between the check above and now
                        let element = s.removeFirst()
                        s.stats.popped += 1
                        let producer = s.producers.isEmpty ? nil : s.producers.removeFirst().continuation
                        return .element(element, producer)
                    }
                    if s.finished { return .end }
                    precondition(s.consumer == nil, "BoundedQueue \(name) has one consumer")
                    s.consumer = continuation
                    s.stats.consumerWaits += 1
                    return .wait
                }
                switch now {
                case let .element(element, producer):
                    producer?.resume()
                    continuation.resume(returning: element)
                case .end: continuation.resume(returning: nil)
                case let .error(error): continuation.resume(throwing: error)
                case .wait: break
                }
            }
        } onCancel: {
            let consumer = state.withLock { s -> CheckedContinuation<Element?, Error>? in
                defer { s.consumer = nil }
                return s.consumer
            }
            consumer?.resume(throwing: CancellationError())
        }
    }

    /// The producer is done: the consumer gets what is queued, then nil. Waiting producers get `QueueClosed`.
    public func finish() {
        let (consumer, producers) = state.withLock { s in
            s.finished = true
            let consumer = s.count == 0 ? s.consumer : nil
            if consumer != nil { s.consumer = nil }
            let producers = s.producers.map(\.continuation)
            s.producers.removeAll()
            return (consumer, producers)
        }
        consumer?.resume(returning: nil)
        for producer in producers { producer.resume(throwing: QueueClosed()) }
    }

    /// Aborts the queue: queued elements are discarded, everyone waiting gets `QueueClosed`, later calls throw.
    public func close() {
        let (consumer, producers) = state.withLock { s in
            s.closed = true
            s.buffer.removeAll()
            s.head = 0
            let consumer = s.consumer
            s.consumer = nil
            let producers = s.producers.map(\.continuation)
            s.producers.removeAll()
            return (consumer, producers)
        }
        consumer?.resume(throwing: QueueClosed())
        for producer in producers { producer.resume(throwing: QueueClosed()) }
    }
}
