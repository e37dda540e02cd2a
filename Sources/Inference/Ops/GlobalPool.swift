// ONNX GlobalAveragePool and GlobalMaxPool: one value per (batch, channel) plane, any number of spatial dims.
import Kernels
import Tensor

public final class GlobalPoolOp: Operator {
    let average: Bool
    var planes = 0
    var planeSize = 0

    public init(_ node: NodeSpec, average: Bool) throws { self.average = average }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        try requireFloat(x)
        guard x.shape.count >= 3 else { throw OpError("input \(x.shape) has no spatial dims") }
        planes = x.shape[0] * x.shape[1]
        planeSize = x.shape[2...].reduce(1, *)
        return [ValueType(.float32, Array(x.shape[..<2]) + Array(repeating: 1, count: x.shape.count - 2))]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        if average {
            Pooling.globalAverage(planes: planes, planeSize: planeSize, input: inputs[0]!.floats,
                                  output: outputs[0].floats)
        } else {
            Pooling.globalMax(planes: planes, planeSize: planeSize, input: inputs[0]!.floats, output: outputs[0].floats)
        }
    }
}
