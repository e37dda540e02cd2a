// ONNX Dropout in inference: output = input, optional mask all true. training_mode must not be a true constant.
import Tensor

public final class DropoutOp: Operator {
    public init(_ node: NodeSpec) throws {}

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        if inputs.optional(2) != nil {
            guard let training = constants.optionalConstant(2) else {
                throw OpError.unsupported("training_mode must be a constant (inference only)")
            }
            guard training.integers.allSatisfy({ $0 == 0 }) else {
                throw OpError.unsupported("training_mode = true (inference only)")
            }
        }
        return [x, ValueType(.bool, x.shape)]
    }

    public var outputAliasesInput: Bool { true }
    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        copyUnlessAliased(inputs[0]!, outputs[0])
        if outputs.count > 1 {
            outputs[1].data.initializeMemory(as: UInt8.self, repeating: 1, count: outputs[1].count)
        }
    }
}
