// ONNX MaxUnpool: scatters X into a zero tensor at MaxPool's flat Indices. Output spatial size is
// (in − 1)·stride + kernel − pads, or the constant output_shape input.
import Tensor

public final class MaxUnpoolOp: Operator {
    let window: WindowAttributes
    public init(_ node: NodeSpec) throws {
        window = try WindowAttributes(node)
        guard window.kernel != nil else { throw OpError("missing required attribute 'kernel_shape'") }
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        let indices = try inputs.required(1)
        try requireFloat(x)
        guard indices.dtype == .int64, indices.shape == x.shape else {
            throw OpError("indices must be int64 of X's shape")
        }
        if inputs.optional(2) != nil {
            let shape = try constants.constant(2, "output_shape").integers
            guard shape.count == x.shape.count, shape[0] == x.shape[0], shape[1] == x.shape[1] else {
                throw OpError("output_shape \(shape) does not fit X \(x.shape)")
            }
            try checkInferredShape(shape, "output_shape")
            return [ValueType(.float32, shape)]
        }
        let kernel = window.kernel!
        let rank = kernel.count
        let strides = try window.checked(window.strides, rank: rank, name: "strides")
        let pads = window.pads ?? Array(repeating: 0, count: 2 * rank)
        guard x.shape.count == 2 + rank, pads.count == 2 * rank else {
            throw OpError("kernel_shape \(kernel) and pads \(pads) do not fit X \(x.shape)")
        }
        let spatial = (0..<rank).map { (x.shape[2 + $0] - 1) * strides[$0] + kernel[$0] - pads[$0] - pads[rank + $0] }
        return [ValueType(.float32, Array(x.shape[..<2]) + spatial)]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!.floats
        let indices = inputs[1]!.int64s
        let y = outputs[0].floats
        let total = outputs[0].count
        y.initialize(repeating: 0, count: total)
        for i in 0..<inputs[0]!.count {
            let target = Int(indices[i])
            if target >= 0 && target < total { y[target] = x[i] }
        }
    }
}
