// ONNX Pad: constant, reflect or edge padding per axis; negative pads crop (pads from the attribute before
// opset 11, the input after; opset 18 `axes` selects axes).
import Tensor

public final class PadOp: Operator {
    enum Mode: String { case constant, reflect, edge }
    let mode: Mode
    let attributePads: [Int]?
    let attributeValue: Float
    var padsBegin: [Int] = []
    var value: Float = 0

    public init(_ node: NodeSpec) throws {
        let name = try node.string("mode", default: "constant")
        guard let mode = Mode(rawValue: name) else { throw OpError.unsupported("mode \"\(name)\"") }
        self.mode = mode
        attributePads = try node.ints("pads")
        attributeValue = try node.float("value", default: 0)
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        let rank = x.shape.count
        let given = try attributePads ?? constants.constant(1, "pads").integers
        var axes = Array(0..<rank)
        if inputs.optional(3) != nil {
            axes = try constants.constant(3, "axes").integers.map { try normaliseAxis($0, rank: rank) }
        }
        guard given.count == 2 * axes.count else { throw OpError("\(given.count) pads for \(axes.count) axes") }
        padsBegin = Array(repeating: 0, count: rank)
        var padsEnd = padsBegin
        for (i, axis) in axes.enumerated() {
            padsBegin[axis] = given[i]
            padsEnd[axis] = given[i + axes.count]
        }
        value = attributeValue
        if inputs.optional(2) != nil {
            value = try constants.constant(2, "constant_value").floatValues.first ?? 0
        }
        let shape = (0..<rank).map { x.shape[$0] + padsBegin[$0] + padsEnd[$0] }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw OpError("pads crop \(x.shape) below zero") }
        if mode == .reflect || mode == .edge {
            for axis in 0..<rank where (padsBegin[axis] > 0 || padsEnd[axis] > 0) && x.shape[axis] == 0 {
                throw OpError("cannot \(mode) pad an empty axis")
            }
        }
        guard x.dtype == .float32 || mode != .constant || value == 0 else {
            throw OpError.unsupported("non-zero constant padding of \(x.dtype)")
        }
        return [ValueType(x.dtype, shape)]
    }

    /// Input coordinate for output coordinate `o` on an axis of length `n`, or nil for constant padding.
    @inline(__always)
    func source(_ o: Int, begin: Int, n: Int) -> Int? {
        var i = o - begin
        if i >= 0 && i < n { return i }
        if n == 0 { return nil }  // an empty axis has nothing to repeat or reflect
        switch mode {
        case .constant: return nil
        case .edge: return min(max(i, 0), n - 1)
        case .reflect:
            if n == 1 { return 0 }
            let period = 2 * (n - 1)
            i = ((i % period) + period) % period
            return i < n ? i : period - i
        }
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!
        let out = outputs[0]
        let size = x.dtype.byteSize
        let rank = x.shape.count
        let inStrides = contiguousStrides(x.shape)
        let fill = value
        for flat in 0..<out.count {
            var rest = flat
            var offset = 0
            var inside = true
            for axis in stride(from: rank - 1, through: 0, by: -1) {
                let coordinate = rest % out.shape[axis]
                rest /= out.shape[axis]
                guard let i = source(coordinate, begin: padsBegin[axis], n: x.shape[axis]) else {
                    inside = false
                    break
                }
                offset += i * inStrides[axis]
            }
            if inside {
                (out.data + flat * size).copyMemory(from: x.data + offset * size, byteCount: size)
            } else if x.dtype == .float32 {
                out.floats[flat] = fill
            } else {
                (out.data + flat * size).initializeMemory(as: UInt8.self, repeating: 0, count: size)
            }
        }
    }
}
