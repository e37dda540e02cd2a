// ONNX HardSigmoid: max(0, min(1, alpha·x + beta)), alpha 0.2, beta 0.5 by default.
import Foundation

public struct HardSigmoid: UnaryFunction {
    let alpha: Float
    let beta: Float
    public init(_ node: NodeSpec) throws {
        alpha = try node.float("alpha", default: 0.2)
        beta = try node.float("beta", default: 0.5)
    }
    @inline(__always) public func callAsFunction(_ x: Float) -> Float { max(0, min(1, alpha * x + beta)) }
    /// The loop, specialised for this formula (see UnaryFunction.map).
    public func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = self(x[i]) }
    }
}
