// ONNX LeakyRelu: x for x ≥ 0, alpha·x below (alpha default 0.01).
import Foundation

public struct LeakyRelu: UnaryFunction {
    let alpha: Float
    public init(_ node: NodeSpec) throws { alpha = try node.float("alpha", default: 0.01) }
    @inline(__always) public func callAsFunction(_ x: Float) -> Float { x >= 0 ? x : alpha * x }
    public var fusedActivation: FusedActivation? { .leakyRelu(alpha) }
    /// The loop, specialised for this formula (see UnaryFunction.map).
    public func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = self(x[i]) }
    }
}
