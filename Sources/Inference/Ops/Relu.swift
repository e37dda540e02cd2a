// ONNX Relu: max(x, 0).
import Foundation

public struct Relu: UnaryFunction {
    public init(_ node: NodeSpec) throws {}
    @inline(__always) public func callAsFunction(_ x: Float) -> Float { x > 0 ? x : 0 }
    public var fusedActivation: FusedActivation? { .relu }
}
