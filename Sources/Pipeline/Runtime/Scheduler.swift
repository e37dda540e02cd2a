// Runs a source and a chain of stages as concurrent tasks joined by bounded queues. End of media drains every
// stage in order (each gets `finish`); a failing stage stops the others and its error rises with the stage
// name and the media time of the packet it was handling; cancellation stops everything promptly.
import Foundation
import Synchronization

/// A stage failed while running. Carries where (stage) and when (media time) so a log line can say both.
public struct StageError: Error, Sendable, CustomStringConvertible {
    public var stage: String
    /// Media time of the packet being handled (for a source: of the last packet it gave), nil if the failure
    /// was in `finish` or before the first packet.
    public var mediaTime: Double?
    public var underlying: any Error

    public init(stage: String, mediaTime: Double?, underlying: any Error) {
        self.stage = stage
        self.mediaTime = mediaTime
        self.underlying = underlying
    }

    public var description: String {
        let when = mediaTime.map { String(format: " at t=%.3fs", $0) } ?? ""
        return "stage `\(stage)` failed\(when): \(underlying)"
    }
}

/// The chain cannot be built: adjacent ports do not fit. A programming error in the Stages layer (the config
/// is checked earlier), reported before anything runs.
public struct PipelineBuildError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Asks a running pipeline to stop taking new input and finish what it holds (SIGTERM: drain in-flight clips).
public final class DrainSignal: Sendable {
    private struct State {
        var requested = false
        var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        var nextID: UInt64 = 0
    }
    private let state = Mutex(State())

    public init() {}

    public func request() {
        let waiters = state.withLock { s in
            s.requested = true
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    public var isRequested: Bool { state.withLock { $0.requested } }

    /// Returns true once a drain is requested, false if the waiting task is cancelled first (the media ended).
    public func wait() async -> Bool {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now: Bool? = state.withLock { s in
                    if s.requested { return true }
                    if Task.isCancelled { return false }
                    s.waiters[id] = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: false)
        }
    }
}

/// Counters of one stage in a run.
public struct StageStats: Sendable, Equatable {
    public var packetsIn = 0
    public var packetsOut = 0
    /// Seconds spent in `process` and `finish`, not counting waits for room downstream (backpressure).
    public var busySeconds: Double = 0
}

/// What a run did (or is doing), per queue and stage.
public struct RunReport: Sendable {
    /// The queue after the source first, then one per stage output, in order.
    public var queues: [(name: String, policy: QueuePolicy, stats: QueueStats)]
    /// One per stage, in order.
    public var stages: [(name: String, stats: StageStats)]
    /// Packets the sink received.
    public var delivered: Int
    /// True when the run ended because a drain was requested, not because the media ended.
    public var drained: Bool

    /// Frames (or whatever the source gives) dropped by a `.dropOldest` source queue.
    public var sourceDrops: Int { queues.first?.stats.dropped ?? 0 }
}

/// A live view of a running graph, for metrics and health checks: `snapshot()` may be called from any task
/// while the run goes on. Pass one to `StageGraph.run(monitor:)`; a monitor serves one run.
public final class RunMonitor: Sendable {
    private struct State {
        var queues: [(name: String, policy: QueuePolicy, stats: @Sendable () -> QueueStats)] = []
        var stages: [(name: String, stats: StageStats)] = []
        var delivered = 0
        var drained = false
    }
    private let state = Mutex(State())
    /// Sees every packet's processing time (seconds, backpressure waits excluded) with its stage name, as it
    /// happens: the daemon's latency histograms.
    let onStageLatency: (@Sendable (String, Double) -> Void)?

    public init(onStageLatency: (@Sendable (String, Double) -> Void)? = nil) {
        self.onStageLatency = onStageLatency
    }

    public func snapshot() -> RunReport {
        state.withLock { s in
            RunReport(queues: s.queues.map { ($0.name, $0.policy, $0.stats()) }, stages: s.stages,
                      delivered: s.delivered, drained: s.drained)
        }
    }

    func register<Element>(queues: [BoundedQueue<Element>], stages: [String]) {
        state.withLock { s in
            s.queues = queues.map { queue in (queue.name, queue.policy, { queue.stats }) }
            s.stages = stages.map { ($0, StageStats()) }
        }
    }

    func updateStage(_ index: Int, _ update: (inout StageStats) -> Void) {
        state.withLock { update(&$0.stages[index].stats) }
    }

    func delivered() { state.withLock { $0.delivered += 1 } }
    func markDrained() { state.withLock { $0.drained = true } }
}

/// A source and its stages, wired and type-checked.
public struct StageGraph: Sendable {
    public let source: AnySource
    public let stages: [AnyStage]
    /// Queue after the source. Built here so its policy is visible: `.block` for files (the decoder waits),
    /// `.dropOldest` for live streams (the decoder never waits; drops are counted).
    public let sourceQueue: (capacity: Int, policy: QueuePolicy)
    /// Capacity of the queues between stages. These always block: dropping mid-pipeline would tear clips.
    public let stageQueueCapacity: Int

