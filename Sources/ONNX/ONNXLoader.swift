// Reading an .onnx file and compiling it into a Session: the ONNX module's entry point.
import Foundation
import Inference
import Tensor

extension ONNXModel {
    /// Decodes a model from bytes; malformed input throws `ModelError` (kind `.malformed`), never traps.
    public init(bytes: Data, path: String? = nil) throws {
        self = try bytes.withUnsafeBytes { buffer in
            try ONNXDecoder(modelPath: path).decodeModel(buffer)
        }
    }

    /// Reads and decodes the model file at `path`.
    public init(contentsOf path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ModelError(.badInput, "no such file", model: path)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError(.badInput, "cannot read file", model: path)
        }
        try self.init(bytes: data, path: path)
    }

    /// Op types in the graph that the registry does not implement (with their counts).
    public var unsupportedOps: [String: Int] {
        var result: [String: Int] = [:]
        for node in graph.nodes where !OpRegistry.isSupported(node.opType, domain: node.domain) {
            result[node.domain.isEmpty ? node.opType : "\(node.domain).\(node.opType)", default: 0] += 1
        }
        return result
    }

    /// Compiles the graph: every shape inferred, constants folded, buffers planned, weights packed.
    public func makeSession(options: SessionOptions = SessionOptions()) throws -> Session {
        try Session(graph: graph, makeOperator: OpRegistry.make, options: options)
    }

    /// Loads `path` and compiles it in one step.
    public static func loadSession(_ path: String, inputShapes: [String: [Int]] = [:]) throws -> Session {
        let model = try ONNXModel(contentsOf: path)
        return try model.makeSession(options: SessionOptions(inputShapes: inputShapes, modelPath: path))
    }
}
