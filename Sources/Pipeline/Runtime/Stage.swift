// The runtime face of a stage: typed input and output packets at media times, like MediaPipe calculators.
// The graph machinery here knows nothing of frames or tensors; the Stages module supplies the concrete types.
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

/// A stage with its types erased, so a chain built from a config can be held in one array. Port types are
/// kept as metatypes and compared when the chain is built, before anything runs.
public struct AnyStage: Sendable {
    public let name: String
    public let inputType: any Sendable.Type
    public let outputType: any Sendable.Type
    let makeRunner: @Sendable () -> ErasedStageRunner

    public init<S: Stage>(_ stage: S) {
        name = stage.name
        inputType = S.Input.self
        outputType = S.Output.self
        makeRunner = { ErasedStageRunner(stage) }
    }
}

/// A type-erased source.
public struct AnySource: Sendable {
    public let name: String
    public let outputType: any Sendable.Type
    let run: @Sendable (Emit<any Sendable>) async throws -> Void

    public init<S: PacketSource>(_ source: S) {
        name = source.name
        outputType = S.Output.self
        run = { emit in try await source.run { packet in try await emit(packet.map { $0 as any Sendable }) } }
    }
}

/// Runs one erased stage: casts inputs back to the stage's type (checked at build time, so a failed cast is a
/// bug in the graph builder, reported as such rather than crashing).
struct ErasedStageRunner {
    let process: (Timestamped<any Sendable>, Emit<any Sendable>) async throws -> Void
    let finish: (Emit<any Sendable>) async throws -> Void

    init<S: Stage>(_ stage: S) {
        let box = StageBox(stage)
        process = { packet, emit in
            guard let value = packet.value as? S.Input else {
                throw PipelineBuildError(message: "stage `\(box.stage.name)` got a \(type(of: packet.value)) "
                                         + "but takes \(S.Input.self)")
            }
            try await box.stage.process(Timestamped(value, at: packet.time, duration: packet.duration)) { out in
                try await emit(out.map { $0 as any Sendable })
            }
        }
        finish = { emit in
            try await box.stage.finish { out in try await emit(out.map { $0 as any Sendable }) }
        }
    }
}

/// Holds a stage's mutable state for one run. Only the one task that runs the stage touches it.
private final class StageBox<S: Stage> {
    var stage: S
    init(_ stage: S) { self.stage = stage }
}
