// ONNX Sub: a − b with numpy broadcasting (float32, int64, int32).
import Foundation

public enum Sub: BinaryFunction {
    @inline(__always) public static func apply(_ a: Float, _ b: Float) -> Float { a - b }
    @inline(__always) public static func apply(_ a: Int64, _ b: Int64) -> Int64? { a &- b }
    public static func broadcast(_ a: UnsafePointer<Float>, _ aShape: [Int], _ b: UnsafePointer<Float>,
                                 _ bShape: [Int], _ out: UnsafeMutablePointer<Float>, _ outShape: [Int]) {
        FastBroadcast.binary(a, aShape, b, bShape, out, outShape) { apply($0, $1) }
    }
}
