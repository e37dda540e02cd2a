// A temporary folder with model cards, labels and placeholder graphs, for config validation tests: each test
// writes a config into it and gets the diagnostics back as "line:col: message" (the file name stripped).
import Foundation
@testable import Pipeline
import XCTest

final class ConfigSandbox {
    let root: URL

    /// The folder of the committed example config and its models.
    static let exampleDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/example")

    init(_ name: String) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-tests-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.exampleDirectory.appendingPathComponent("models"),
                                         to: root.appendingPathComponent("models"))
        // Cards the example does not use: a two-stream model and a split cnn-rnn model.
        try write("models/twostream.yaml", """
            kind: two-stream
            onnx: rgb.onnx
            input: { layout: NCHW, size: 224x224 }
            output: { kind: logits, labels: labels.txt }
            flow: { onnx: flow.onnx, bound: 20, stack: 10, weight: 0.6 }
            """)
        try write("models/cnnrnn.yaml", """
            kind: cnn-rnn
            encoder: { onnx: encoder.onnx, output: features }
            head: { onnx: head.onnx }
            input: { layout: NCHW, frames: 8, size: 112x112 }
            output: { kind: probabilities, labels: labels.txt }
            """)
        for graph in ["rgb", "flow", "encoder", "head"] { try write("models/\(graph).onnx", "") }
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func write(_ relative: String, _ text: String) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// Loads `yaml` as `pipeline.yaml` in the sandbox; returns the config or fails the test.
    func load(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) throws -> PipelineConfig {
        try write("pipeline.yaml", yaml)
        do {
            return try ConfigLoader.load(path: path("pipeline.yaml"))
        } catch {
            XCTFail("unexpected config errors:\n\(error)", file: file, line: line)
            throw error
        }
    }

    /// Loads `yaml` expecting errors; returns them as "line:col: message", with "card.yaml:" in front of those
    /// in another file than the config.
    func errors(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        try write("pipeline.yaml", yaml)
        do {
            _ = try ConfigLoader.load(path: path("pipeline.yaml"))
            XCTFail("expected config errors, but the config is valid", file: file, line: line)
            return []
        } catch {
            return error.diagnostics.map { d in
                let prefix = d.file == path("pipeline.yaml") ? "" : (d.file as NSString).lastPathComponent + ":"
                let message = d.message.replacingOccurrences(of: root.path + "/", with: "")
                return "\(prefix)\(d.line):\(d.column): \(message)"
            }
        }
    }

    /// A minimal valid config around `stages` (YAML list lines), with every sandbox model declared.
    static func config(stages: String, extra: String = "") -> String {
        """
        version: 1
        models:
          person: models/person.yaml
          tracker: models/tracker.yaml
          pose: models/pose.yaml
          actions: models/actions.yaml
          twostream: models/twostream.yaml
          cnnrnn: models/cnnrnn.yaml
        pipeline:
        \(stages)
        \(extra)
        """
    }
}
