// The runtime face of a stage: typed packets at media times on typed ports, like MediaPipe calculators.
// A port is a stream kind of the config (`frames`, `flow`, `clipScores`, …) together with the Swift type of its
// values, so the graph is wired and type-checked by the same names the config's port check uses. The graph
// machinery here knows nothing of frames or tensors; the Stages module supplies the concrete types.
import Foundation

/// A value at a media time, in seconds from the start of the media. `duration`, when known, is how long the
/// value covers (a frame's display time), so clips and segments can end where their last frame ends.
public struct Timestamped<Value: Sendable>: Sendable {
    public var time: Double
    public var duration: Double?
    public var value: Value

    public init(_ value: Value, at time: Double, duration: Double? = nil) {
        self.value = value
        self.time = time
        self.duration = duration
    }

    public func map<T: Sendable>(_ transform: (Value) throws -> T) rethrows -> Timestamped<T> {
        Timestamped<T>(try transform(value), at: time, duration: duration)
    }
}

extension Timestamped: Equatable where Value: Equatable {}

/// Hands one output packet downstream; suspends while the next queue is full (backpressure).
public typealias Emit<Output: Sendable> = (Timestamped<Output>) async throws -> Void

/// One processing step. A stage runs in its own task and sees its inputs one at a time in media-time order,
/// so it may keep state (clip buffers, open segments) without locks.
public protocol Stage: Sendable {
    associatedtype Input: Sendable
    associatedtype Output: Sendable

    /// Name in errors and metrics: the config's stage kind, e.g. "classify".
    var name: String { get }

    /// Handles one input; emits zero or more outputs.
    mutating func process(_ input: Timestamped<Input>, emit: Emit<Output>) async throws

    /// Called once after the last input: emit what is still buffered (a padded last clip, an open segment).
    mutating func finish(emit: Emit<Output>) async throws
}

extension Stage {
    public mutating func finish(emit: Emit<Output>) async throws {}
}

/// Where packets come from: a decoder on a file or stream. Returns when the media ends; stops when cancelled.
public protocol PacketSource: Sendable {
    associatedtype Output: Sendable
    var name: String { get }
    func run(emit: Emit<Output>) async throws
}

/// A typed port: the name of a stream (the config's `StreamKind`, or the anonymous link of a plain chain) and
/// the Swift type of the values on it. Two ports connect when both name and type agree.
public struct Port<Value: Sendable>: Sendable {
    public let name: String

    public init(_ stream: StreamKind) { name = stream.rawValue }
    init(anonymous: Void) { name = "" }

    public var erased: AnyPort { AnyPort(name: name, type: Value.self) }
}

/// A port with its value type erased, compared by name and type identity.
public struct AnyPort: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let type: any Sendable.Type

    public init(name: String, type: any Sendable.Type) {
        self.name = name
        self.type = type
    }

    /// The link between consecutive stages of a plain chain (`StageGraph(stages:)`): matched by type alone.
    static func chain(_ type: any Sendable.Type) -> AnyPort { AnyPort(name: "", type: type) }

    public var isChain: Bool { name.isEmpty }

    public static func == (a: AnyPort, b: AnyPort) -> Bool {
        a.name == b.name && ObjectIdentifier(a.type) == ObjectIdentifier(b.type)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(ObjectIdentifier(type))
    }

    public var description: String { isChain ? "\(type)" : "`\(name)` (\(type))" }
}

/// What a multi-port stage gets for one media time: one value per input port, joined by timestamp.
public struct PortInputs: Sendable {
    public let time: Double
    public let duration: Double?
    let ports: [AnyPort]
    let values: [any Sendable]

    public init(time: Double, duration: Double?, ports: [AnyPort], values: [any Sendable]) {
        precondition(ports.count == values.count, "one value per port")
        self.time = time
        self.duration = duration
        self.ports = ports
        self.values = values
    }

    /// The value on `port`. The graph checked the types when it was built, so a failure here is a stage that
    /// asks for a port it did not declare.
    public func value<Value>(_ port: Port<Value>) throws(PipelineBuildError) -> Value {
        guard let index = ports.firstIndex(of: port.erased), let value = values[index] as? Value else {
            throw PipelineBuildError(message: "a stage read port `\(port.name)`, which it does not declare")
        }
        return value
    }

    /// The value on `port` when the stage declares it, else nil (optional inputs such as `flow`).
    public func optional<Value>(_ port: Port<Value>) -> Value? {
        guard let index = ports.firstIndex(of: port.erased) else { return nil }
        return values[index] as? Value
    }

    public func timestamped<Value>(_ value: Value) -> Timestamped<Value> {
        Timestamped(value, at: time, duration: duration)
    }
}

/// Hands a multi-port stage's outputs downstream, to every consumer of the port (fan-out).
public struct PortEmitter {
    let ports: [AnyPort]
    let send: (Int, Timestamped<any Sendable>) async throws -> Void

