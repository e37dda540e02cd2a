// ONNX Clip: min(max(x, low), high); bounds are attributes before opset 11 and optional constant inputs after.
import Tensor

public final class ClipOp: Operator, FusableActivation {
    let opset: Int
    var low: Float
    var high: Float

    public init(_ node: NodeSpec) throws {
        opset = node.opset
        low = try node.float("min", default: -.greatestFiniteMagnitude)
        high = try node.float("max", default: .greatestFiniteMagnitude)
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        try requireFloat(x)
        if inputs.optional(1) != nil { low = try constants.constant(1, "min").floatValues.first ?? low }
        if inputs.optional(2) != nil { high = try constants.constant(2, "max").floatValues.first ?? high }
        return [x]
    }

    public var fusedActivation: FusedActivation? { .clip(low, high) }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!.floats
        let y = outputs[0].floats
        let (lo, hi) = (low, high)
        for i in 0..<outputs[0].count { y[i] = min(max(x[i], lo), hi) }
    }
}
