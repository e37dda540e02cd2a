// Builds small graphs by hand for the session tests, with a local op factory (the ONNX registry lives a
// module above Inference).
import Inference
import Tensor
import TestSupport

func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String? = nil, opset: Int = 17,
          _ attributes: [String: AttributeValue] = [:]) -> NodeSpec {
    NodeSpec(opType: op, name: name ?? "\(op.lowercased())_\(outputs.first ?? "")", inputs: inputs, outputs: outputs,
             attributes: attributes, opset: opset)
}

func testFactory(_ spec: NodeSpec) throws -> Operator {
    switch spec.opType {
    case "Conv": return try ConvOp(spec)
    case "BatchNormalization": return try BatchNormalizationOp(spec)
    case "Relu": return try UnaryOp<Relu>(spec)
    case "Add": return try BinaryOp<Add>(spec)
    case "Mul": return try BinaryOp<Mul>(spec)
    case "Shape": return try ShapeOp(spec)
    case "Gather": return try GatherOp(spec)
    case "Unsqueeze": return try UnsqueezeOp(spec)
    case "Concat": return try ConcatOp(spec)
    case "Reshape": return try ReshapeOp(spec)
    case "Sigmoid": return try UnaryOp<Sigmoid>(spec)
    case "LSTM": return try LSTMOp(spec)
    case "GRU": return try GRUOp(spec)
    default: throw OpError.unsupported("op \(spec.opType) is not supported")
    }
}

func randomTensor(_ shape: [Int], seed: UInt64, range: ClosedRange<Float> = -1...1) -> Tensor {
    var generator = SplitMix64(seed: seed)
    let values = (0..<shape.reduce(1, *)).map { _ in Float.random(in: range, using: &generator) }
    return Tensor(shape: shape, floats: values)
}

func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.floats, b.floats).map { abs($0 - $1) }.max() ?? 0
}
