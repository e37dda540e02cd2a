// ONNX Shape: the input's shape as int64 (opset 15 start/end select a range). Shapes are static after load,
// so this always folds to a constant, which lets Gather/Concat/Reshape chains behind it fold too.
import Tensor

public final class ShapeOp: Operator {
    let start: Int
    let end: Int?
    public init(_ node: NodeSpec) throws {
        start = try node.int("start", default: 0)
        end = node.has("end") ? try node.int("end") : nil
    }

    func range(rank: Int) -> Range<Int> {
        func clamp(_ value: Int) -> Int { min(max(value < 0 ? value + rank : value, 0), rank) }
        let from = clamp(start)
        let to = clamp(end ?? rank)
        return from..<max(from, to)
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        return [ValueType(.int64, [range(rank: x.shape.count).count])]
    }

    public func constantOutputs(_ inputs: [ValueType?]) -> [Tensor]? {
        guard let x = inputs.first ?? nil else { return nil }
        let dims = x.shape[range(rank: x.shape.count)].map { Int64($0) }
        return [Tensor(shape: [dims.count], int64s: dims)]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let shape = inputs[0]!.shape
        for (i, dim) in shape[range(rank: shape.count)].enumerated() { outputs[0].int64s[i] = Int64(dim) }
    }
}
