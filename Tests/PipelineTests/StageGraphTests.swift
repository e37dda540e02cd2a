// The stage graph beyond a chain: one port feeding two stages (fan-out), a stage joining two ports by media
// time, the source's drop/block policies on every branch, and wiring errors reported when the graph is built.
import Foundation
@testable import Pipeline
import XCTest

/// Typed ports of these tests: the source's numbers on `frames`, a derived value on `flow`, the join's result.
private let numbers = Port<Int>(.frames)
private let doubled = Port<Int>(.flow)
private let pairs = Port<String>(.segments)

/// Doubles each number, optionally waiting at a gate first (a slow branch) or skipping odd numbers (a branch
/// that gives nothing for some media times).
private struct Double2: Stage {
    let name = "double"
    var gate: Gate?
    var skipOdd = false
    func process(_ input: Timestamped<Int>, emit: Emit<Int>) async throws {
        if let gate { await gate.wait() }
        if skipOdd, input.value % 2 == 1 { return }
        try await emit(input.map { $0 * 2 })
    }
}

/// Takes a number and its double of the same media time, checks they belong together, emits "n:2n".
private struct Pair: GraphStage {
    let name = "pair"
    var inputs: [AnyPort] = [numbers.erased, doubled.erased]
    let outputs = [pairs.erased]
    struct Mismatch: Error {}
    func process(_ input: PortInputs, emit: PortEmitter) async throws {
        let n = try input.value(numbers), d = try input.value(doubled)
        guard d == 2 * n else { throw Mismatch() }
        try await emit.emit(pairs, input.timestamped("\(n):\(d)"))
    }
}

/// Emits 0..<count at 25 per second of media time, then opens `gate` (the slow branch resumes after a burst).
private struct Numbers: PacketSource {
    let name = "decode"
    let count: Int
    var gate: Gate?
    func run(emit: Emit<Int>) async throws {
        for i in 0..<count { try await emit(Timestamped(i, at: Double(i) / 25, duration: 0.04)) }
        gate?.open()
    }
}

final class StageGraphTests: XCTestCase {
    func testFanOutAndJoinByMediaTimeWithBlockingQueues() async throws {
        let graph = try StageGraph(source: AnySource(Numbers(count: 300), port: numbers),
                                   sourceQueue: (capacity: 2, policy: .block),
                                   stages: [AnyStage(Double2(), input: numbers, output: doubled), AnyStage(Pair())],
                                   stageQueueCapacity: 1)
        let sink = Collected<String>()
        let report = try await graph.run { try sink.append($0) }
        // Every number reached both branches and was joined with its own double: nothing dropped, nothing unmatched.
        XCTAssertEqual(sink.values, (0..<300).map { "\($0):\(2 * $0)" })
        XCTAssertEqual(sink.times, (0..<300).map { Double($0) / 25 })
        XCTAssertEqual(report.queues.map(\.name), ["decode → double", "decode → pair (frames)", "double → pair (flow)",
                                                   "pair → sink"])
        XCTAssertEqual(report.queues.map(\.policy), [.block, .block, .block, .block])
        XCTAssertEqual(report.queues.map(\.stats.pushed), [300, 300, 300, 300])
        XCTAssertEqual(report.sourceDrops, 0)
        XCTAssertEqual(report.stages.map(\.stats.packetsIn), [300, 300])
        XCTAssertEqual(report.stages.map(\.stats.unmatched), [0, 0])
        // Small queues: the decoder waited for the slower consumers rather than run ahead.
        XCTAssertGreaterThan(report.queues[0].stats.producerWaits + report.queues[1].stats.producerWaits, 0)
    }

