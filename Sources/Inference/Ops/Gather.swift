// ONNX Gather: takes slices of `data` along `axis` at `indices` (int64 or int32, negative counts from the end).
import Tensor

public final class GatherOp: Operator {
    let axis: Int
    var resolvedAxis = 0

    public init(_ node: NodeSpec) throws { axis = try node.int("axis", default: 0) }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let data = try inputs.required(0)
        let indices = try inputs.required(1)
        guard indices.dtype == .int64 || indices.dtype == .int32 else {
            throw OpError.unsupported("indices of dtype \(indices.dtype)")
        }
        resolvedAxis = try normaliseAxis(axis, rank: data.shape.count)
        if let known = constants.optionalConstant(1) {
            let dim = data.shape[resolvedAxis]
            for index in known.integers where index < -dim || index >= dim {
                throw OpError("index \(index) out of range for axis of size \(dim)")
            }
        }
        let shape = Array(data.shape[..<resolvedAxis]) + indices.shape + Array(data.shape[(resolvedAxis + 1)...])
        return [ValueType(data.dtype, shape)]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let data = inputs[0]!
        let indices = inputs[1]!
        let size = data.dtype.byteSize
        let outer = data.shape[..<resolvedAxis].reduce(1, *)
        let dim = data.shape[resolvedAxis]
        let inner = data.shape[(resolvedAxis + 1)...].reduce(1, *) * size
        let count = indices.count
        let out = outputs[0].data
        for o in 0..<outer {
            for i in 0..<count {
                var index = indices.dtype == .int64 ? Int(indices.int64s[i])
                    : Int(indices.data.assumingMemoryBound(to: Int32.self)[i])
                if index < 0 { index += dim }
                // Out-of-range runtime indices read nothing (zeros) rather than memory outside the tensor.
                let destination = out + (o * count + i) * inner
                if index < 0 || index >= dim {
                    destination.initializeMemory(as: UInt8.self, repeating: 0, count: inner)
                } else {
                    destination.copyMemory(from: data.data + (o * dim + index) * inner, byteCount: inner)
                }
            }
        }
    }
}
