// ONNX BatchNormalization (inference): y = (x − mean) / sqrt(var + ε) · scale + B per channel (axis 1).
// With constant statistics it is a per-channel affine map, which the session folds into a preceding Conv.
import Foundation
import Tensor

public final class BatchNormalizationOp: Operator, ChannelAffine {
    let epsilon: Float
    var scale: [Float] = []
    var shift: [Float] = []
    var constantStatistics = false
    var channels = 0
    var plane = 0

    public init(_ node: NodeSpec) throws {
        epsilon = try node.float("epsilon", default: 1e-5)
        if try node.int("training_mode", default: 0) != 0 { throw OpError.unsupported("training_mode = 1") }
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        try requireFloat(x)
        guard x.shape.count >= 2 else { throw OpError("input \(x.shape) has no channel axis") }
        channels = x.shape[1]
        plane = x.shape[2...].reduce(1, *)
        for index in 1...4 {
            let parameter = try inputs.required(index)
            guard parameter.count == channels else {
                throw OpError("parameter \(index) has \(parameter.count) values for \(channels) channels")
            }
        }
        if let gamma = constants.optionalConstant(1), let beta = constants.optionalConstant(2),
           let mean = constants.optionalConstant(3), let variance = constants.optionalConstant(4) {
            constantStatistics = true
            let (g, b, mu, v) = (gamma.floatValues, beta.floatValues, mean.floatValues, variance.floatValues)
            scale = (0..<channels).map { g[$0] / (v[$0] + epsilon).squareRoot() }
            shift = (0..<channels).map { b[$0] - mu[$0] * scale[$0] }
        }
        return [x]
    }

    public var channelScaleShift: (scale: [Float], shift: [Float])? {
        constantStatistics ? (scale, shift) : nil
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!.floats
        let y = outputs[0].floats
        let batch = inputs[0]!.count / max(channels * plane, 1)
        for c in 0..<channels {
            let s: Float
            let t: Float
            if constantStatistics {
                s = scale[c]
                t = shift[c]
            } else {
                let (g, b) = (inputs[1]!.floats[c], inputs[2]!.floats[c])
                let (mu, v) = (inputs[3]!.floats[c], inputs[4]!.floats[c])
                s = g / (v + epsilon).squareRoot()
                t = b - mu * s
            }
            for n in 0..<batch {
                let base = (n * channels + c) * plane
                for i in 0..<plane { y[base + i] = x[base + i] * s + t }
            }
        }
    }
}
