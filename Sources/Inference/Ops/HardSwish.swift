// ONNX HardSwish: x · max(0, min(1, x/6 + 1/2)).
import Foundation

public struct HardSwish: UnaryFunction {
    public init(_ node: NodeSpec) throws {}
    @inline(__always) public func callAsFunction(_ x: Float) -> Float { x * max(0, min(1, x / 6 + 0.5)) }
    public var fusedActivation: FusedActivation? { .hardSwish }
    /// The loop, specialised for this formula (see UnaryFunction.map).
    public func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = self(x[i]) }
    }
}
