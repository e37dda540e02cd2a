// ONNX Div: a / b with numpy broadcasting; integer division truncates toward zero as in ONNX Runtime.
import Foundation

public enum Div: BinaryFunction {
    @inline(__always) public static func apply(_ a: Float, _ b: Float) -> Float { a / b }
    @inline(__always) public static func apply(_ a: Int64, _ b: Int64) -> Int64? {
        b == 0 ? 0 : a.dividedReportingOverflow(by: b).partialValue  // Int64.min / -1 wraps (ONNX leaves it undefined)
    }
    public static func broadcast(_ a: UnsafePointer<Float>, _ aShape: [Int], _ b: UnsafePointer<Float>,
                                 _ bShape: [Int], _ out: UnsafeMutablePointer<Float>, _ outShape: [Int]) {
        FastBroadcast.binary(a, aShape, b, bShape, out, outShape) { apply($0, $1) }
    }
}
