// Drives one graph stage by hand, without a graph: each `feed` hands it one media time's inputs (one value per
// input port, in the stage's port order) and returns what it emitted, by port name.
import Pipeline
import Synchronization

public struct OneStageHarness<S: GraphStage> {
    public var stage: S
    private let emitted = Emitted()

    /// What a stage emitted: the port's name and the packet.
    public typealias Output = (port: String, packet: Timestamped<any Sendable>)

    private final class Emitted: Sendable {
        let items = Mutex<[Output]>([])
    }

    public init(_ stage: S) { self.stage = stage }

    public mutating func feed(time: Double, duration: Double?, _ values: [any Sendable]) async throws -> [Output] {
        let before = emitted.items.withLock { $0.count }
        try await stage.process(PortInputs(time: time, duration: duration, ports: stage.inputs, values: values),
                                emit: emitter())
        return emitted.items.withLock { Array($0[before...]) }
    }

    /// The end of the stream: what the stage flushes.
    public mutating func finish() async throws -> [Output] {
        let before = emitted.items.withLock { $0.count }
        try await stage.finish(emit: emitter())
        return emitted.items.withLock { Array($0[before...]) }
    }

    private func emitter() -> PortEmitter {
        let ports = stage.outputs, emitted = self.emitted
        return PortEmitter(ports: ports) { index, packet in emitted.items.withLock { $0.append((ports[index].name, packet)) } }
    }
}
