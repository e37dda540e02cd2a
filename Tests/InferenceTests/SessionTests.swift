// Session compilation: shape-chain folding, buffer reuse, Conv+BatchNorm+Add+Relu fusion against the unfused
import Foundation
// graph, and load-time errors (missing value, cycle, unsupported op) that name the node.
import Inference
import Tensor
import Testing

@Suite struct SessionTests {
    /// x → Shape → Gather(0) → Unsqueeze → Concat(-1) → Reshape: the whole chain folds to a constant shape.
    @Test func shapeChainFoldsAtLoad() throws {
        let graph = GraphSpec(
            name: "chain",
            inputs: [ValueSpec(name: "x", dtype: .float32, shape: [2, 3, 4])],
            outputs: [ValueSpec(name: "y", dtype: .float32, shape: nil)],
            initializers: ["zero": Tensor(shape: [], int64s: [0]), "axes": Tensor(shape: [1], int64s: [0]),
                           "rest": Tensor(shape: [1], int64s: [-1])],
            nodes: [
                node("Shape", ["x"], ["s"]),
                node("Gather", ["s", "zero"], ["batch"]),
                node("Unsqueeze", ["batch", "axes"], ["batch1"]),
                node("Concat", ["batch1", "rest"], ["target"], ["axis": .int(0)]),
                node("Reshape", ["x", "target"], ["y"]),
            ])
        let session = try Session(graph: graph, makeOperator: testFactory)
        #expect(session.runtimeOpTypes == ["Reshape"])
        #expect(session.outputs[0].type.shape == [2, 12])
        let x = randomTensor([2, 3, 4], seed: 1)
        let y = try session.run(["x": x])["y"]!
        #expect(y.shape == [2, 12])
        #expect(y.floats == x.floats)
    }

    /// A chain of elementwise ops needs only two live buffers, whatever its length.
    @Test func activationsReuseMemory() throws {
        var nodes: [NodeSpec] = []
        var previous = "x"
        for step in 0..<8 {
            nodes.append(node("Sigmoid", [previous], ["v\(step)"]))
            previous = "v\(step)"
        }
        let graph = GraphSpec(name: "chain", inputs: [ValueSpec(name: "x", dtype: .float32, shape: [64, 64])],
                              outputs: [ValueSpec(name: previous, dtype: .float32, shape: nil)], initializers: [:],
                              nodes: nodes)
        let session = try Session(graph: graph, makeOperator: testFactory)
        let slab = 64 * 64 * 4
        #expect(session.unplannedBytes == 9 * slab)
        #expect(session.arenaBytes <= 3 * slab)
        let x = randomTensor([64, 64], seed: 2)
        let y = try session.run(["x": x])[previous]!
        var expected = x.floats
        for _ in 0..<8 { expected = expected.map { 1 / (1 + expf(-$0)) } }
        #expect(zip(y.floats, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        // Running twice gives the same result (no state leaks between runs).
        #expect(try session.run(["x": x])[previous]!.floats == y.floats)
    }

    /// Conv → BatchNormalization → Add(skip) → Relu collapses into one fused Conv with the same numbers.
    @Test func convBatchNormResidualReluFuse() throws {
        let channels = 6
        let graph = GraphSpec(
            name: "block",
            inputs: [ValueSpec(name: "x", dtype: .float32, shape: [2, channels, 9, 7])],
            outputs: [ValueSpec(name: "y", dtype: .float32, shape: nil)],
            initializers: [
                "w": randomTensor([channels, channels, 3, 3], seed: 3),
                "gamma": randomTensor([channels], seed: 4, range: 0.5...1.5),
                "beta": randomTensor([channels], seed: 5),
                "mean": randomTensor([channels], seed: 6),
                "var": randomTensor([channels], seed: 7, range: 0.2...2),
            ],
            nodes: [
                node("Conv", ["x", "w"], ["c"], ["pads": .ints([1, 1, 1, 1])]),
                node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["b"]),
                node("Add", ["b", "x"], ["s"]),
                node("Relu", ["s"], ["y"]),
            ])
        let fused = try Session(graph: graph, makeOperator: testFactory)
        let plain = try Session(graph: graph, makeOperator: testFactory, options: SessionOptions(fuse: false))
        #expect(fused.runtimeOpTypes == ["Conv"])
        #expect(plain.runtimeOpTypes == ["Conv", "BatchNormalization", "Add", "Relu"])
        let x = randomTensor([2, channels, 9, 7], seed: 8)
        let a = try fused.run(["x": x])["y"]!
        let b = try plain.run(["x": x])["y"]!
        #expect(maxDifference(a, b) < 1e-5)
        #expect(a.floats.allSatisfy { $0 >= 0 })
    }

    @Test func loadErrorsNameTheNode() throws {
        let input = [ValueSpec(name: "x", dtype: .float32, shape: [4])]
        let output = [ValueSpec(name: "y", dtype: .float32, shape: nil)]
        let missing = GraphSpec(name: "g", inputs: input, outputs: output, initializers: [:],
                                nodes: [node("Add", ["x", "bias"], ["y"], name: "add_bias")])
        #expect {
            try Session(graph: missing, makeOperator: testFactory)
        } throws: { error in
            let error = error as! ModelError
            return error.kind == .malformed && error.node == "add_bias" && error.message.contains("bias")
        }
        let cycle = GraphSpec(name: "g", inputs: input, outputs: output, initializers: [:], nodes: [
            node("Add", ["x", "b"], ["a"], name: "first"),
            node("Relu", ["a"], ["b"], name: "second"),
            node("Relu", ["a"], ["y"], name: "third"),
        ])
        #expect {
            try Session(graph: cycle, makeOperator: testFactory)
        } throws: { error in
            (error as! ModelError).kind == .malformed && "\(error)".contains("cycle")
        }
        let unsupported = GraphSpec(name: "g", inputs: input, outputs: output, initializers: [:],
                                    nodes: [node("Frobnicate", ["x"], ["y"], name: "frob_1")])
        #expect {
            try Session(graph: unsupported, makeOperator: testFactory, options: SessionOptions(modelPath: "m.onnx"))
        } throws: { error in
            let error = error as! ModelError
            return error.kind == .unsupported && error.node == "frob_1" && error.op == "Frobnicate"
                && error.model == "m.onnx" && error.summary.contains("Frobnicate")
        }
    }

    @Test func runRejectsWrongInputs() throws {
        let graph = GraphSpec(name: "g", inputs: [ValueSpec(name: "x", dtype: .float32, shape: [nil, 3])],
                              outputs: [ValueSpec(name: "y", dtype: .float32, shape: nil)], initializers: [:],
                              nodes: [node("Relu", ["x"], ["y"])])
        let session = try Session(graph: graph, makeOperator: testFactory)
        #expect(session.inputs[0].type.shape == [1, 3])  // symbolic batch defaults to 1
        #expect(throws: ModelError.self) { try session.run(["x": Tensor(zeros: [2, 3])]) }
        #expect(throws: ModelError.self) { try session.run([:]) }
        let batched = try Session(graph: graph, makeOperator: testFactory,
                                  options: SessionOptions(inputShapes: ["x": [5, 3]]))
        #expect(try batched.run(["x": Tensor(zeros: [5, 3])])["y"]!.shape == [5, 3])
    }
}