    public init(source: AnySource, sourceQueue: (capacity: Int, policy: QueuePolicy), stages: [AnyStage],
                stageQueueCapacity: Int = 4) throws(PipelineBuildError) {
        var previous = (name: source.name, type: source.outputType)
        for stage in stages {
            guard stage.inputType == previous.type else {
                throw PipelineBuildError(message: "stage `\(stage.name)` takes \(stage.inputType), but "
                                         + "`\(previous.name)` before it gives \(previous.type)")
            }
            previous = (stage.name, stage.outputType)
        }
        guard sourceQueue.capacity >= 1, stageQueueCapacity >= 1 else {
            throw PipelineBuildError(message: "queue capacities must be at least 1")
        }
        self.source = source
        self.stages = stages
        self.sourceQueue = sourceQueue
        self.stageQueueCapacity = stageQueueCapacity
    }

    /// The type the sink receives.
    public var outputType: any Sendable.Type { stages.last?.outputType ?? source.outputType }

    /// Runs until the source ends (then drains every stage), a drain is requested, a stage fails, or the task
    /// is cancelled. `sink` receives the last stage's outputs in order.
    public func run(
        drain: DrainSignal? = nil, monitor: RunMonitor = RunMonitor(),
        sink: @escaping @Sendable (Timestamped<any Sendable>) async throws -> Void
    ) async throws -> RunReport {
        typealias Packet = Timestamped<any Sendable>
        var queues: [BoundedQueue<Packet>] = [
            BoundedQueue(capacity: sourceQueue.capacity, policy: sourceQueue.policy, name: "\(source.name) →"
                         + " \(stages.first?.name ?? "sink")"),
        ]
        for (index, stage) in stages.enumerated() {
            let next = index + 1 < stages.count ? stages[index + 1].name : "sink"
            queues.append(BoundedQueue(capacity: stageQueueCapacity, policy: .block, name: "\(stage.name) → \(next)"))
        }
        let allQueues = queues
        monitor.register(queues: allQueues, stages: stages.map(\.name))
        let source = self.source

        try await withThrowingTaskGroup(of: Void.self) { group in
            // The source task: on a drain request, the source is cancelled and its queue finished normally.
            group.addTask {
                let output = allQueues[0]
                let lastTime = LastTime()
                do {
                    try await withThrowingTaskGroup(of: Bool.self) { inner in
                        inner.addTask {
                            try await source.run { packet in
                                try await output.push(packet)
                                lastTime.value.withLock { $0 = packet.time }
                            }
                            return false
                        }
                        if let drain {
                            inner.addTask { await drain.wait() }
                        }
                        let drainedFirst = try await inner.next() ?? false
                        inner.cancelAll()
                        if drainedFirst { monitor.markDrained() }
                    }
                } catch {
                    output.close()
                    if error is QueueClosed || error is CancellationError { throw error }
                    throw StageError(stage: source.name, mediaTime: lastTime.value.withLock { $0 }, underlying: error)
                }
                output.finish()
            }
            for (index, stage) in stages.enumerated() {
                let input = allQueues[index], output = allQueues[index + 1]
                group.addTask {
                    let runner = stage.makeRunner()
                    var mediaTime: Double?
                    let clock = ContinuousClock()
                    // Time in `emit` is time waiting for room downstream: not this stage's work.
                    var waiting = Duration.zero
                    var emitted = 0
                    func emit(_ packet: Packet) async throws {
                        let start = clock.now
                        try await output.push(packet)
                        waiting += clock.now - start
                        emitted += 1
                    }
                    func account(_ start: ContinuousClock.Instant, input: Int) {
                        let busy = clock.now - start - waiting
                        let seconds = Double(busy.components.seconds) + Double(busy.components.attoseconds) * 1e-18
                        monitor.updateStage(index) { stats in
                            stats.packetsIn += input
                            stats.packetsOut += emitted
                            stats.busySeconds += max(0, seconds)
                        }
                        if input > 0 { monitor.onStageLatency?(stage.name, max(0, seconds)) }
                        waiting = .zero
                        emitted = 0
                    }
                    do {
                        while let packet = try await input.pop() {
                            mediaTime = packet.time
                            let start = clock.now
                            try await runner.process(packet) { try await emit($0) }
                            account(start, input: 1)
                        }
                        mediaTime = nil
                        let start = clock.now
                        try await runner.finish { try await emit($0) }
                        account(start, input: 0)
                    } catch {
                        input.close()  // upstream stops instead of blocking on a queue nobody reads
                        output.close()
                        if error is QueueClosed || error is CancellationError { throw error }
                        throw StageError(stage: stage.name, mediaTime: mediaTime, underlying: error)
                    }
                    output.finish()
                }
            }
            // The sink: the last queue's consumer.
            let last = allQueues[allQueues.count - 1]
            group.addTask {
                do {
                    while let packet = try await last.pop() {
                        try await sink(packet)
                        monitor.delivered()
                    }
                } catch {
                    last.close()
                    if error is QueueClosed || error is CancellationError { throw error }
                    throw StageError(stage: "sink", mediaTime: nil, underlying: error)
                }
            }
            // The first real failure wins; the QueueClosed/CancellationError it causes elsewhere are echoes.
            var firstFailure: (any Error)?
            var echo: (any Error)?
            while let result = await group.nextResult() {
                if case let .failure(error) = result {
                    if error is StageError {
                        if firstFailure == nil { firstFailure = error }
                    } else if echo == nil {
                        echo = error
                    }
                    group.cancelAll()
                    for queue in allQueues { queue.close() }
                }
            }
            if let failure = firstFailure ?? echo { throw failure }
        }
        return monitor.snapshot()
    }
}


/// Media time of the last packet a source gave, for its errors.
private final class LastTime: Sendable {
    let value = Mutex<Double?>(nil)
}
