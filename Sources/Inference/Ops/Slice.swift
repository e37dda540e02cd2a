// ONNX Slice: per-axis start/end/step (inputs from opset 10, attributes before), clamped as numpy does;
// runs as a strided gather.
import Tensor

public final class SliceOp: Operator {
    let attributes: (starts: [Int]?, ends: [Int]?, axes: [Int]?)
    var base = 0
    var gatherStrides: [Int] = []

    public init(_ node: NodeSpec) throws {
        attributes = (try node.ints("starts"), try node.ints("ends"), try node.ints("axes"))
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        let rank = x.shape.count
        let starts: [Int]
        let ends: [Int]
        var axes: [Int]?
        var steps: [Int]?
        if let attributeStarts = attributes.starts, let attributeEnds = attributes.ends {
            starts = attributeStarts
            ends = attributeEnds
            axes = attributes.axes
        } else {
            starts = try constants.constant(1, "starts").integers
            ends = try constants.constant(2, "ends").integers
            if inputs.optional(3) != nil { axes = try constants.constant(3, "axes").integers }
            if inputs.optional(4) != nil { steps = try constants.constant(4, "steps").integers }
        }
        let resolvedAxes = try (axes ?? Array(0..<starts.count)).map { try normaliseAxis($0, rank: rank) }
        let stepList = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, resolvedAxes.count == starts.count, stepList.count == starts.count else {
            throw OpError("starts, ends, axes and steps differ in length")
        }
        var shape = x.shape
        let strides = contiguousStrides(x.shape)
        gatherStrides = strides
        base = 0
        for (i, axis) in resolvedAxes.enumerated() {
            let dim = x.shape[axis]
            let step = stepList[i]
            guard step != 0 else { throw OpError("slice step 0") }
            var start = starts[i] < 0 ? starts[i] + dim : starts[i]
            var end = ends[i] < 0 ? ends[i] + dim : ends[i]
            if step > 0 {
                start = min(max(start, 0), dim)
                end = min(max(end, 0), dim)
                shape[axis] = end > start ? (end - start + step - 1) / step : 0
            } else {
                start = min(max(start, 0), dim - 1)
                end = min(max(end, -1), dim - 1)
                shape[axis] = start > end ? (start - end - step - 1) / -step : 0
            }
            base += (shape[axis] > 0 ? start : 0) * strides[axis]
            gatherStrides[axis] = strides[axis] * step
        }
        return [ValueType(x.dtype, shape)]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!
        stridedGather(x.dtype, input: x.data, base: base, strides: gatherStrides, shape: outputs[0].shape,
                      output: outputs[0].data)
    }
}
