// ONNX Split: cuts one axis into parts (sizes from the attribute before opset 13, the input after, or equal
// parts; opset 18 `num_outputs` makes the last part smaller when the axis does not divide).
import Tensor

public final class SplitOp: Operator {
    let axis: Int
    let attributeSplit: [Int]?
    let numOutputs: Int?
    let outputCount: Int
    var resolvedAxis = 0
    var sizes: [Int] = []

    public init(_ node: NodeSpec) throws {
        axis = try node.int("axis", default: 0)
        attributeSplit = try node.ints("split")
        numOutputs = node.has("num_outputs") ? try node.int("num_outputs") : nil
        outputCount = node.outputs.count
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        resolvedAxis = try normaliseAxis(axis, rank: x.shape.count)
        let length = x.shape[resolvedAxis]
        if let attributeSplit {
            sizes = attributeSplit
        } else if inputs.optional(1) != nil {
            sizes = try constants.constant(1, "split").integers
        } else {
            let parts = numOutputs ?? outputCount
            guard parts > 0 else { throw OpError("no outputs") }
            let chunk = (length + parts - 1) / parts
            if numOutputs == nil && length % parts != 0 {
                throw OpError("axis of length \(length) does not split into \(parts) equal parts")
            }
            sizes = (0..<parts).map { max(0, min(chunk, length - $0 * chunk)) }
        }
        guard sizes.reduce(0, +) == length, sizes.allSatisfy({ $0 >= 0 }) else {
            throw OpError("split sizes \(sizes) do not add up to \(length)")
        }
        return sizes.map { size in
            var shape = x.shape
            shape[resolvedAxis] = size
            return ValueType(x.dtype, shape)
        }
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!
        let size = x.dtype.byteSize
        let outer = x.shape[..<resolvedAxis].reduce(1, *)
        let inner = x.shape[(resolvedAxis + 1)...].reduce(1, *) * size
        let row = x.shape[resolvedAxis] * inner
        var column = 0
        for (part, output) in outputs.enumerated() {
            let chunk = sizes[part] * inner
            if chunk > 0 {
                for o in 0..<outer {
                    (output.data + o * chunk).copyMemory(from: x.data + o * row + column, byteCount: chunk)
                }
            }
            column += chunk
        }
    }
}
