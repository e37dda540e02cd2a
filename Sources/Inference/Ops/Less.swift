// ONNX Less: a < b elementwise with broadcasting, bool output.
import Foundation

public enum Less: ComparisonFunction {
    public static func compare(_ a: Float, _ b: Float) -> Bool { a < b }
    public static func compare(_ a: Int64, _ b: Int64) -> Bool { a < b }
}
