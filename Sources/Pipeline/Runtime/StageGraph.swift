// Wiring and running a stage graph. Each stage input is bound to the nearest earlier stage (or the source)
// that gives a port of the same name and type; every such edge is a bounded queue of its own, so one port can
// feed several stages (decode → flow and decode → classify), and a stage with several inputs joins them by
// media time. Edges out of the source take the source's queue policy (`.dropOldest` for live streams), every
// other edge blocks: dropping mid-graph would tear clips.
import Foundation
import Synchronization

/// A source and its stages, wired and type-checked.
public struct StageGraph: Sendable {
    public let source: AnySource
    public let stages: [AnyStage]
    /// Queues out of the source. Built here so their policy is visible: `.block` for files (the decoder waits),
    /// `.dropOldest` for live streams (the decoder never waits; drops are counted).
    public let sourceQueue: (capacity: Int, policy: QueuePolicy)
    /// Capacity of the queues between stages. These always block.
    public let stageQueueCapacity: Int
    /// The port whose packets reach the sink: the last stage's first output unless given.
    public let output: AnyPort

    /// Where a value comes from: vertex 0 is the source, vertex k the stage `stages[k - 1]`.
    struct Endpoint: Hashable {
        var vertex: Int
        var port: Int
    }

    /// One queue: the producer's port and who reads it (a stage input, or the sink when `consumer` is nil).
    struct Edge {
        var from: Endpoint
        var consumer: (stage: Int, input: Int)?
    }

    let edges: [Edge]

    /// Wires `stages` after `source`. Throws when a stage takes a port that no earlier stage gives, or gives with
    /// another value type, or when `output` is given by no stage.
    public init(source: AnySource, sourceQueue: (capacity: Int, policy: QueuePolicy), stages: [AnyStage],
                output: AnyPort? = nil, stageQueueCapacity: Int = 4) throws(PipelineBuildError) {
        guard sourceQueue.capacity >= 1, stageQueueCapacity >= 1 else {
            throw PipelineBuildError(message: "queue capacities must be at least 1")
        }
        var vertices: [(name: String, outputs: [AnyPort])] = [(source.name, [source.output])]
        /// The nearest earlier producer of a port with this name, searching back from `before`.
        func producer(named name: String, before: Int) -> (Endpoint, AnyPort)? {
            for vertex in stride(from: before - 1, through: 0, by: -1) {
                if let index = vertices[vertex].outputs.firstIndex(where: { $0.name == name }) {
                    return (Endpoint(vertex: vertex, port: index), vertices[vertex].outputs[index])
                }
            }
            return nil
        }
        var edges: [Edge] = []
        for (index, stage) in stages.enumerated() {
            let vertex = index + 1
            guard !stage.inputs.isEmpty else {
                throw PipelineBuildError(message: "stage `\(stage.name)` takes no input")
            }
            for (inputIndex, input) in stage.inputs.enumerated() {
                guard let (from, given) = producer(named: input.name, before: vertex) else {
                    throw PipelineBuildError(message: "stage `\(stage.name)` takes `\(input.name)`, but no stage "
                                             + "before it gives it")
                }
                guard given == input else {
                    let giver = vertices[from.vertex].name
                    throw PipelineBuildError(message: input.isChain
                        ? "stage `\(stage.name)` takes \(input.type), but `\(giver)` before it gives \(given.type)"
                        : "stage `\(stage.name)` takes `\(input.name)` as \(input.type), but `\(giver)` before it "
                          + "gives it as \(given.type)")
                }
                edges.append(Edge(from: from, consumer: (index, inputIndex)))
            }
            vertices.append((stage.name, stage.outputs))
        }
        let wanted = output ?? vertices[vertices.count - 1].outputs.first ?? source.output
        guard let (from, given) = producer(named: wanted.name, before: vertices.count), given == wanted else {
            throw PipelineBuildError(message: "no stage gives the graph's output \(wanted)")
        }
        edges.append(Edge(from: from, consumer: nil))
        self.source = source
        self.stages = stages
        self.sourceQueue = sourceQueue
        self.stageQueueCapacity = stageQueueCapacity
        self.output = wanted
        // Source edges first (their drops are the source's), then by consumer in graph order, the sink last.
        self.edges = edges.filter { $0.from.vertex == 0 } + edges.filter { $0.from.vertex != 0 }
    }

