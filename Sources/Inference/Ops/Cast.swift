// ONNX Cast between float32, int64, int32 and bool (the types the engine stores; `to` uses ONNX codes).
import Tensor

public final class CastOp: Operator {
    let target: DType
    public init(_ node: NodeSpec) throws {
        let code = try node.int("to")
        switch code {
        case 1, 10, 11, 16: target = .float32
        case 7, 12, 13: target = .int64
        case 6, 2, 3, 4, 5: target = .int32
        case 9: target = .bool
        default: throw OpError.unsupported("cast to ONNX data type \(code)")
        }
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        [ValueType(target, try inputs.required(0).shape)]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!
        let out = outputs[0]
        func load(_ i: Int) -> Double {
            switch x.dtype {
            case .float32: return Double(x.floats[i])
            case .int64: return Double(x.int64s[i])
            case .int32: return Double(x.data.assumingMemoryBound(to: Int32.self)[i])
            case .bool: return Double(x.data.assumingMemoryBound(to: UInt8.self)[i])
            }
        }
        for i in 0..<x.count {
            switch target {
            case .float32:
                out.floats[i] = x.dtype == .float32 ? x.floats[i] : Float(load(i))
            case .int64:
                // Saturating: NaN, ±inf and out-of-range floats (in a file or in the data) must not trap.
                out.int64s[i] = x.dtype == .int64 ? x.int64s[i] : Int64(Int(saturating: load(i)))
            case .int32:
                out.data.assumingMemoryBound(to: Int32.self)[i] = Int32(truncatingIfNeeded: Int(saturating: load(i)))
            case .bool:
                out.data.assumingMemoryBound(to: UInt8.self)[i] = load(i) != 0 ? 1 : 0
            }
        }
    }
}
