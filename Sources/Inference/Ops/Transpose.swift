// ONNX Transpose: permutes axes (default: reversed) with a strided gather.
import Tensor

public final class TransposeOp: Operator {
    let requestedPerm: [Int]?
    var perm: [Int] = []
    var gatherStrides: [Int] = []

    public init(_ node: NodeSpec) throws { requestedPerm = try node.ints("perm") }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        let rank = x.shape.count
        perm = requestedPerm ?? Array((0..<rank).reversed())
        guard perm.count == rank, Set(perm) == Set(0..<rank) else {
            throw OpError("perm \(perm) is not a permutation of \(rank) axes")
        }
        let strides = contiguousStrides(x.shape)
        gatherStrides = perm.map { strides[$0] }
        return [ValueType(x.dtype, perm.map { x.shape[$0] })]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!
        stridedGather(x.dtype, input: x.data, base: 0, strides: gatherStrides, shape: outputs[0].shape,
                      output: outputs[0].data)
    }
}
