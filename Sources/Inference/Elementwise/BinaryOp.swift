// The shared shape of numpy-broadcasting binary ops (Add, Sub, Mul, Div, Pow, comparisons): each op file
// supplies the formula; this class infers the broadcast shape and runs the fast broadcast loop.
import Tensor

public protocol BinaryFunction {
    static func apply(_ a: Float, _ b: Float) -> Float
    /// Integer form (shape arithmetic); nil when the op is float-only.
    static func apply(_ a: Int64, _ b: Int64) -> Int64?
    /// Pow accepts an integer exponent with a float base (converted once per run into the workspace).
    static var acceptsIntegerRightOperand: Bool { get }
    /// The float broadcast loop, written in each conformance so it is specialised for its formula (through the
    /// generic BinaryOp it would otherwise call the formula unspecialised per element).
    static func broadcast(_ a: UnsafePointer<Float>, _ aShape: [Int], _ b: UnsafePointer<Float>, _ bShape: [Int],
                          _ out: UnsafeMutablePointer<Float>, _ outShape: [Int])
}

extension BinaryFunction {
    public static var acceptsIntegerRightOperand: Bool { false }
}

public final class BinaryOp<Function: BinaryFunction>: Operator {
    public private(set) var workspaceBytes = 0
    public init(_ node: NodeSpec) throws {}

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let a = try inputs.required(0)
        let b = try inputs.required(1)
        if Function.acceptsIntegerRightOperand, a.dtype == .float32, b.dtype == .int64 || b.dtype == .int32 {
            workspaceBytes = b.count * 4
            return [ValueType(.float32, try broadcastShape(a.shape, b.shape))]
        }
        guard a.dtype == b.dtype else { throw OpError("operand dtypes differ: \(a.dtype) and \(b.dtype)") }
        switch a.dtype {
        case .float32: break
        case .int64, .int32:
            guard Function.apply(Int64(1), Int64(1)) != nil else { throw OpError.unsupported("\(a.dtype) operands") }
        case .bool: throw OpError.unsupported("bool operands")
        }
        return [ValueType(a.dtype, try broadcastShape(a.shape, b.shape))]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let a = inputs[0]!
        var b = inputs[1]!
        let out = outputs[0]
        if out.dtype == .float32 && b.dtype != .float32 {
            let converted = workspace.assumingMemoryBound(to: Float.self)
            for i in 0..<b.count {
                converted[i] = b.dtype == .int64 ? Float(b.int64s[i])
                    : Float(b.data.assumingMemoryBound(to: Int32.self)[i])
            }
            b = TensorRef(data: workspace, type: ValueType(.float32, b.shape))
        }
        switch out.dtype {
        case .float32:
            Function.broadcast(a.floats, a.shape, b.floats, b.shape, out.floats, out.shape)
        case .int64:
            FastBroadcast.binary(a.int64s, a.shape, b.int64s, b.shape, out.int64s, out.shape) {
                Function.apply($0, $1) ?? 0
            }
        case .int32:
            let pa = a.data.assumingMemoryBound(to: Int32.self)
            let pb = b.data.assumingMemoryBound(to: Int32.self)
            let po = out.data.assumingMemoryBound(to: Int32.self)
            FastBroadcast.binary(pa, a.shape, pb, b.shape, po, out.shape) {
                Int32(truncatingIfNeeded: Function.apply(Int64($0), Int64($1)) ?? 0)
            }
        case .bool:
            break
        }
    }
}

/// Comparisons produce bool tensors (1 byte per element).
public protocol ComparisonFunction {
    static func compare(_ a: Float, _ b: Float) -> Bool
    static func compare(_ a: Int64, _ b: Int64) -> Bool
}

public final class ComparisonOp<Function: ComparisonFunction>: Operator {
    public init(_ node: NodeSpec) throws {}

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let a = try inputs.required(0)
        let b = try inputs.required(1)
        guard a.dtype == b.dtype else { throw OpError("operand dtypes differ: \(a.dtype) and \(b.dtype)") }
        return [ValueType(.bool, try broadcastShape(a.shape, b.shape))]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let a = inputs[0]!
        let b = inputs[1]!
        let out = outputs[0].data.assumingMemoryBound(to: UInt8.self)
        let shape = outputs[0].shape
        switch a.dtype {
        case .float32:
            FastBroadcast.binary(a.floats, a.shape, b.floats, b.shape, out, shape) {
                Function.compare($0, $1) ? 1 : 0
            }
        case .int64:
            FastBroadcast.binary(a.int64s, a.shape, b.int64s, b.shape, out, shape) {
                Function.compare($0, $1) ? 1 : 0
            }
        case .int32:
            let pa = a.data.assumingMemoryBound(to: Int32.self)
            let pb = b.data.assumingMemoryBound(to: Int32.self)
            FastBroadcast.binary(pa, a.shape, pb, b.shape, out, shape) {
                Function.compare(Int64($0), Int64($1)) ? 1 : 0
            }
        case .bool:
            let pa = a.data.assumingMemoryBound(to: UInt8.self)
            let pb = b.data.assumingMemoryBound(to: UInt8.self)
            FastBroadcast.binary(pa, a.shape, pb, b.shape, out, shape) {
                Function.compare(Int64($0), Int64($1)) ? 1 : 0
            }
        }
    }
}
