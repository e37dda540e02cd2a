// The shared shape of float elementwise ops: each op file supplies a `UnaryFunction` (attribute parsing and
import Tensor
// the formula); this class does shape inference (output = input) and the loop, specialised per function.

public protocol UnaryFunction {
    init(_ node: NodeSpec) throws
    func callAsFunction(_ x: Float) -> Float
    /// The activation a preceding convolution can apply instead, if any.
    var fusedActivation: FusedActivation? { get }
}

extension UnaryFunction {
    public var fusedActivation: FusedActivation? { nil }
}

public final class UnaryOp<Function: UnaryFunction>: Operator, FusableActivation {
    let function: Function

    public init(_ node: NodeSpec) throws { function = try Function(node) }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        try requireFloat(x)
        return [x]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!.floats
        let y = outputs[0].floats
        let f = function
        for i in 0..<outputs[0].count { y[i] = f(x[i]) }
    }

    public var fusedActivation: FusedActivation? { function.fusedActivation }
}
