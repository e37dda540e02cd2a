// ONNX Softmax (and the LogSoftmax variant below it): exp(x − max) / Σ along one axis. Before opset 13 the
// input is coerced to 2-D at `axis` (default 1) and normalised over the whole trailing block.
import Foundation
import Tensor

public final class SoftmaxOp: Operator {
    let axis: Int
    let coerce2D: Bool
    let logarithmic: Bool
    var outer = 0
    var length = 0
    var inner = 0

    public init(_ node: NodeSpec, logarithmic: Bool = false) throws {
        coerce2D = node.opset < 13
        axis = try node.int("axis", default: coerce2D ? 1 : -1)
        self.logarithmic = logarithmic
    }

    public convenience init(_ node: NodeSpec) throws { try self.init(node, logarithmic: false) }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        try requireFloat(x)
        let resolved = try normaliseAxis(axis, rank: x.shape.count)
        outer = x.shape[..<resolved].reduce(1, *)
        if coerce2D {
            length = x.shape[resolved...].reduce(1, *)
            inner = 1
        } else {
            length = x.shape[resolved]
            inner = x.shape[(resolved + 1)...].reduce(1, *)
        }
        return [x]
    }

    public var workspaceBytes: Int { 2 * inner * 4 }

    /// Reductions run over `length` with the `inner` positions side by side, so the inner loops are contiguous
    /// and vectorise (channel softmax over NCHW, YOLO's distribution-focal head); exp is FastMath.exp.
    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!.floats
        let y = outputs[0].floats
        let peak = workspace.assumingMemoryBound(to: Float.self)
        let sum = peak + inner
        for o in 0..<outer {
            let base = o * length * inner
            peak.update(repeating: -.infinity, count: inner)
            sum.update(repeating: 0, count: inner)
            for k in 0..<length {
                let row = x + base + k * inner
                for i in 0..<inner { peak[i] = max(peak[i], row[i]) }
            }
            for k in 0..<length {
                let row = x + base + k * inner
                let out = y + base + k * inner
                for i in 0..<inner {
                    let e = FastMath.exp(row[i] - peak[i])
                    out[i] = e
                    sum[i] += e
                }
            }
            if logarithmic {
                for i in 0..<inner { sum[i] = peak[i] + logf(sum[i]) }
                for k in 0..<length {
                    let row = x + base + k * inner
                    let out = y + base + k * inner
                    for i in 0..<inner { out[i] = row[i] - sum[i] }
                }
            } else {
                for i in 0..<inner { sum[i] = 1 / sum[i] }
                for k in 0..<length {
                    let out = y + base + k * inner
                    for i in 0..<inner { out[i] *= sum[i] }
                }
            }
        }
    }
}
