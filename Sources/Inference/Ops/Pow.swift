// ONNX Pow: a^b with numpy broadcasting (float32; exponent 2 and 0.5 are exact fast cases).
import Foundation

public enum Pow: BinaryFunction {
    @inline(__always) public static func apply(_ a: Float, _ b: Float) -> Float {
        if b == 2 { return a * a }
        if b == 1 { return a }
        if b == 0.5 { return a.squareRoot() }
        return powf(a, b)
    }
    public static func apply(_ a: Int64, _ b: Int64) -> Int64? { nil }
    public static var acceptsIntegerRightOperand: Bool { true }
    public static func broadcast(_ a: UnsafePointer<Float>, _ aShape: [Int], _ b: UnsafePointer<Float>,
                                 _ bShape: [Int], _ out: UnsafeMutablePointer<Float>, _ outShape: [Int]) {
        FastBroadcast.binary(a, aShape, b, bShape, out, outShape) { apply($0, $1) }
    }
}
