// ONNX Log: natural logarithm.
import Foundation

public struct Log: UnaryFunction {
    public init(_ node: NodeSpec) throws {}
    @inline(__always) public func callAsFunction(_ x: Float) -> Float { logf(x) }
}