    /// `send` gets the index of the output port (in `ports`) and the packet. The graph makes these; a test
    /// harness driving one stage can too.
    public init(ports: [AnyPort], send: @escaping (Int, Timestamped<any Sendable>) async throws -> Void) {
        self.ports = ports
        self.send = send
    }

    public func emit<Value: Sendable>(_ port: Port<Value>, _ packet: Timestamped<Value>) async throws {
        guard let index = ports.firstIndex(of: port.erased) else {
            throw PipelineBuildError(message: "a stage emitted on port `\(port.name)`, which it does not declare")
        }
        try await send(index, packet.map { $0 as any Sendable })
    }
}

/// A stage with several typed input or output ports (a join: e.g. frames and flow of the same media time).
/// Inputs arrive joined by timestamp: `process` runs once per media time present on every input port.
public protocol GraphStage: Sendable {
    var name: String { get }
    var inputs: [AnyPort] { get }
    var outputs: [AnyPort] { get }
    mutating func process(_ input: PortInputs, emit: PortEmitter) async throws
    mutating func finish(emit: PortEmitter) async throws
}

extension GraphStage {
    public mutating func finish(emit: PortEmitter) async throws {}
}

/// A node of a stage graph with its types erased, so a graph built from a config can be held in one array.
/// Port types are kept as metatypes and checked when the graph is wired, before anything runs.
public struct AnyStage: Sendable {
    public let name: String
    public let inputs: [AnyPort]
    public let outputs: [AnyPort]
    let makeRunner: @Sendable () -> ErasedStageRunner

    /// A single-port stage in a plain chain (linked by type to the stage before it).
    public init<S: Stage>(_ stage: S) {
        self.init(stage, input: .chain(S.Input.self), output: .chain(S.Output.self))
    }

    /// A single-port stage on named ports.
    public init<S: Stage>(_ stage: S, input: Port<S.Input>, output: Port<S.Output>) {
        self.init(stage, input: input.erased, output: output.erased)
    }

    private init<S: Stage>(_ stage: S, input: AnyPort, output: AnyPort) {
        name = stage.name
        inputs = [input]
        outputs = [output]
        makeRunner = { ErasedStageRunner(stage) }
    }

    /// A multi-port stage.
    public init<S: GraphStage>(_ stage: S) {
        name = stage.name
        inputs = stage.inputs
        outputs = stage.outputs
        makeRunner = { ErasedStageRunner(graphStage: stage) }
    }

    /// The chain view of a single-port stage's types (errors and `StageGraph.outputType`).
    public var inputType: any Sendable.Type { inputs.first?.type ?? Never.self }
    public var outputType: any Sendable.Type { outputs.first?.type ?? Never.self }
}

/// A type-erased source with its one output port.
public struct AnySource: Sendable {
    public let name: String
    public let output: AnyPort
    let run: @Sendable (Emit<any Sendable>) async throws -> Void

    /// A source at the head of a plain chain.
    public init<S: PacketSource>(_ source: S) {
        self.init(source, port: .chain(S.Output.self))
    }

    /// A source giving a named stream.
    public init<S: PacketSource>(_ source: S, port: Port<S.Output>) {
        self.init(source, port: port.erased)
    }

    private init<S: PacketSource>(_ source: S, port: AnyPort) {
        name = source.name
        output = port
        run = { emit in try await source.run { packet in try await emit(packet.map { $0 as any Sendable }) } }
    }

    public var outputType: any Sendable.Type { output.type }
}

/// Runs one erased stage: casts inputs back to the stage's types (checked when the graph was wired, so a
/// failed cast is a bug in the graph builder, reported as such rather than crashing).
struct ErasedStageRunner {
    let process: (PortInputs, PortEmitter) async throws -> Void
    let finish: (PortEmitter) async throws -> Void

    init<S: Stage>(_ stage: S) {
        let box = StageBox(stage)
        process = { input, emit in
            guard let value = input.values[0] as? S.Input else {
                throw PipelineBuildError(message: "stage `\(box.stage.name)` got a \(type(of: input.values[0])) "
                                         + "but takes \(S.Input.self)")
            }
            try await box.stage.process(Timestamped(value, at: input.time, duration: input.duration)) { out in
                try await emit.send(0, out.map { $0 as any Sendable })
            }
        }
        finish = { emit in
            try await box.stage.finish { out in try await emit.send(0, out.map { $0 as any Sendable }) }
        }
    }

    init<S: GraphStage>(graphStage stage: S) {
        let box = StageBox(stage)
        process = { input, emit in try await box.stage.process(input, emit: emit) }
        finish = { emit in try await box.stage.finish(emit: emit) }
    }
}

/// Holds a stage's mutable state for one run. Only the one task that runs the stage touches it.
private final class StageBox<S> {
    var stage: S
    init(_ stage: S) { self.stage = stage }
}
