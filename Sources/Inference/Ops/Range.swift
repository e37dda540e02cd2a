// ONNX Range: start, start+delta, ... below limit; the inputs must be constants (the length is a shape).
import Foundation
import Tensor

public final class RangeOp: Operator {
    var values: Tensor?
    public init(_ node: NodeSpec) throws {}

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let start = try constants.constant(0, "start")
        let limit = try constants.constant(1, "limit")
        let delta = try constants.constant(2, "delta")
        guard start.count == 1, limit.count == 1, delta.count == 1, start.dtype == delta.dtype else {
            throw OpError("start, limit and delta must be scalars of one type")
        }
        let (s, l, d) = (start.floatValues[0], limit.floatValues[0], delta.floatValues[0])
        guard d != 0, s.isFinite, l.isFinite, d.isFinite else { throw OpError("start \(s), limit \(l), delta \(d)") }
        let count = max(0, Int(saturating: ceil((Double(l) - Double(s)) / Double(d))))
        try checkInferredShape([count], "Range output")
        if start.dtype == .float32 {
            values = Tensor(shape: [count], floats: (0..<count).map { s + Float($0) * d })
        } else {
            let (si, di) = (Int64(start.integers[0]), Int64(delta.integers[0]))
            values = Tensor(shape: [count], int64s: (0..<count).map { si &+ Int64($0) &* di })
            if start.dtype == .int32 {
                values = Tensor(shape: [count], int32s: values!.int64s.map { Int32(truncatingIfNeeded: $0) })
            }
        }
        return [ValueType(values!.dtype, [count])]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        if let values { outputs[0].data.copyMemory(from: values.rawPointer, byteCount: values.byteCount) }
    }
}
