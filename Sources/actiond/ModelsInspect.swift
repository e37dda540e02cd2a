// `actiond models inspect MODEL.onnx`: inputs, outputs and their shapes, op histogram, parameter count and
// the ops this engine does not support (if any), without running the model.
import ArgumentParser
import Foundation
import Inference
import ONNX
import Tensor

/// Groups the model commands (`actiond models inspect`).
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect ONNX models.",
        subcommands: [ModelsInspect.self])
}

struct ModelsInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a model's inputs, outputs, shapes, op histogram, parameter count and unsupported ops.")

    @Argument(help: "The .onnx model file.")
    var model: String

    @Option(name: .customLong("shape"), help: "NAME=D0xD1x... for inputs with symbolic dimensions (default 1).")
    var shapes: [String] = []

    func run() throws {
        let decoded = try ONNXModel(contentsOf: model)
        let graph = decoded.graph
        func describe(_ spec: ValueSpec) -> String {
            let type = spec.dtype.map { "\($0)" } ?? "?"
            guard let shape = spec.shape else { return "\(spec.name): \(type) (shape not declared)" }
            let dims = shape.indices.map { axis -> String in
                if let dim = shape[axis] { return "\(dim)" }
                let symbol = axis < spec.symbolicNames.count ? spec.symbolicNames[axis] : nil
                return symbol ?? "?"
            }
            return "\(spec.name): \(type)[\(dims.joined(separator: ", "))]"
        }
        print("model: \(model)")
        let producer = decoded.producer.isEmpty ? "(unknown)" : decoded.producer
        print("producer: \(producer), ir_version \(decoded.irVersion), " +
              "opsets " + decoded.opsets.sorted { $0.key < $1.key }
                  .map { "\($0.key.isEmpty ? "ai.onnx" : $0.key) \($0.value)" }.joined(separator: ", "))
        print("inputs:")
        for spec in graph.inputs where graph.initializers[spec.name] == nil { print("  " + describe(spec)) }
        print("outputs:")
        for spec in graph.outputs { print("  " + describe(spec)) }
        let parameters = graph.initializers.values.reduce(0) { $0 + $1.count }
        print("parameters: \(parameters) in \(graph.initializers.count) initializers")
        var histogram: [String: Int] = [:]
        for node in graph.nodes {
            histogram[node.domain.isEmpty ? node.opType : "\(node.domain).\(node.opType)", default: 0] += 1
        }
        print("ops (\(graph.nodes.count) nodes):")
        for (op, count) in histogram.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
            print("  \(op.padding(toLength: max(op.count, 24), withPad: " ", startingAt: 0)) \(count)")
        }
        let unsupported = decoded.unsupportedOps
        if unsupported.isEmpty {
            print("unsupported ops: none")
            let session = try decoded.makeSession(options: SessionOptions(
                inputShapes: try parseShapeOverrides(shapes), modelPath: model))
            print("compiled: \(session.runtimeNodeCount) nodes after folding and fusion, " +
                  String(format: "%.2f GFLOP per run, activations %.1f MB, constants %.1f MB",
                         session.flopsPerRun / 1e9, Double(session.arenaBytes) / 1e6,
                         Double(session.constantBytes) / 1e6))
            for port in session.outputs { print("  output \(port.name): \(port.type)") }
        } else {
            print("unsupported ops: " + unsupported.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }
                .joined(separator: ", "))
            throw ModelError(.unsupported, "the model uses ops this engine does not implement: " +
                unsupported.keys.sorted().joined(separator: ", "), model: model)
        }
    }
}
