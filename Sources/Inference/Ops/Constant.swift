// ONNX Constant: a tensor from `value` (or value_float(s)/value_int(s)); always folded at load.
import Tensor

public final class ConstantOp: Operator {
    let value: Tensor

    public init(_ node: NodeSpec) throws {
        if let tensor = try node.tensor("value") {
            value = tensor
        } else if case .float(let number)? = node.attributes["value_float"] {
            value = Tensor(shape: [], floats: [number])
        } else if let numbers = try node.floats("value_floats") {
            value = Tensor(shape: [numbers.count], floats: numbers)
        } else if case .int(let number)? = node.attributes["value_int"] {
            value = Tensor(shape: [], int64s: [Int64(number)])
        } else if let numbers = try node.ints("value_ints") {
            value = Tensor(shape: [numbers.count], int64s: numbers.map { Int64($0) })
        } else if node.has("sparse_value") || node.has("value_string") || node.has("value_strings") {
            throw OpError.unsupported("sparse or string constants")
        } else {
            throw OpError("no value attribute")
        }
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        [ValueType(value.dtype, value.shape)]
    }

    public func constantOutputs(_ inputs: [ValueType?]) -> [Tensor]? { [value] }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        outputs[0].data.copyMemory(from: value.rawPointer, byteCount: value.byteCount)
    }
}
