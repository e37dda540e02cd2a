// ONNX Tanh: hyperbolic tangent.
import Foundation

public struct Tanh: UnaryFunction {
    public init(_ node: NodeSpec) throws {}
    @inline(__always) public func callAsFunction(_ x: Float) -> Float { tanhf(x) }
}
