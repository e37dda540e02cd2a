// One ONNX graph compiled once for one input shape, shared by every pipeline that runs it: the operators and
// packed weights are built once, and each concurrent user runs its own `GraphRunner` (a session replica with
// buffers of its own). The stages compile every model of a config through a shared store of these.
import Foundation
import Inference
import Tensor

/// A compiled graph with the input it is fed and the output that is read (the card's, or the graph's only ones).
public final class CompiledGraph: Sendable {
    public let path: String
    public let input: String
    public let output: String
    /// Shape of one sample (no batch dimension).
    public let sampleShape: [Int]
    /// Never run: only replicated, so it is never in use by two callers.
    private let prototype: Session

    /// Loads and compiles `path` for one sample of `shape` (batch 1 prepended) on input `inputName` (nil: the
    /// graph's only input), reading `outputName` (nil: the only output).
    public init(path: String, inputName: String?, outputName: String?, shape: [Int]) throws {
        let model = try ONNXModel(contentsOf: path)
        let inputs = model.graph.inputs.filter { model.graph.initializers[$0.name] == nil }.map(\.name)
        guard let input = inputName ?? (inputs.count == 1 ? inputs[0] : nil), inputs.contains(input) else {
            throw ModelError(.invalid, "cannot tell which input to feed (inputs: \(inputs.joined(separator: ", ")))",
                             model: path)
        }
        let outputs = model.graph.outputs.map(\.name)
        guard let output = outputName ?? (outputs.count == 1 ? outputs[0] : nil), outputs.contains(output) else {
            throw ModelError(.invalid, "cannot tell which output to read (outputs: "
                             + "\(outputs.joined(separator: ", ")))", model: path)
        }
        self.path = path
        self.input = input
        self.output = output
        sampleShape = shape
        let graph = model.graph
        prototype = try Session(graph: consume graph, makeOperator: OpRegistry.make,
                                options: SessionOptions(inputShapes: [input: [1] + shape], modelPath: path))
    }

    /// A runner for one user (one pipeline run): shares the weights, owns its buffers.
    public func makeRunner() -> GraphRunner { GraphRunner(graph: self, session: prototype.replica()) }

    /// Bytes of packed weights, held once however many runners there are.
    public var constantBytes: Int { prototype.constantBytes }
    /// Bytes each runner allocates (activations and scratch).
    public var bytesPerRunner: Int { prototype.arenaBytes + prototype.workspaceBytes }
}

/// Runs one compiled graph for one caller at a time.
public final class GraphRunner: @unchecked Sendable {
    public let graph: CompiledGraph
    public let session: Session

    init(graph: CompiledGraph, session: Session) {
        self.graph = graph
        self.session = session
    }

    public var path: String { graph.path }
    public var input: String { graph.input }
    public var output: String { graph.output }

    /// Runs one sample (no batch dimension) and returns the output's values.
    public func run(_ sample: Tensor) throws -> Tensor {
        let results = try session.run([graph.input: sample.reshaped([1] + sample.shape)])
        return results[graph.output]!
    }
}
