// ONNX ConstantOfShape: a tensor of a constant shape filled with `value` (a one-element tensor, default 0.0f).
import Tensor

public final class ConstantOfShapeOp: Operator {
    let value: Tensor
    public init(_ node: NodeSpec) throws {
        value = try node.tensor("value") ?? Tensor(shape: [1], floats: [0])
        guard value.count == 1 else { throw OpError("value must hold one element") }
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let shape = try constants.constant(0, "shape").integers
        guard shape.allSatisfy({ $0 >= 0 }) else { throw OpError("negative dimension in \(shape)") }
        return [ValueType(value.dtype, shape)]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let size = value.dtype.byteSize
        for i in 0..<outputs[0].count {
            (outputs[0].data + i * size).copyMemory(from: value.rawPointer, byteCount: size)
        }
    }
}
