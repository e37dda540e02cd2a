// ONNX Where: condition ? x : y with three-way numpy broadcasting (plain index arithmetic; shape-sized work).
import Tensor

public final class WhereOp: Operator {
    var strides: [[Int]] = []
    public init(_ node: NodeSpec) throws {}

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let condition = try inputs.required(0)
        let x = try inputs.required(1)
        let y = try inputs.required(2)
        guard condition.dtype == .bool, x.dtype == y.dtype else { throw OpError("Where needs bool, T, T") }
        let shape = try broadcastShape(try broadcastShape(condition.shape, x.shape), y.shape)
        strides = [condition, x, y].map { broadcastStrides($0.shape, to: shape) }
        return [ValueType(x.dtype, shape)]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let out = outputs[0]
        let size = out.dtype.byteSize
        let condition = inputs[0]!.data.assumingMemoryBound(to: UInt8.self)
        for flat in 0..<out.count {
            var rest = flat
            var offsets = (0, 0, 0)
            for axis in stride(from: out.shape.count - 1, through: 0, by: -1) {
                let coordinate = rest % out.shape[axis]
                rest /= out.shape[axis]
                offsets.0 += coordinate * strides[0][axis]
                offsets.1 += coordinate * strides[1][axis]
                offsets.2 += coordinate * strides[2][axis]
            }
            let source = condition[offsets.0] != 0 ? inputs[1]!.data + offsets.1 * size
                : inputs[2]!.data + offsets.2 * size
            (out.data + flat * size).copyMemory(from: source, byteCount: size)
        }
    }
}
