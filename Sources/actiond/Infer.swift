// `actiond infer MODEL.onnx --input NAME=FILE.npy ... --out DIR`: runs a model once on .npy inputs and writes
// every output as DIR/<sanitised output name>.npy, for debugging and comparing with other runtimes.
import ArgumentParser
import Foundation
import Inference
import ONNX
import Tensor

struct Infer: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an ONNX model on .npy inputs and write each output as DIR/<output-name>.npy.")

    @Argument(help: "The .onnx model file.")
    var model: String

    @Option(name: .customLong("input"), help: "NAME=FILE.npy for each model input (repeatable).")
    var inputs: [String] = []

    @Option(help: "Directory for the output .npy files (created if missing).")
    var out: String

    @Option(name: .customLong("shape"), help: "NAME=D0xD1x... for inputs with symbolic dimensions (default 1).")
    var shapes: [String] = []

    @Option(help: "Kernel threads (default: ACTIOND_THREADS or all cores).")
    var threads: Int?

    func run() throws {
        _ = try ThreadKnob.apply(threads)
        var feeds: [String: Tensor] = [:]
        var overrides = try parseShapeOverrides(shapes)
        for argument in inputs {
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw UsageError("--input expects NAME=FILE.npy, got '\(argument)'")
            }
            let tensor = try Tensor(npyFile: parts[1])
            feeds[parts[0]] = tensor
            if overrides[parts[0]] == nil { overrides[parts[0]] = tensor.shape }
        }
        let decoded = try ONNXModel(contentsOf: model)
        // Only inputs the model declares take a shape override; unknown names are reported by the run.
        let declared = Set(decoded.graph.inputs.map(\.name))
        let session = try decoded.makeSession(options: SessionOptions(
            inputShapes: overrides.filter { declared.contains($0.key) }, modelPath: model))
        for port in session.inputs where feeds[port.name] == nil {
            throw UsageError("missing --input \(port.name)=FILE.npy (\(port.type)); model inputs: " +
                session.inputs.map { "\($0.name) \($0.type)" }.joined(separator: ", "))
        }
        let results = try session.run(feeds)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for port in session.outputs {
            let path = (out as NSString).appendingPathComponent(Infer.fileName(for: port.name) + ".npy")
            try results[port.name]!.writeNPY(to: path)
            print("\(port.name) \(port.type) -> \(path)")
        }
    }

    /// Output names can hold '/', ':' and other characters that do not belong in file names.
    static func fileName(for name: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        var result = String(name.map { allowed.contains($0) ? $0 : "_" })
        while result.hasPrefix(".") { result.removeFirst() }
        return result.isEmpty ? "output" : result
    }
}
