// The shared shape of float elementwise ops: each op file supplies a `UnaryFunction` (attribute parsing and
import Tensor
// the formula); this class does shape inference (output = input) and the loop, specialised per function.

public protocol UnaryFunction {
    init(_ node: NodeSpec) throws
    func callAsFunction(_ x: Float) -> Float
    /// The activation a preceding convolution can apply instead, if any.
    var fusedActivation: FusedActivation? { get }
    /// y[i] = f(x[i]). A requirement (not just an extension method) so each conformance gets a loop
    /// specialised for its own formula; called through the generic UnaryOp it would otherwise be an
    /// unspecialised call per element.
    func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int)
}

extension UnaryFunction {
    public var fusedActivation: FusedActivation? { nil }

    @inline(__always)
    public func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = self(x[i]) }
    }
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
        function.map(inputs[0]!.floats, outputs[0].floats, count: outputs[0].count)
    }

    public var fusedActivation: FusedActivation? { function.fusedActivation }
}
