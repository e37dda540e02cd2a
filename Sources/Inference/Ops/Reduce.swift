// ONNX ReduceMean / ReduceMax / ReduceSum / ReduceMin / ReduceProd: reduce over axes (attribute, or input
// from opset 13 for ReduceSum and opset 18 for the rest), keepdims, noop_with_empty_axes.
import Tensor

public final class ReduceOp: Operator {
    public enum Kind: Sendable { case mean, max, sum, min, prod }
    let kind: Kind
    let keepDims: Bool
    let noopWithEmptyAxes: Bool
    let attributeAxes: [Int]?
    var reduced: [Bool] = []
    var identity = false

    public init(_ node: NodeSpec, kind: Kind) throws {
        self.kind = kind
        keepDims = try node.int("keepdims", default: 1) != 0
        noopWithEmptyAxes = try node.int("noop_with_empty_axes", default: 0) != 0
        attributeAxes = try node.ints("axes")
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        guard x.dtype == .float32 || kind == .max || kind == .min || kind == .sum else {
            throw OpError.unsupported("\(x.dtype) input")
        }
        guard x.dtype == .float32 || x.dtype == .int64 else { throw OpError.unsupported("\(x.dtype) input") }
        let rank = x.shape.count
        var axes = attributeAxes ?? []
        if attributeAxes == nil, inputs.optional(1) != nil {
            axes = try constants.constant(1, "axes").integers
        }
        identity = axes.isEmpty && noopWithEmptyAxes
        if axes.isEmpty && !noopWithEmptyAxes { axes = Array(0..<rank) }
        let resolved = Set(try axes.map { try normaliseAxis($0, rank: rank) })
        reduced = (0..<rank).map { resolved.contains($0) }
        var shape: [Int] = []
        for axis in 0..<rank {
            if !reduced[axis] { shape.append(x.shape[axis]) } else if keepDims { shape.append(1) }
        }
        return [ValueType(x.dtype, shape)]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!
        let out = outputs[0]
        if identity {
            out.data.copyMemory(from: x.data, byteCount: out.type.byteCount)
            return
        }
        // Output strides laid over the input's axes (0 where reduced), then one pass over the input.
        var keptShape = x.shape
        for axis in reduced.indices where reduced[axis] { keptShape[axis] = 1 }
        let keptStrides = contiguousStrides(keptShape).enumerated().map { reduced[$0.offset] ? 0 : $0.element }
        let outCount = out.count
        let perOutput = outCount == 0 ? 0 : x.count / outCount
        if x.dtype == .int64 {
            let o = out.int64s
            let initial: Int64 = kind == .max ? .min : kind == .min ? .max : 0
            for i in 0..<outCount { o[i] = initial }
            visit(x.shape, keptStrides) { flat, target in
                let v = x.int64s[flat]
                switch kind {
                case .max: o[target] = Swift.max(o[target], v)
                case .min: o[target] = Swift.min(o[target], v)
                default: o[target] &+= v
                }
            }
            return
        }
        let o = out.floats
        let initial: Float = kind == .max ? -.infinity : kind == .min ? .infinity : kind == .prod ? 1 : 0
        for i in 0..<outCount { o[i] = initial }
        let v = x.floats
        switch kind {
        case .max: visit(x.shape, keptStrides) { flat, target in o[target] = Swift.max(o[target], v[flat]) }
        case .min: visit(x.shape, keptStrides) { flat, target in o[target] = Swift.min(o[target], v[flat]) }
        case .prod: visit(x.shape, keptStrides) { flat, target in o[target] *= v[flat] }
        case .sum, .mean: visit(x.shape, keptStrides) { flat, target in o[target] += v[flat] }
        }
        if kind == .mean && perOutput > 0 {
            let scale = 1 / Float(perOutput)
            for i in 0..<outCount { o[i] *= scale }
        }
    }

    /// Calls `body(inputIndex, outputIndex)` for every input element, in input order.
    @inline(__always)
    private func visit(_ shape: [Int], _ targetStrides: [Int], _ body: (Int, Int) -> Void) {
        let rank = shape.count
        let total = shape.reduce(1, *)
        guard total > 0 else { return }
        if rank == 0 {
            body(0, 0)
            return
        }
        let inner = shape[rank - 1]
        let innerStride = targetStrides[rank - 1]
        guard inner > 0 else { return }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: rank) { counter in
            counter.initialize(repeating: 0)
            var target = 0
            var flat = 0
            while flat < total {
                for j in 0..<inner { body(flat + j, target + j * innerStride) }
                flat += inner
                var axis = rank - 2
                while axis >= 0 {
                    counter[axis] += 1
                    target += targetStrides[axis]
                    if counter[axis] < shape[axis] { break }
                    target -= targetStrides[axis] * shape[axis]
                    counter[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}
