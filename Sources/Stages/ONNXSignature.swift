// Builds Pipeline's `ModelSignature` from the ONNX importer, so model cards are checked against the graphs'
// declared inputs and outputs (`actiond check`, and every stage before it runs a model).
import Foundation
import Inference
import ONNX
import Pipeline
import Tensor

extension ModelSignature {
    /// The declared inputs (initializers listed as inputs by old exporters left out) and outputs of a graph.
    public init(graph: GraphSpec) {
        func signature(_ value: ValueSpec) -> TensorSignature {
            let dims: [TensorDim] = (value.shape ?? []).enumerated().map { axis, dim in
                if let dim { return .fixed(dim) }
                let name = axis < value.symbolicNames.count ? value.symbolicNames[axis] : nil
                return .symbolic(name ?? "")
            }
            return TensorSignature(name: value.name, elementType: value.dtype?.rawValue ?? "unsupported",
                                   shape: dims)
        }
        self.init(inputs: graph.inputs.filter { graph.initializers[$0.name] == nil }.map(signature),
                  outputs: graph.outputs.map(signature))
    }
}

/// Reads signatures with the ONNX importer (decoding only: no session is compiled).
public struct ONNXSignatureProvider: ModelSignatureProvider {
    public init() {}

    public func signature(ofGraphAt path: String) throws -> ModelSignature {
        let model = try ONNXModel(contentsOf: path)
        let unsupported = model.unsupportedOps
        guard unsupported.isEmpty else { throw UnsupportedOperators(counts: unsupported) }
        return ModelSignature(graph: model.graph)
    }
}

/// A graph uses operators the engine does not implement: it would load in `check` but fail in a run.
public struct UnsupportedOperators: Error, CustomStringConvertible {
    public var counts: [String: Int]
    public var description: String {
        "unsupported operators: " + counts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }
            .joined(separator: ", ")
    }
}
