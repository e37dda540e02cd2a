// ONNX Squeeze: removes unit axes (axes from the attribute before opset 13, the input after; none = all units).
import Tensor

public final class SqueezeOp: Operator {
    let attributeAxes: [Int]?
    public init(_ node: NodeSpec) throws { attributeAxes = try node.ints("axes") }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        let rank = x.shape.count
        var axes: [Int]
        if let attributeAxes {
            axes = attributeAxes
        } else if inputs.optional(1) != nil {
            axes = try constants.constant(1, "axes").integers
        } else {
            axes = x.shape.indices.filter { x.shape[$0] == 1 }
        }
        axes = try axes.map { try normaliseAxis($0, rank: rank) }
        for axis in axes where x.shape[axis] != 1 {
            throw OpError("cannot squeeze axis \(axis) of size \(x.shape[axis]) in \(x.shape)")
        }
        let shape = x.shape.indices.filter { !axes.contains($0) }.map { x.shape[$0] }
        return [ValueType(x.dtype, shape)]
    }

    public var outputAliasesInput: Bool { true }
    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        copyUnlessAliased(inputs[0]!, outputs[0])
    }
}
