// The scheduler with small timestamped test stages (MediaPipe style): ordering, draining at end of media and
// on request, error propagation with stage name and media time, cancellation, and the source queue policies.
import Foundation
@testable import Pipeline
import Synchronization
import XCTest

// MARK: test sources and stages

/// Emits the given values at 10 packets per second of media time.
struct ListSource: PacketSource {
    let name = "list"
    let values: [Int]
    func run(emit: Emit<Int>) async throws {
        for (i, value) in values.enumerated() { try await emit(Timestamped(value, at: Double(i) / 10, duration: 0.1)) }
    }
}

/// Emits 0, 1, 2, … until cancelled (a live stream that never ends by itself).
struct EndlessSource: PacketSource {
    let name = "camera"
    let counter: Counter
    func run(emit: Emit<Int>) async throws {
        var i = 0
        while true {
            try Task.checkCancellation()
            try await emit(Timestamped(i, at: Double(i) / 10))
            counter.add(1)
            i += 1
            if i % 16 == 0 { await Task.yield() }
        }
    }
}

struct FailingSource: PacketSource {
    let name = "broken-file"
    struct Truncated: Error, CustomStringConvertible { var description: String { "file is truncated" } }
    func run(emit: Emit<Int>) async throws {
        try await emit(Timestamped(1, at: 0))
        throw Truncated()
    }
}

final class Counter: Sendable {
    private let value = Mutex(0)
    func add(_ n: Int) { value.withLock { $0 += n } }
    var count: Int { value.withLock { $0 } }
}

struct Scale: Stage {
    let name = "scale"
    let factor: Int
    func process(_ input: Timestamped<Int>, emit: Emit<Int>) async throws {
        try await emit(input.map { $0 * factor })
    }
}

struct Describe: Stage {
    let name = "describe"
    func process(_ input: Timestamped<Int>, emit: Emit<String>) async throws {
        try await emit(input.map { "v\($0)" })
    }
}

/// Passes values through and, at end of stream, emits how many it saw (to observe that `finish` ran).
struct CountAtEnd: Stage {
    let name = "count"
    var seen = 0
    mutating func process(_ input: Timestamped<Int>, emit: Emit<Int>) async throws {
        seen += 1
        try await emit(input)
    }
    mutating func finish(emit: Emit<Int>) async throws {
        try await emit(Timestamped(-seen, at: .infinity))
    }
}

struct FailAt: Stage {
    let name = "classify"
    let value: Int
    struct ShapeMismatch: Error, CustomStringConvertible { var description: String { "input shape [1, 3] != [1, 4]" } }
    func process(_ input: Timestamped<Int>, emit: Emit<Int>) async throws {
        if input.value == value { throw ShapeMismatch() }
        try await emit(input)
    }
}

/// Waits on a gate before its first packet (a pipeline stalled behind a slow model).
struct Stall: Stage {
    let name = "slow"
    let gate: Gate
    func process(_ input: Timestamped<Int>, emit: Emit<Int>) async throws {
        await gate.wait()
        try await emit(input)
    }
}

