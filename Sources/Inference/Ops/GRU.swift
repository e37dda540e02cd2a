// ONNX GRU: forward, reverse and bidirectional, optional bias, initial state, sequence_lens, clip, both
// layouts, linear_before_reset 0 (ONNX default) and 1 (PyTorch exports). Gate order z, r, h.
import Foundation
import Tensor

public final class GRUOp: Operator {
    let attributes: RecurrentAttributes
    let linearBeforeReset: Bool
    let gemm: SgemmFunction
    var seq = 0, batch = 0, inputSize = 0, hidden = 0
    public private(set) var workspaceBytes = 0
    public private(set) var flops: Double = 0

    public init(_ node: NodeSpec, gemm: @escaping SgemmFunction = RecurrentGemm.fast) throws {
        attributes = try RecurrentAttributes(node, defaultActivations: ["Sigmoid", "Tanh"])
        linearBeforeReset = try node.int("linear_before_reset", default: 0) != 0
        self.gemm = gemm
    }

    public convenience init(_ node: NodeSpec) throws { try self.init(node, gemm: RecurrentGemm.fast) }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        (seq, batch, inputSize, hidden) = try attributes.weightDimensions(inputs, gates: 3)
        let dirs = attributes.directions
        if let state = inputs.optional(5), state.count != dirs * batch * hidden {
            throw OpError("initial_h shape \(state.shape)")
        }
        let (yShape, stateShape) = attributes.outputShapes(seq: seq, batch: batch, hidden: hidden)
        // XW [seq·batch, 3H], HR [batch, 3H], H [batch, H], r⊙H [batch, H], (r⊙H)·Rhᵀ [batch, H].
        workspaceBytes = (seq * batch * 3 * hidden + batch * 3 * hidden + 3 * batch * hidden) * 4
        flops = 2 * Double(dirs * seq * batch * 3 * hidden * (inputSize + hidden))
        return [ValueType(.float32, yShape), ValueType(.float32, stateShape)]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!.floats
        let lengths = sequenceLengths(inputs.count > 4 ? inputs[4] : nil, batch: batch, seq: seq)
        let (hidden, batch, seq) = (self.hidden, self.batch, self.seq)
        let width = 3 * hidden
        let xw = workspace.assumingMemoryBound(to: Float.self)
        let hr = xw + seq * batch * width
        let h = hr + batch * width
        let resetH = h + batch * hidden
        let candidate = resetH + batch * hidden
        let y = outputs[0].floats
        let outH = outputs.count > 1 ? outputs[1].floats : nil
        y.initialize(repeating: 0, count: outputs[0].count)
        let clip = attributes.clip
        @inline(__always) func clipped(_ v: Float) -> Float { clip.map { min(max(v, -$0), $0) } ?? v }

        for d in 0..<attributes.directions {
            let reverse = attributes.direction == .reverse || d == 1
            let w = inputs[1]!.floats + d * width * inputSize
            let r = inputs[2]!.floats + d * width * hidden
            let bias = inputs.count > 3 ? inputs[3]?.floats.advanced(by: d * 2 * width) : nil
            gemm(false, true, seq * batch, width, inputSize, 1, x, inputSize, w, inputSize, 0, xw, width)
            if let bias {
                for row in 0..<(seq * batch) {
                    let line = xw + row * width
                    for j in 0..<width { line[j] += bias[j] }
                }
            }
            for b in 0..<batch {
                for j in 0..<hidden {
                    h[b * hidden + j] = inputs.count > 5 ? inputs[5]?.floats[(d * batch + b) * hidden + j] ?? 0 : 0
                }
            }
            for step in 0..<seq {
                let t = reverse ? seq - 1 - step : step
                // H·Rᵀ for z and r (and h when the reset applies after the product).
                gemm(false, true, batch, width, hidden, 1, h, hidden, r, hidden, 0, hr, width)
                if let bias {
                    for b in 0..<batch {
                        for j in 0..<width { hr[b * width + j] += bias[width + j] }
                    }
                }
                for b in 0..<batch {
                    let pre = xw + attributes.xRow(t: t, b: b, seq: seq, batch: batch) * width
                    let recurrent = hr + b * width
                    for j in 0..<hidden {
                        let reset = sigmoid(clipped(pre[hidden + j] + recurrent[hidden + j]))
                        // Stash r (lbr 1: r ⊙ (H·Rhᵀ + Rbh); lbr 0: r ⊙ H, multiplied by Rh below).
                        resetH[b * hidden + j] = linearBeforeReset ? reset * recurrent[2 * hidden + j]
                            : reset * h[b * hidden + j]
                    }
                }
                if !linearBeforeReset {
                    gemm(false, true, batch, hidden, hidden, 1, resetH, hidden, r + 2 * hidden * hidden, hidden, 0,
                         candidate, hidden)
                    if let bias {
                        for b in 0..<batch {
                            for j in 0..<hidden { candidate[b * hidden + j] += bias[width + 2 * hidden + j] }
                        }
                    }
                }
                for b in 0..<batch where t < lengths[b] {
                    let pre = xw + attributes.xRow(t: t, b: b, seq: seq, batch: batch) * width
                    let recurrent = hr + b * width
                    let hb = h + b * hidden
                    for j in 0..<hidden {
                        let update = sigmoid(clipped(pre[j] + recurrent[j]))
                        let inner = linearBeforeReset ? resetH[b * hidden + j] : candidate[b * hidden + j]
                        let proposal = tanhf(clipped(pre[2 * hidden + j] + inner))
                        hb[j] = (1 - update) * proposal + update * hb[j]
                    }
                    let yRow = y + attributes.yOffset(t: t, d: d, b: b, seq: seq, batch: batch, hidden: hidden)
                    yRow.update(from: hb, count: hidden)
                }
            }
            for b in 0..<batch {
                let offset = attributes.stateOffset(d: d, b: b, batch: batch, hidden: hidden)
                outH?.advanced(by: offset).update(from: h + b * hidden, count: hidden)
            }
        }
    }
}
