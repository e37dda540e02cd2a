// ONNX LSTM: forward, reverse and bidirectional, optional bias, initial states, peepholes, sequence_lens,
// clip, both layouts. X·Wᵀ for all steps is one sgemm; each step adds H·Rᵀ with another, then the gates.
import Foundation
import Tensor

public final class LSTMOp: Operator {
    let attributes: RecurrentAttributes
    let gemm: SgemmFunction
    var seq = 0, batch = 0, inputSize = 0, hidden = 0
    public private(set) var workspaceBytes = 0
    public private(set) var flops: Double = 0

    public init(_ node: NodeSpec, gemm: @escaping SgemmFunction = RecurrentGemm.fast) throws {
        attributes = try RecurrentAttributes(node, defaultActivations: ["Sigmoid", "Tanh", "Tanh"])
        if try node.int("input_forget", default: 0) != 0 { throw OpError.unsupported("input_forget = 1") }
        self.gemm = gemm
    }

    public convenience init(_ node: NodeSpec) throws { try self.init(node, gemm: RecurrentGemm.fast) }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        (seq, batch, inputSize, hidden) = try attributes.weightDimensions(inputs, gates: 4)
        let dirs = attributes.directions
        if let p = inputs.optional(7), p.shape != [dirs, 3 * hidden] { throw OpError("P shape \(p.shape)") }
        let (yShape, stateShape) = attributes.outputShapes(seq: seq, batch: batch, hidden: hidden)
        for index in [5, 6] {
            if let state = inputs.optional(index), state.count != dirs * batch * hidden {
                throw OpError("initial state \(index) shape \(state.shape)")
            }
        }
        // XW [seq·batch, 4H], gates [batch, 4H], H and C [batch, H].
        workspaceBytes = (seq * batch * 4 * hidden + batch * 4 * hidden + 2 * batch * hidden) * 4
        flops = 2 * Double(dirs * seq * batch * 4 * hidden * (inputSize + hidden))
        return [ValueType(.float32, yShape), ValueType(.float32, stateShape), ValueType(.float32, stateShape)]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!.floats
        let lengths = sequenceLengths(inputs.count > 4 ? inputs[4] : nil, batch: batch, seq: seq)
        let (hidden, batch, seq) = (self.hidden, self.batch, self.seq)
        let gateWidth = 4 * hidden
        let xw = workspace.assumingMemoryBound(to: Float.self)
        let gates = xw + seq * batch * gateWidth
        let h = gates + batch * gateWidth
        let c = h + batch * hidden
        let y = outputs[0].floats
        let outH = outputs.count > 1 ? outputs[1].floats : nil
        let outC = outputs.count > 2 ? outputs[2].floats : nil
        y.initialize(repeating: 0, count: outputs[0].count)
        let clip = attributes.clip
        @inline(__always) func clipped(_ v: Float) -> Float { clip.map { min(max(v, -$0), $0) } ?? v }

        for d in 0..<attributes.directions {
            let reverse = attributes.direction == .reverse || d == 1
            let w = inputs[1]!.floats + d * gateWidth * inputSize
            let r = inputs[2]!.floats + d * gateWidth * hidden
            let bias = inputs.count > 3 ? inputs[3]?.floats.advanced(by: d * 2 * gateWidth) : nil
            let peephole = inputs.count > 7 ? inputs[7]?.floats.advanced(by: d * 3 * hidden) : nil
            // X rows are in layout order; XW rows follow the same order.
            gemm(false, true, seq * batch, gateWidth, inputSize, 1, x, inputSize, w, inputSize, 0, xw, gateWidth)
            if let bias {
                for row in 0..<(seq * batch) {
                    let line = xw + row * gateWidth
                    for j in 0..<gateWidth { line[j] += bias[j] + bias[gateWidth + j] }
                }
            }
            for b in 0..<batch {
                for j in 0..<hidden {
                    let offset = (d * batch + b) * hidden + j
                    h[b * hidden + j] = inputs.count > 5 ? inputs[5]?.floats[offset] ?? 0 : 0
                    c[b * hidden + j] = inputs.count > 6 ? inputs[6]?.floats[offset] ?? 0 : 0
                }
            }
            for step in 0..<seq {
                let t = reverse ? seq - 1 - step : step
                gemm(false, true, batch, gateWidth, hidden, 1, h, hidden, r, hidden, 0, gates, gateWidth)
                for b in 0..<batch where t < lengths[b] {
                    let g = gates + b * gateWidth
                    let pre = xw + attributes.xRow(t: t, b: b, seq: seq, batch: batch) * gateWidth
                    let hb = h + b * hidden
                    let cb = c + b * hidden
                    for j in 0..<hidden {
                        let previousC = cb[j]
                        var i = clipped(g[j] + pre[j])
                        var o = clipped(g[hidden + j] + pre[hidden + j])
                        var f = clipped(g[2 * hidden + j] + pre[2 * hidden + j])
                        let candidate = tanhf(clipped(g[3 * hidden + j] + pre[3 * hidden + j]))
                        if let peephole {
                            i = clipped(i + peephole[j] * previousC)
                            f = clipped(f + peephole[2 * hidden + j] * previousC)
                        }
                        let newC = sigmoid(f) * previousC + sigmoid(i) * candidate
                        if let peephole { o = clipped(o + peephole[hidden + j] * newC) }
                        cb[j] = newC
                        hb[j] = sigmoid(o) * tanhf(newC)
                    }
                    let yRow = y + attributes.yOffset(t: t, d: d, b: b, seq: seq, batch: batch, hidden: hidden)
                    yRow.update(from: hb, count: hidden)
                }
            }
            for b in 0..<batch {
                let offset = attributes.stateOffset(d: d, b: b, batch: batch, hidden: hidden)
                outH?.advanced(by: offset).update(from: h + b * hidden, count: hidden)
                outC?.advanced(by: offset).update(from: c + b * hidden, count: hidden)
            }
        }
    }
}
