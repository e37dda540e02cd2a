// ONNX Elu: x for x > 0, alpha·(e^x − 1) otherwise (alpha default 1).
import Foundation

public struct Elu: UnaryFunction {
    let alpha: Float
    public init(_ node: NodeSpec) throws { alpha = try node.float("alpha", default: 1) }
    @inline(__always) public func callAsFunction(_ x: Float) -> Float { x > 0 ? x : alpha * (expf(x) - 1) }
    /// The loop, specialised for this formula (see UnaryFunction.map).
    public func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = self(x[i]) }
    }
}
