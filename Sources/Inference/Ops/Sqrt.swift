// ONNX Sqrt: square root.
import Foundation

public struct Sqrt: UnaryFunction {
    public init(_ node: NodeSpec) throws {}
    @inline(__always) public func callAsFunction(_ x: Float) -> Float { x.squareRoot() }
}
