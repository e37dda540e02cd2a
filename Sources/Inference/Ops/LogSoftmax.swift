// ONNX LogSoftmax: x − max − log Σ exp(x − max) along one axis; shares SoftmaxOp's axis handling.
import Tensor

public enum LogSoftmax {
    public static func make(_ node: NodeSpec) throws -> Operator { try SoftmaxOp(node, logarithmic: true) }
}
