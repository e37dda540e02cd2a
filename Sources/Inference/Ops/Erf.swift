// ONNX Erf: the error function.
import Foundation

public struct Erf: UnaryFunction {
    public init(_ node: NodeSpec) throws {}
    @inline(__always) public func callAsFunction(_ x: Float) -> Float { erff(x) }
}
