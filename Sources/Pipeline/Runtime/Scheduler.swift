// Runs a source and a graph of stages as concurrent tasks joined by bounded queues. A port may feed several
// stages (fan-out: each consumer has its own queue), and a stage may take several ports (a join: packets of the
// same media time are handed over together). End of media drains every stage in order (each gets `finish`); a
// failing stage stops the others and its error rises with the stage name and the media time of the packet it
// was handling; cancellation stops everything promptly.
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

/// The graph cannot be built: a stage takes a port no stage before it gives, or gives it with another type. The
/// config's own port check runs first, so from a config this is a programming error in the Stages layer; either
/// way it is reported before anything runs.
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
    /// Packets a join discarded because another input had no packet of the same media time (a live source's
    /// queue dropped it on one branch only).
    public var unmatched = 0
}

/// What a run did (or is doing), per queue and stage.
public struct RunReport: Sendable {
    /// One per edge, by consumer in graph order (the sink last): for a chain, the queue after the source first.
    public var queues: [(name: String, policy: QueuePolicy, stats: QueueStats)]
    /// One per stage, in order.
    public var stages: [(name: String, stats: StageStats)]
    /// Packets the sink received.
    public var delivered: Int
    /// True when the run ended because a drain was requested, not because the media ended.
    public var drained: Bool

    /// How many of `queues`, from the front, are fed by the source.
    public var sourceQueueCount = 1

    /// Frames (or whatever the source gives) dropped by `.dropOldest` source queues (the most any one branch
    /// dropped: a frame dropped on two branches is one frame lost).
    public var sourceDrops: Int { queues.prefix(sourceQueueCount).map(\.stats.dropped).max() ?? 0 }
}

/// A live view of a running graph, for metrics and health checks: `snapshot()` may be called from any task
/// while the run goes on. Pass one to `StageGraph.run(monitor:)`; a monitor serves one run.
public final class RunMonitor: Sendable {
    private struct State {
        var queues: [(name: String, policy: QueuePolicy, stats: @Sendable () -> QueueStats)] = []
        var sourceQueueCount = 1
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
                      delivered: s.delivered, drained: s.drained, sourceQueueCount: s.sourceQueueCount)
        }
    }

    func register<Element>(queues: [BoundedQueue<Element>], sourceQueues: Int, stages: [String]) {
        state.withLock { s in
            s.queues = queues.map { queue in (queue.name, queue.policy, { queue.stats }) }
            s.sourceQueueCount = sourceQueues
            s.stages = stages.map { ($0, StageStats()) }
        }
    }

    func updateStage(_ index: Int, _ update: (inout StageStats) -> Void) {
        state.withLock { update(&$0.stages[index].stats) }
    }

    func delivered() { state.withLock { $0.delivered += 1 } }
    func markDrained() { state.withLock { $0.drained = true } }
}

