// ONNX Reshape: new shape from a constant shape input (0 copies a dimension unless allowzero, −1 is inferred).
// Runs without copying: the output aliases the input's buffer.
import Tensor

public final class ReshapeOp: Operator {
    let allowZero: Bool
    public init(_ node: NodeSpec) throws { allowZero = try node.int("allowzero", default: 0) != 0 }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        let requested = try constants.constant(1, "shape").integers
        var shape = requested
        var inferred: Int?
        for (axis, dim) in requested.enumerated() {
            if dim == 0 && !allowZero {
                guard axis < x.shape.count else { throw OpError("shape \(requested) copies missing axis \(axis)") }
                shape[axis] = x.shape[axis]
            } else if dim == -1 {
                guard inferred == nil else { throw OpError("shape \(requested) has more than one -1") }
                inferred = axis
            } else if dim < 0 {
                throw OpError("shape \(requested) has negative dimension \(dim)")
            }
        }
        if let inferred {
            let others = shape.enumerated().filter { $0.offset != inferred }.map(\.element)
            guard let known = checkedElementCount(others), known > 0, x.count % known == 0 else {
                throw OpError("cannot reshape \(x.shape) to \(requested)")
            }
            shape[inferred] = x.count / known
        }
        guard checkedElementCount(shape) == x.count else { throw OpError("cannot reshape \(x.shape) to \(requested)") }
        return [ValueType(x.dtype, shape)]
    }

    public var outputAliasesInput: Bool { true }
    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        copyUnlessAliased(inputs[0]!, outputs[0])
    }
}
