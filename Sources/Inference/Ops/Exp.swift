// ONNX Exp: e^x.
import Foundation

public struct Exp: UnaryFunction {
    public init(_ node: NodeSpec) throws {}
    @inline(__always) public func callAsFunction(_ x: Float) -> Float { expf(x) }
}
