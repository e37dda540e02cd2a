// ONNX Sigmoid: 1 / (1 + e^-x).
import Foundation

public struct Sigmoid: UnaryFunction {
    public init(_ node: NodeSpec) throws {}
    @inline(__always) public func callAsFunction(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
    public var fusedActivation: FusedActivation? { .sigmoid }
}
