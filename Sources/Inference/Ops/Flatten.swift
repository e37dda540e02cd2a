// ONNX Flatten: [d0..d(axis-1)] × [d(axis)..] as a 2-D tensor; aliases the input.
import Tensor

public final class FlattenOp: Operator {
    let axis: Int
    public init(_ node: NodeSpec) throws { axis = try node.int("axis", default: 1) }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        let resolved = axis < 0 ? axis + x.shape.count : axis
        guard resolved >= 0, resolved <= x.shape.count else {
            throw OpError("axis \(axis) out of range for \(x.shape)")
        }
        let outer = x.shape[..<resolved].reduce(1, *)
        return [ValueType(x.dtype, [outer, x.shape[resolved...].reduce(1, *)])]
    }

    public var outputAliasesInput: Bool { true }
    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        copyUnlessAliased(inputs[0]!, outputs[0])
    }
}