    func testLiveSourceDropsOnEachBranchAndTheJoinPairsOnlyWhatMatches() async throws {
        let gate = Gate()
        let graph = try StageGraph(source: AnySource(Numbers(count: 200, gate: gate), port: numbers),
                                   sourceQueue: (capacity: 4, policy: .dropOldest),
                                   stages: [AnyStage(Double2(gate: gate), input: numbers, output: doubled),
                                            AnyStage(Pair())], stageQueueCapacity: 1)
        let sink = Collected<String>()
        let report = try await graph.run { try sink.append($0) }
        // The double branch stalled through the burst: its source queue kept the newest 4 and dropped the rest,
        // while the direct branch kept up. The join never paired a number with another number's double (Pair
        // throws on a mismatch), discarded the frames whose twin was dropped, and paired the newest ones.
        XCTAssertEqual(report.queues[0].policy, .dropOldest)
        XCTAssertEqual(report.queues[1].policy, .dropOldest)
        XCTAssertEqual(report.queues[0].stats.producerWaits + report.queues[1].stats.producerWaits, 0)
        XCTAssertGreaterThanOrEqual(report.queues[0].stats.dropped, 190)
        XCTAssertEqual(report.sourceDrops, report.queues.prefix(2).map(\.stats.dropped).max())
        let values = sink.values
        XCTAssertEqual(Array(values.suffix(4)), (196..<200).map { "\($0):\(2 * $0)" })
        XCTAssertLessThanOrEqual(values.count, 6)
        // What the join received and did not pair is counted: every packet that reached it is either paired or
        // counted unmatched.
        let join = report.stages[1].stats
        let reached = report.queues[1].stats.popped + report.queues[2].stats.popped
        XCTAssertEqual(reached, 2 * join.packetsIn + join.unmatched)
    }

    func testAJoinDiscardsAndCountsPacketsWithoutATwin() async throws {
        let graph = try StageGraph(source: AnySource(Numbers(count: 300), port: numbers),
                                   sourceQueue: (capacity: 2, policy: .block),
                                   stages: [AnyStage(Double2(skipOdd: true), input: numbers, output: doubled),
                                            AnyStage(Pair())], stageQueueCapacity: 1)
        let sink = Collected<String>()
        let report = try await graph.run { try sink.append($0) }
        XCTAssertEqual(sink.values, stride(from: 0, to: 300, by: 2).map { "\($0):\(2 * $0)" })
        XCTAssertEqual(report.stages[1].stats.packetsIn, 150)
        XCTAssertEqual(report.stages[1].stats.unmatched, 150)
    }

    func testWiringErrorsAreReportedWhenTheGraphIsBuilt() {
        let source = AnySource(Numbers(count: 1), port: numbers)
        // A join whose second port nothing gives.
        XCTAssertThrowsError(try StageGraph(source: source, sourceQueue: (capacity: 1, policy: .block),
                                            stages: [AnyStage(Pair())])) { error in
            XCTAssertEqual((error as? PipelineBuildError)?.message,
                           "stage `pair` takes `flow`, but no stage before it gives it")
        }
        // The port is given, with another type.
        struct Text: Stage {
            let name = "text"
            func process(_ input: Timestamped<Int>, emit: Emit<String>) async throws { try await emit(input.map { "\($0)" }) }
        }
        XCTAssertThrowsError(try StageGraph(source: source, sourceQueue: (capacity: 1, policy: .block),
                                            stages: [AnyStage(Text(), input: numbers, output: Port<String>(.flow)),
                                                     AnyStage(Pair())])) { error in
            XCTAssertEqual((error as? PipelineBuildError)?.message,
                           "stage `pair` takes `flow` as Int, but `text` before it gives it as String")
        }
        // An output nobody gives.
        XCTAssertThrowsError(try StageGraph(source: source, sourceQueue: (capacity: 1, policy: .block),
                                            stages: [AnyStage(Double2(), input: numbers, output: doubled)],
                                            output: pairs.erased)) { error in
            XCTAssertTrue("\(error)".contains("no stage gives the graph's output `segments`"), "\(error)")
        }
    }

    func testAJoinThatFailsStopsBothBranchesWithItsNameAndMediaTime() async throws {
        struct Wrong: Stage {
            let name = "wrong"
            func process(_ input: Timestamped<Int>, emit: Emit<Int>) async throws {
                try await emit(input.map { $0 == 7 ? 0 : $0 * 2 })
            }
        }
        let graph = try StageGraph(source: AnySource(Numbers(count: 1000), port: numbers),
                                   sourceQueue: (capacity: 2, policy: .block),
                                   stages: [AnyStage(Wrong(), input: numbers, output: doubled), AnyStage(Pair())])
        do {
            _ = try await graph.run { _ in }
            XCTFail("the join must fail on frame 7")
        } catch let error as StageError {
            XCTAssertEqual(error.stage, "pair")
            XCTAssertEqual(error.mediaTime ?? -1, 7.0 / 25, accuracy: 1e-12)
        }
    }
}
