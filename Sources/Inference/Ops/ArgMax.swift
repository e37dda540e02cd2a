// ONNX ArgMax: index of the largest value along an axis (first on ties unless select_last_index), int64.
import Tensor

public final class ArgMaxOp: Operator {
    let axis: Int
    let keepDims: Bool
    let selectLast: Bool
    var outer = 0
    var length = 0
    var inner = 0

    public init(_ node: NodeSpec) throws {
        axis = try node.int("axis", default: 0)
        keepDims = try node.int("keepdims", default: 1) != 0
        selectLast = try node.int("select_last_index", default: 0) != 0
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        try requireFloat(x)
        let resolved = try normaliseAxis(axis, rank: x.shape.count)
        outer = x.shape[..<resolved].reduce(1, *)
        length = x.shape[resolved]
        inner = x.shape[(resolved + 1)...].reduce(1, *)
        guard length > 0 else { throw OpError("ArgMax over an empty axis") }
        var shape = x.shape
        if keepDims { shape[resolved] = 1 } else { shape.remove(at: resolved) }
        return [ValueType(.int64, shape)]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!.floats
        let out = outputs[0].int64s
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var best = x[base]
                var bestIndex = 0
                for k in 1..<max(length, 1) {
                    let v = x[base + k * inner]
                    if v > best || (selectLast && v == best) {
                        best = v
                        bestIndex = k
                    }
                }
                out[o * inner + i] = Int64(bestIndex)
            }
        }
    }
}
