// ONNX Identity: the input unchanged; aliases the input.
import Tensor

public final class IdentityOp: Operator {
    public init(_ node: NodeSpec) throws {}
    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] { [try inputs.required(0)] }
    public var outputAliasesInput: Bool { true }
    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        copyUnlessAliased(inputs[0]!, outputs[0])
    }
}
