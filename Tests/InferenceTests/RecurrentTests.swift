// LSTM and GRU on the BLAS sgemm against the same ops on the plain reference gemm, over random problems
// (both directions, sequence lengths, initial states, both layouts).
import Inference
import Tensor
import Testing

@Suite struct RecurrentTests {
    func compare(op: String, gates: Int, direction: String, layout: Int, lengths: Bool, initial: Bool,
                 attributes extra: [String: AttributeValue] = [:]) throws {
        let (seq, batch, input, hidden) = (5, 3, 7, 6)
        let dirs = direction == "bidirectional" ? 2 : 1
        var initializers: [String: Tensor] = [
            "W": randomTensor([dirs, gates * hidden, input], seed: 11),
            "R": randomTensor([dirs, gates * hidden, hidden], seed: 12),
            "B": randomTensor([dirs, 2 * gates * hidden], seed: 13),
        ]
        var inputs = ["X", "W", "R", "B", "", ""]
        if lengths {
            initializers["L"] = Tensor(shape: [batch], int32s: [5, 2, 4])
            inputs[4] = "L"
        }
        if initial {
            initializers["H0"] = randomTensor([dirs, batch, hidden], seed: 14)
            inputs[5] = "H0"
        }
        var attributes = extra
        attributes["hidden_size"] = .int(hidden)
        attributes["direction"] = .string(direction)
        attributes["layout"] = .int(layout)
        let xShape = layout == 0 ? [seq, batch, input] : [batch, seq, input]
        let graph = GraphSpec(
            name: "rnn", inputs: [ValueSpec(name: "X", dtype: .float32, shape: xShape)],
            outputs: [ValueSpec(name: "Y", dtype: .float32, shape: nil),
                      ValueSpec(name: "Yh", dtype: .float32, shape: nil)],
            initializers: initializers,
            nodes: [node(op, inputs, ["Y", "Yh"], attributes)])
        func make(_ gemm: @escaping SgemmFunction) -> OperatorFactory {
            { spec in op == "LSTM" ? try LSTMOp(spec, gemm: gemm) : try GRUOp(spec, gemm: gemm) }
        }
        let fast = try Session(graph: graph, makeOperator: make(RecurrentGemm.fast))
        let reference = try Session(graph: graph, makeOperator: make(RecurrentGemm.reference))
        let x = randomTensor(xShape, seed: 15)
        let a = try fast.run(["X": x])
        let b = try reference.run(["X": x])
        #expect(maxDifference(a["Y"]!, b["Y"]!) < 1e-5)
        #expect(maxDifference(a["Yh"]!, b["Yh"]!) < 1e-5)
        if lengths {
            // Steps past a sequence's length are zero in Y.
            let y = a["Y"]!.floats
            let t = 3, d = 0, item = 1  // item 1 has length 2
            let offset = layout == 0 ? ((t * dirs + d) * batch + item) * hidden : ((item * seq + t) * dirs + d) * hidden
            #expect(y[offset..<(offset + hidden)].allSatisfy { $0 == 0 })
        }
    }

    @Test(arguments: ["forward", "reverse", "bidirectional"])
    func lstmFastMatchesReference(direction: String) throws {
        for layout in [0, 1] {
            try compare(op: "LSTM", gates: 4, direction: direction, layout: layout, lengths: true, initial: true)
            try compare(op: "LSTM", gates: 4, direction: direction, layout: layout, lengths: false, initial: false)
        }
    }

    @Test(arguments: ["forward", "reverse", "bidirectional"])
    func gruFastMatchesReference(direction: String) throws {
        for linearBeforeReset in [0, 1] {
            try compare(op: "GRU", gates: 3, direction: direction, layout: 0, lengths: true, initial: true,
                        attributes: ["linear_before_reset": .int(linearBeforeReset)])
            try compare(op: "GRU", gates: 3, direction: direction, layout: 1, lengths: false, initial: false,
                        attributes: ["linear_before_reset": .int(linearBeforeReset)])
        }
    }
}
