// ONNX Abs: |x|.
import Foundation

public struct Abs: UnaryFunction {
    public init(_ node: NodeSpec) throws {}
    @inline(__always) public func callAsFunction(_ x: Float) -> Float { abs(x) }
}
