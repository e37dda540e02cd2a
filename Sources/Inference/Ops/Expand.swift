// ONNX Expand: broadcasts the input to a constant shape (numpy rules, so 1s in the shape keep input dims).
import Tensor

public final class ExpandOp: Operator {
    var gatherStrides: [Int] = []
    public init(_ node: NodeSpec) throws {}

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        let shape = try broadcastShape(x.shape, try constants.constant(1, "shape").integers)
        gatherStrides = broadcastStrides(x.shape, to: shape)
        return [ValueType(x.dtype, shape)]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!
        stridedGather(x.dtype, input: x.data, base: 0, strides: gatherStrides, shape: outputs[0].shape,
                      output: outputs[0].data)
    }
}