final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    func open() {
        let waiters = state.withLock { s in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
    func wait() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { s in
                if s.open { return true }
                s.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}

/// Collects what reaches the sink.
final class Collected<T: Sendable>: Sendable {
    private let items = Mutex<[Timestamped<T>]>([])
    func append(_ packet: Timestamped<any Sendable>) throws {
        guard let value = packet.value as? T else { throw PipelineBuildError(message: "sink got \(packet.value)") }
        items.withLock { $0.append(Timestamped(value, at: packet.time, duration: packet.duration)) }
    }
    var values: [T] { items.withLock { $0.map(\.value) } }
    var times: [Double] { items.withLock { $0.map(\.time) } }
    var count: Int { items.withLock { $0.count } }
}

// MARK: tests

final class SchedulerTests: XCTestCase {
    func testChainRunsInOrderAndDrainsEveryStageAtEndOfMedia() async throws {
        let graph = try StageGraph(source: AnySource(ListSource(values: Array(1...25))),
                                   sourceQueue: (capacity: 2, policy: .block),
                                   stages: [AnyStage(Scale(factor: 3)), AnyStage(CountAtEnd()), AnyStage(Describe())],
                                   stageQueueCapacity: 1)
        XCTAssertTrue(graph.outputType == String.self)
        let sink = Collected<String>()
        let report = try await graph.run { try sink.append($0) }
        XCTAssertEqual(sink.values, (1...25).map { "v\($0 * 3)" } + ["v-25"])
        XCTAssertEqual(Array(sink.times.prefix(3)), [0, 0.1, 0.2])
        XCTAssertEqual(report.delivered, 26)
        XCTAssertFalse(report.drained)
        XCTAssertEqual(report.queues.map(\.name), ["list → scale", "scale → count", "count → describe",
                                                   "describe → sink"])
        XCTAssertEqual(report.queues.map(\.policy), [.block, .block, .block, .block])
        for queue in report.queues {
            XCTAssertEqual(queue.stats.dropped, 0)
            XCTAssertLessThanOrEqual(queue.stats.highWater, queue.name.hasPrefix("list") ? 2 : 1)
        }
    }

    func testStageCountersAndALiveMonitor() async throws {
        let gate = Gate()
        let graph = try StageGraph(source: AnySource(ListSource(values: Array(0..<30))),
                                   sourceQueue: (capacity: 3, policy: .block),
                                   stages: [AnyStage(Scale(factor: 2)), AnyStage(Stall(gate: gate)),
                                            AnyStage(CountAtEnd())],
                                   stageQueueCapacity: 2)
        let monitor = RunMonitor()
        let sink = Collected<Int>()
        let run = Task { try await graph.run(monitor: monitor) { try sink.append($0) } }
        // While `slow` is stalled, everything upstream fills up to the queue capacities and waits there.
        let filled = await eventually {
            let live = monitor.snapshot()
            return live.queues.count == 4 && live.queues[0].stats.producerWaits > 0
                && live.queues[1].stats.producerWaits > 0
        }
        XCTAssertTrue(filled)
        let live = monitor.snapshot()
        XCTAssertEqual(live.queues.map(\.stats.highWater), [3, 2, 0, 0])
        XCTAssertEqual(live.stages.map(\.name), ["scale", "slow", "count"])
        XCTAssertEqual(live.stages[2].stats.packetsIn, 0)
        XCTAssertEqual(live.delivered, 0)
        gate.open()
        let report = try await run.value
        XCTAssertEqual(report.stages.map(\.stats.packetsIn), [30, 30, 30])
        XCTAssertEqual(report.stages.map(\.stats.packetsOut), [30, 30, 31])  // count emits its total at the end
        XCTAssertEqual(report.delivered, 31)
        XCTAssertEqual(monitor.snapshot().delivered, 31)
        for stage in report.stages { XCTAssertGreaterThanOrEqual(stage.stats.busySeconds, 0) }
    }

    /// The latency hook sees one observation per packet a stage processed (not for `finish`), by stage name.
    func testMonitorReportsEveryPacketsLatencyByStage() async throws {
        let graph = try StageGraph(source: AnySource(ListSource(values: Array(0..<12))),
                                   sourceQueue: (capacity: 2, policy: .block),
                                   stages: [AnyStage(Scale(factor: 2)), AnyStage(CountAtEnd())])
        let seen = Collected<String>()
        let monitor = RunMonitor { stage, seconds in
            if seconds >= 0 { try? seen.append(Timestamped<any Sendable>(stage, at: 0)) }
        }
        _ = try await graph.run(monitor: monitor) { _ in }
        let names = seen.values
        XCTAssertEqual(names.filter { $0 == "scale" }.count, 12)
        XCTAssertEqual(names.filter { $0 == "count" }.count, 12)
        XCTAssertEqual(names.count, 24)
    }

    func testMismatchedPortsAreRejectedBeforeRunning() {
        XCTAssertThrowsError(try StageGraph(source: AnySource(ListSource(values: [1])),
                                            sourceQueue: (capacity: 1, policy: .block),
                                            stages: [AnyStage(Describe()), AnyStage(Scale(factor: 2))])) { error in
            XCTAssertEqual((error as? PipelineBuildError)?.message,
                           "stage `scale` takes Int, but `describe` before it gives String")
        }
    }

    func testStageErrorCarriesStageNameAndMediaTimeAndStopsTheRest() async throws {
        let counter = Counter()
        let graph = try StageGraph(source: AnySource(EndlessSource(counter: counter)),
                                   sourceQueue: (capacity: 4, policy: .block),
                                   stages: [AnyStage(Scale(factor: 1)), AnyStage(FailAt(value: 37))])
        let sink = Collected<Int>()
        do {
            _ = try await graph.run { try sink.append($0) }
            XCTFail("the run must fail")
        } catch let error as StageError {
            XCTAssertEqual(error.stage, "classify")
            XCTAssertEqual(try XCTUnwrap(error.mediaTime), 3.7, accuracy: 1e-9)
            XCTAssertEqual(error.description, "stage `classify` failed at t=3.700s: input shape [1, 3] != [1, 4]")
        }
        // What reached the sink is in order and stops before the failing packet (packets still queued behind the
        // failure are discarded when the run aborts).
        let values = sink.values
        XCTAssertEqual(values, Array(0..<values.count))
        XCTAssertLessThanOrEqual(values.count, 37)
    }

    func testSourceAndSinkErrorsAreNamed() async throws {
        let graph = try StageGraph(source: AnySource(FailingSource()), sourceQueue: (capacity: 1, policy: .block),
                                   stages: [AnyStage(Scale(factor: 2))])
        do {
            _ = try await graph.run { _ in }
            XCTFail("the run must fail")
        } catch let error as StageError {
            XCTAssertEqual(error.description, "stage `broken-file` failed at t=0.000s: file is truncated")
        }
        struct DiskFull: Error {}
        let writing = try StageGraph(source: AnySource(ListSource(values: [1, 2, 3])),
                                     sourceQueue: (capacity: 1, policy: .block), stages: [])
        do {
            _ = try await writing.run { _ in throw DiskFull() }
            XCTFail("the run must fail")
        } catch let error as StageError {
            XCTAssertEqual(error.stage, "sink")
            XCTAssertTrue(error.underlying is DiskFull)
        }
    }

    func testDrainStopsTheSourceAndFinishesEverythingInFlight() async throws {
        let produced = Counter()
        let graph = try StageGraph(source: AnySource(EndlessSource(counter: produced)),
                                   sourceQueue: (capacity: 8, policy: .block),
                                   stages: [AnyStage(Scale(factor: 1)), AnyStage(CountAtEnd())], stageQueueCapacity: 2)
        let drain = DrainSignal()
        let sink = Collected<Int>()
        let report = try await graph.run(drain: drain) { packet in
            try sink.append(packet)
            if sink.count == 50 { drain.request() }
        }
        XCTAssertTrue(report.drained)
        let values = sink.values
        // Every packet the source managed to queue went through, then `finish` reported the count.
        let passed = values.dropLast()
        XCTAssertEqual(Array(passed), Array(0..<passed.count))
        XCTAssertEqual(values.last, -passed.count)
        XCTAssertEqual(report.queues[0].stats.pushed, passed.count)
        XCTAssertGreaterThanOrEqual(passed.count, 50)
        XCTAssertEqual(report.sourceDrops, 0)
    }

    func testAnUnusedDrainSignalDoesNotHoldUpTheEndOfMedia() async throws {
        let graph = try StageGraph(source: AnySource(ListSource(values: [1, 2, 3])),
                                   sourceQueue: (capacity: 1, policy: .block), stages: [AnyStage(CountAtEnd())])
        let sink = Collected<Int>()
        let drain = DrainSignal()
        let report = try await graph.run(drain: drain) { try sink.append($0) }
        XCTAssertEqual(sink.values, [1, 2, 3, -3])
        XCTAssertFalse(report.drained)
        XCTAssertFalse(drain.isRequested)
    }

    func testCancellationStopsAnEndlessRun() async throws {
        let produced = Counter()
        let graph = try StageGraph(source: AnySource(EndlessSource(counter: produced)),
                                   sourceQueue: (capacity: 4, policy: .block), stages: [AnyStage(Scale(factor: 2))])
        let sink = Collected<Int>()
        let run = Task { try await graph.run { try sink.append($0) } }
        let started = await eventually { sink.count >= 20 }
        XCTAssertTrue(started)
        run.cancel()
        do {
            _ = try await run.value
            XCTFail("a cancelled run must throw")
        } catch {
            XCTAssertTrue(error is CancellationError || error is QueueClosed, "\(error)")
        }
        let after = produced.count
        try? await Task.sleep(nanoseconds: 20_000_000)
        XCTAssertEqual(produced.count, after, "the source kept running after cancellation")
    }

    func testLiveSourceDropsOldestWhileThePipelineStalls() async throws {
        let gate = Gate()
        struct Burst: PacketSource {
            let name = "rtsp"
            let gate: Gate
            func run(emit: Emit<Int>) async throws {
                for i in 0..<200 { try await emit(Timestamped(i, at: Double(i) / 25)) }
                gate.open()  // the stalled stage resumes only after the whole burst arrived
            }
        }
        let graph = try StageGraph(source: AnySource(Burst(gate: gate)),
                                   sourceQueue: (capacity: 4, policy: .dropOldest),
                                   stages: [AnyStage(Stall(gate: gate))], stageQueueCapacity: 1)
        let sink = Collected<Int>()
        let report = try await graph.run { try sink.append($0) }
        let values = sink.values
        // The stage held at most one packet while stalled; the queue kept the newest 4; the rest were dropped.
        XCTAssertEqual(report.sourceDrops + values.count, 200)
        XCTAssertLessThanOrEqual(values.count, 5)
        XCTAssertGreaterThanOrEqual(values.count, 4)
        XCTAssertEqual(Array(values.suffix(4)), [196, 197, 198, 199])
        XCTAssertEqual(report.queues[0].policy, .dropOldest)
        XCTAssertEqual(report.queues[0].stats.producerWaits, 0)
    }

    func testFileSourceBlocksInsteadOfDropping() async throws {
        let graph = try StageGraph(source: AnySource(ListSource(values: Array(0..<500))),
                                   sourceQueue: (capacity: 4, policy: .block),
                                   stages: [AnyStage(Scale(factor: 1))], stageQueueCapacity: 1)
        let sink = Collected<Int>()
        let report = try await graph.run { packet in
            try sink.append(packet)
            if sink.count % 50 == 0 { try await Task.sleep(nanoseconds: 1_000_000) }  // a slow consumer
        }
        XCTAssertEqual(sink.values, Array(0..<500))
        XCTAssertEqual(report.sourceDrops, 0)
        XCTAssertLessThanOrEqual(report.queues[0].stats.highWater, 4)
    }
}
