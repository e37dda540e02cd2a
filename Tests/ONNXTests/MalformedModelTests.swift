// Broken models must give typed errors at load, never crashes: truncated files, random bytes, an unsupported
// opset, a missing initializer, a cycle, an unsupported op, external data. And a valid hand-built model runs.
import Foundation
import Inference
import ONNX
import Tensor
import Testing

@Suite struct MalformedModelTests {
    /// y = relu(x + bias): the valid baseline the broken variants are cut from.
    static let valid = ModelWriter.model(
        nodes: [ModelWriter.node("Add", ["x", "bias"], ["s"], name: "add"),
                ModelWriter.node("Relu", ["s"], ["y"], name: "relu")],
        inputs: [("x", [2, 3])], outputs: [("y", [2, 3])],
        initializers: [ModelWriter.floatTensor("bias", shape: [3], values: [1, -1, 0.5])])

    func load(_ data: Data) throws -> Session {
        try ONNXModel(bytes: data, path: "test.onnx").makeSession(options: SessionOptions(modelPath: "test.onnx"))
    }

    func expectError(_ data: Data, kind: ModelError.Kind, mentioning text: String) {
        #expect {
            _ = try load(data)
        } throws: { error in
            guard let error = error as? ModelError else { return false }
            return error.kind == kind && error.description.contains(text) && error.model == "test.onnx"
        }
    }

    @Test func validModelRuns() throws {
        let session = try load(Self.valid)
        let y = try session.run(["x": Tensor(shape: [2, 3], floats: [0, 0, 0, -2, 2, -1])])["y"]!
        #expect(y.floats == [1, 0, 0.5, 0, 1, 0])
    }

    @Test func everyTruncationIsAnError() {
        // Every prefix of the file: most cut a field mid-way; some end on a boundary and lose the graph or opset.
        for length in 0..<Self.valid.count {
            #expect(throws: ModelError.self) { _ = try load(Self.valid.prefix(length)) }
        }
    }

    @Test func randomBytesAreAnError() {
        var state: UInt64 = 12345  // fixed seed: the same byte strings every run
        for trial in 0..<200 {
            let count = 1 + trial * 7 % 400
            var bytes = [UInt8](repeating: 0, count: count)
            for i in 0..<count {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                bytes[i] = UInt8(truncatingIfNeeded: state >> 33)
            }
            #expect(throws: ModelError.self) { _ = try load(Data(bytes)) }
        }
    }

    @Test func unsupportedOpsetIsAnError() {
        let model = ModelWriter.model(nodes: [ModelWriter.node("Relu", ["x"], ["y"], name: "relu")],
                                      inputs: [("x", [2])], outputs: [("y", [2])], opset: 99)
        expectError(model, kind: .unsupported, mentioning: "opset 99")
    }

    @Test func missingInitializerIsAnError() {
        let model = ModelWriter.model(nodes: [ModelWriter.node("Add", ["x", "bias"], ["y"], name: "add_bias")],
                                      inputs: [("x", [2])], outputs: [("y", [2])])
        expectError(model, kind: .malformed, mentioning: "bias")
    }

    @Test func cycleIsAnError() {
        let model = ModelWriter.model(
            nodes: [ModelWriter.node("Add", ["x", "b"], ["a"], name: "first"),
                    ModelWriter.node("Relu", ["a"], ["b"], name: "second"),
                    ModelWriter.node("Relu", ["a"], ["y"], name: "third")],
            inputs: [("x", [2])], outputs: [("y", [2])])
        expectError(model, kind: .malformed, mentioning: "cycle")
    }

    @Test func unsupportedOpNamesOpNodeAndFile() {
        let model = ModelWriter.model(nodes: [ModelWriter.node("NonMaxSuppression", ["x"], ["y"], name: "nms_7")],
                                      inputs: [("x", [2])], outputs: [("y", [2])])
        expectError(model, kind: .unsupported, mentioning: "NonMaxSuppression")
        expectError(model, kind: .unsupported, mentioning: "nms_7")
    }

    @Test func externalDataIsRejected() {
        var tensor = ModelWriter.floatTensor("bias", shape: [2], values: [1, 2])
        tensor.int(14, 1)  // data_location = EXTERNAL
        let model = ModelWriter.model(nodes: [ModelWriter.node("Add", ["x", "bias"], ["y"], name: "add")],
                                      inputs: [("x", [2])], outputs: [("y", [2])], initializers: [tensor])
        expectError(model, kind: .unsupported, mentioning: "external data")
    }

    @Test func initializerWithWrongByteCountIsAnError() {
        let tensor = ModelWriter.floatTensor("bias", shape: [4], values: [1, 2])
        let model = ModelWriter.model(nodes: [ModelWriter.node("Add", ["x", "bias"], ["y"], name: "add")],
                                      inputs: [("x", [4])], outputs: [("y", [4])], initializers: [tensor])
        expectError(model, kind: .malformed, mentioning: "bias")
    }

    @Test func missingFileIsAnError() {
        #expect(throws: ModelError.self) { _ = try ONNXModel(contentsOf: "/nonexistent/model.onnx") }
    }
}
