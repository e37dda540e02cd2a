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

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!.floats
        let y = outputs[0].floats
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var peak = -Float.infinity
                for k in 0..<length { peak = max(peak, x[base + k * inner]) }
                var sum: Float = 0
                for k in 0..<length {
                    let e = expf(x[base + k * inner] - peak)
                    y[base + k * inner] = e
                    sum += e
                }
                if logarithmic {
                    let logSum = logf(sum)
                    for k in 0..<length { y[base + k * inner] = x[base + k * inner] - peak - logSum }
                } else {
                    let scale = 1 / sum
                    for k in 0..<length { y[base + k * inner] *= scale }
                }
            }
        }
    }
}
