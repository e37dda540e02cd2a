// The op registry: ONNX op type → builder of the engine op (attribute parsing happens in the op's init).
// An op type missing here is reported at load with the node and model named.
import Inference

public enum OpRegistry {
    public typealias Builder = @Sendable (NodeSpec) throws -> Operator

    static let builders: [String: Builder] = [
        // Elementwise
        "Relu": { try UnaryOp<Relu>($0) },
        "LeakyRelu": { try UnaryOp<LeakyRelu>($0) },
        "Sigmoid": { try UnaryOp<Sigmoid>($0) },
        "Tanh": { try UnaryOp<Tanh>($0) },
        "HardSigmoid": { try UnaryOp<HardSigmoid>($0) },
        "HardSwish": { try UnaryOp<HardSwish>($0) },
        "Elu": { try UnaryOp<Elu>($0) },
        "Gelu": { try UnaryOp<Gelu>($0) },
        "Sqrt": { try UnaryOp<Sqrt>($0) },
        "Exp": { try UnaryOp<Exp>($0) },
        "Log": { try UnaryOp<Log>($0) },
        "Neg": { try UnaryOp<Neg>($0) },
        "Abs": { try UnaryOp<Abs>($0) },
        "Erf": { try UnaryOp<Erf>($0) },
        "Reciprocal": { try UnaryOp<Reciprocal>($0) },
        "Softplus": { try UnaryOp<Softplus>($0) },
        "Clip": { try ClipOp($0) },
        "Add": { try BinaryOp<Add>($0) },
        "Sub": { try BinaryOp<Sub>($0) },
        "Mul": { try BinaryOp<Mul>($0) },
        "Div": { try BinaryOp<Div>($0) },
        "Pow": { try BinaryOp<Pow>($0) },
        "Equal": { try ComparisonOp<Equal>($0) },
        "Less": { try ComparisonOp<Less>($0) },
        "Greater": { try ComparisonOp<Greater>($0) },
        "Where": { try WhereOp($0) },
        "Cast": { try CastOp($0) },
        // Normalisation, softmax, reductions
        "BatchNormalization": { try BatchNormalizationOp($0) },
        "Softmax": { try SoftmaxOp($0) },
        "LogSoftmax": { try LogSoftmax.make($0) },
        "ReduceMean": { try ReduceOp($0, kind: .mean) },
        "ReduceMax": { try ReduceOp($0, kind: .max) },
        "ReduceSum": { try ReduceOp($0, kind: .sum) },
        "ReduceMin": { try ReduceOp($0, kind: .min) },
        "ReduceProd": { try ReduceOp($0, kind: .prod) },
        "ArgMax": { try ArgMaxOp($0) },
        // Linear algebra, convolution, pooling
        "MatMul": { try MatMulOp($0) },
        "Gemm": { try GemmOp($0) },
        "Conv": { try ConvOp($0) },
        "ConvTranspose": { try ConvTransposeOp($0) },
        "MaxPool": { try PoolOp($0, kind: .max) },
        "AveragePool": { try PoolOp($0, kind: .average) },
        "GlobalAveragePool": { try GlobalPoolOp($0, average: true) },
        "GlobalMaxPool": { try GlobalPoolOp($0, average: false) },
        "MaxUnpool": { try MaxUnpoolOp($0) },
        // Shapes and data movement
        "Reshape": { try ReshapeOp($0) },
        "Flatten": { try FlattenOp($0) },
        "Transpose": { try TransposeOp($0) },
        "Squeeze": { try SqueezeOp($0) },
        "Unsqueeze": { try UnsqueezeOp($0) },
        "Concat": { try ConcatOp($0) },
        "Split": { try SplitOp($0) },
        "Slice": { try SliceOp($0) },
        "Gather": { try GatherOp($0) },
        "Expand": { try ExpandOp($0) },
        "Shape": { try ShapeOp($0) },
        "Constant": { try ConstantOp($0) },
        "ConstantOfShape": { try ConstantOfShapeOp($0) },
        "Identity": { try IdentityOp($0) },
        "Dropout": { try DropoutOp($0) },
        "Range": { try RangeOp($0) },
        "Pad": { try PadOp($0) },
        "Resize": { try ResizeOp($0) },
        "LSTM": { try LSTMOp($0) },
        "GRU": { try GRUOp($0) },
        "Upsample": { try ResizeOp($0) },
    ]

    /// Op types this engine implements (default ONNX domain).
    public static var supportedOpTypes: [String] { builders.keys.sorted() }

    public static func isSupported(_ opType: String, domain: String = "") -> Bool {
        domain.isEmpty && builders[opType] != nil
    }

    /// Builds the op for `node`, or throws an `unsupported` error naming the op type.
    public static func make(_ node: NodeSpec) throws -> Operator {
        guard node.domain.isEmpty else {
            throw OpError.unsupported("op \(node.opType) of domain '\(node.domain)' is not supported")
        }
        guard let builder = builders[node.opType] else {
            throw OpError.unsupported("op \(node.opType) is not supported")
        }
        for (name, value) in node.attributes {
            if case .unsupported(let kind) = value {
                throw OpError.unsupported("attribute '\(name)' of kind \(kind) is not supported")
            }
        }
        return try builder(node)
    }
}
