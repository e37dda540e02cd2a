// ONNX Concat: joins inputs along one axis (any dtype) as a sequence of block copies.
import Tensor

public final class ConcatOp: Operator {
    let axis: Int
    var resolvedAxis = 0
    public init(_ node: NodeSpec) throws { axis = try node.int("axis") }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let present = inputs.compactMap { $0 }
        guard let first = present.first else { throw OpError("no inputs") }
        resolvedAxis = try normaliseAxis(axis, rank: first.shape.count)
        var shape = first.shape
        shape[resolvedAxis] = 0
        for input in present {
            guard input.dtype == first.dtype, input.shape.count == first.shape.count else {
                throw OpError("inputs \(present) differ in dtype or rank")
            }
            for d in 0..<shape.count where d != resolvedAxis && input.shape[d] != first.shape[d] {
                throw OpError("inputs \(present) differ outside axis \(axis)")
            }
            shape[resolvedAxis] += input.shape[resolvedAxis]
        }
        return [ValueType(first.dtype, shape)]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let out = outputs[0]
        let size = out.dtype.byteSize
        let outer = out.shape[..<resolvedAxis].reduce(1, *)
        let inner = out.shape[(resolvedAxis + 1)...].reduce(1, *) * size
        let outRow = out.shape[resolvedAxis] * inner
        var column = 0
        for case let input? in inputs {
            let chunk = input.shape[resolvedAxis] * inner
            guard chunk > 0 else { continue }
            for o in 0..<outer {
                (out.data + o * outRow + column).copyMemory(from: input.data + o * chunk, byteCount: chunk)
            }
            column += chunk
        }
    }
}
