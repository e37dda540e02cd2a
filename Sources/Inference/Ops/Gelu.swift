// ONNX Gelu: x·Φ(x) (approximate="none", erf form) or the tanh approximation (opset 20; also com.microsoft).
import Foundation

public struct Gelu: UnaryFunction {
    let useTanh: Bool
    public init(_ node: NodeSpec) throws {
        let approximate = try node.string("approximate", default: "none")
        guard approximate == "none" || approximate == "tanh" else {
            throw OpError.unsupported("approximate=\"\(approximate)\"")
        }
        useTanh = approximate == "tanh"
    }
    @inline(__always) public func callAsFunction(_ x: Float) -> Float {
        if useTanh { return 0.5 * x * (1 + tanhf(0.7978845608 * (x + 0.044715 * x * x * x))) }
        return 0.5 * x * (1 + erff(x * 0.70710678118654752))
    }
    /// The loop, specialised for this formula (see UnaryFunction.map).
    public func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = self(x[i]) }
    }
}
