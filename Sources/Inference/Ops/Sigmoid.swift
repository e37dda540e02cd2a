// ONNX Sigmoid: 1 / (1 + e^-x), with the vectorisable FastMath.exp.
import Foundation

public struct Sigmoid: UnaryFunction {
    public init(_ node: NodeSpec) throws {}
    @inline(__always) public func callAsFunction(_ x: Float) -> Float { FastMath.sigmoid(x) }
    public var fusedActivation: FusedActivation? { .sigmoid }
    /// The loop, specialised for this formula (see UnaryFunction.map).
    public func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = FastMath.sigmoid(x[i]) }
    }
}
