// ONNX Reciprocal: 1/x.
import Foundation

public struct Reciprocal: UnaryFunction {
    public init(_ node: NodeSpec) throws {}
    @inline(__always) public func callAsFunction(_ x: Float) -> Float { 1 / x }
}
