// ONNX Mul: a · b with numpy broadcasting (float32, int64, int32).
import Foundation

public enum Mul: BinaryFunction {
    @inline(__always) public static func apply(_ a: Float, _ b: Float) -> Float { a * b }
    @inline(__always) public static func apply(_ a: Int64, _ b: Int64) -> Int64? { a &* b }
}