    /// The type the sink receives.
    public var outputType: any Sendable.Type { output.type }

    /// Runs until the source ends (then drains every stage), a drain is requested, a stage fails, or the task
    /// is cancelled. `sink` receives the output port's packets in order.
    public func run(
        drain: DrainSignal? = nil, monitor: RunMonitor = RunMonitor(),
        sink: @escaping @Sendable (Timestamped<any Sendable>) async throws -> Void
    ) async throws -> RunReport {
        typealias Packet = Timestamped<any Sendable>
        let stages = self.stages
        let names = [source.name] + stages.map(\.name)
        let queues: [BoundedQueue<Packet>] = edges.map { edge in
            let fromSource = edge.from.vertex == 0
            var name = "\(names[edge.from.vertex]) → "
            if let consumer = edge.consumer {
                let stage = stages[consumer.stage]
                name += stage.name
                if stage.inputs.count > 1 { name += " (\(stage.inputs[consumer.input].name))" }
            } else {
                name += "sink"
            }
            return BoundedQueue(capacity: fromSource ? sourceQueue.capacity : stageQueueCapacity,
                                policy: fromSource ? sourceQueue.policy : .block, name: name)
        }
        monitor.register(queues: queues, sourceQueues: edges.filter { $0.from.vertex == 0 }.count,
                         stages: stages.map(\.name))
        /// The queues a vertex's port feeds, per port.
        func outgoing(_ vertex: Int, ports: Int) -> [[BoundedQueue<Packet>]] {
            (0..<ports).map { port in
                edges.indices.filter { edges[$0].from == Endpoint(vertex: vertex, port: port) }.map { queues[$0] }
            }
        }
        func incoming(_ stage: Int) -> [BoundedQueue<Packet>] {
            stages[stage].inputs.indices.map { input in
                queues[edges.firstIndex { $0.consumer?.stage == stage && $0.consumer?.input == input }!]
            }
        }
        let source = self.source
        let sourceOutputs = outgoing(0, ports: 1)[0]
        let sinkQueue = queues[edges.firstIndex { $0.consumer == nil }!]

        try await withThrowingTaskGroup(of: Void.self) { group in
            // The source task: on a drain request, the source is cancelled and its queues finished normally.
            group.addTask {
                let lastTime = LastTime()
                do {
                    try await withThrowingTaskGroup(of: Bool.self) { inner in
                        inner.addTask {
                            try await source.run { packet in
                                for output in sourceOutputs { try await output.push(packet) }
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
                    for output in sourceOutputs { output.close() }
                    if error is QueueClosed || error is CancellationError { throw error }
                    throw StageError(stage: source.name, mediaTime: lastTime.value.withLock { $0 }, underlying: error)
                }
                for output in sourceOutputs { output.finish() }
            }
            for (index, stage) in stages.enumerated() {
                let inputs = incoming(index)
                let outputs = outgoing(index + 1, ports: stage.outputs.count)
                group.addTask {
                    try await Self.runStage(stage, index: index, inputs: inputs, outputs: outputs, monitor: monitor)
                }
            }
            // The sink: the output port's consumer.
            group.addTask {
                do {
                    while let packet = try await sinkQueue.pop() {
                        try await sink(packet)
                        monitor.delivered()
                    }
                } catch {
                    sinkQueue.close()
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
                    for queue in queues { queue.close() }
                }
            }
            if let failure = firstFailure ?? echo { throw failure }
        }
        return monitor.snapshot()
    }

    /// One stage's task: takes its inputs (joined by media time when it has several), runs the stage, and
    /// pushes what it emits to every consumer of the port.
    private static func runStage(_ stage: AnyStage, index: Int, inputs: [BoundedQueue<Timestamped<any Sendable>>],
                                 outputs: [[BoundedQueue<Timestamped<any Sendable>>]], monitor: RunMonitor)
        async throws
    {
        let runner = stage.makeRunner()
        var mediaTime: Double?
        let clock = ContinuousClock()
        // Time in `emit` is time waiting for room downstream: not this stage's work.
        var waiting = Duration.zero
        var emitted = 0
        var unmatched = 0
        let emitter = PortEmitter(ports: stage.outputs) { port, packet in
            let start = clock.now
            for queue in outputs[port] { try await queue.push(packet) }
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
                stats.unmatched += unmatched
            }
            if input > 0 { monitor.onStageLatency?(stage.name, max(0, seconds)) }
            waiting = .zero
            emitted = 0
            unmatched = 0
        }
        do {
            var join = TimeJoin(inputs: inputs)
            while let values = try await join.next() {
                mediaTime = values.time
                unmatched += join.takeDiscarded()
                let start = clock.now
                try await runner.process(PortInputs(time: values.time, duration: values.duration,
                                                    ports: stage.inputs, values: values.values), emitter)
                account(start, input: 1)
            }
            unmatched += join.takeDiscarded()
            mediaTime = nil
            let start = clock.now
            try await runner.finish(emitter)
            account(start, input: 0)
        } catch {
            for queue in inputs { queue.close() }  // upstream stops instead of blocking on a queue nobody reads
            for queue in outputs.joined() { queue.close() }
            if error is QueueClosed || error is CancellationError { throw error }
            throw StageError(stage: stage.name, mediaTime: mediaTime, underlying: error)
        }
        for queue in outputs.joined() { queue.finish() }
    }
}

/// Takes one packet from each input queue per media time. Inputs of one media time are matched exactly (they
/// carry the time their common source stamped). A packet older than another input's head has no partner (its
/// twin was dropped on the way) and is discarded and counted. When any input ends, the rest are read to their
/// end (and counted), so no producer stays blocked on a queue nobody reads.
struct TimeJoin {
    let inputs: [BoundedQueue<Timestamped<any Sendable>>]
    private var heads: [Timestamped<any Sendable>?]
    private var discarded = 0

    init(inputs: [BoundedQueue<Timestamped<any Sendable>>]) {
        self.inputs = inputs
        heads = Array(repeating: nil, count: inputs.count)
    }

    mutating func takeDiscarded() -> Int {
        defer { discarded = 0 }
        return discarded
    }

    mutating func next() async throws -> (time: Double, duration: Double?, values: [any Sendable])? {
        if inputs.count == 1 {
            guard let packet = try await inputs[0].pop() else { return nil }
            return (packet.time, packet.duration, [packet.value])
        }
        while true {
            for index in inputs.indices where heads[index] == nil {
                guard let packet = try await inputs[index].pop() else {
                    try await drainRest()
                    return nil
                }
                heads[index] = packet
            }
            let latest = heads.map { $0!.time }.max()!
            var aligned = true
            for index in heads.indices where heads[index]!.time < latest {
                heads[index] = nil
                discarded += 1
                aligned = false
            }
            guard aligned else { continue }
            let packets = heads.map { $0! }
            heads = Array(repeating: nil, count: inputs.count)
            return (latest, packets.compactMap(\.duration).first, packets.map(\.value))
        }
    }

    private mutating func drainRest() async throws {
        discarded += heads.compactMap { $0 }.count
        heads = Array(repeating: nil, count: inputs.count)
        for input in inputs {
            while try await input.pop() != nil { discarded += 1 }
        }
    }
}

/// Media time of the last packet a source gave, for its errors.
private final class LastTime: Sendable {
    let value = Mutex<Double?>(nil)
}
