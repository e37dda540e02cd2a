// ONNX Neg: −x.
import Foundation

public struct Neg: UnaryFunction {
    public init(_ node: NodeSpec) throws {}
    @inline(__always) public func callAsFunction(_ x: Float) -> Float { -x }
}
