// ONNX Gemm: Y = alpha · op(A) · op(B) + beta · C, C broadcast to [M, N]; on sgemm.
import Kernels
import Tensor

public final class GemmOp: Operator {
    let alpha: Float
    let beta: Float
    let transA: Bool
    let transB: Bool
    var m = 0, n = 0, k = 0
    var cStrides: [Int]?
    public private(set) var flops: Double = 0

    public init(_ node: NodeSpec) throws {
        alpha = try node.float("alpha", default: 1)
        beta = try node.float("beta", default: 1)
        transA = try node.int("transA", default: 0) != 0
        transB = try node.int("transB", default: 0) != 0
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let a = try inputs.required(0)
        let b = try inputs.required(1)
        try requireFloat(a, "A")
        try requireFloat(b, "B")
        guard a.shape.count == 2, b.shape.count == 2 else {
            throw OpError("Gemm needs 2-D A and B: \(a.shape), \(b.shape)")
        }
        m = transA ? a.shape[1] : a.shape[0]
        k = transA ? a.shape[0] : a.shape[1]
        let kb = transB ? b.shape[1] : b.shape[0]
        n = transB ? b.shape[0] : b.shape[1]
        guard k == kb else { throw OpError("inner dimensions differ: A \(a.shape) B \(b.shape)") }
        if let c = inputs.optional(2), beta != 0 {
            try requireFloat(c, "C")
            guard try broadcastShape(c.shape, [m, n]) == [m, n] else {
                throw OpError("C \(c.shape) does not broadcast to [\(m), \(n)]")
            }
            cStrides = broadcastStrides(c.shape, to: [m, n])
        }
        flops = 2 * Double(m * n * k)
        return [ValueType(.float32, [m, n])]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let y = outputs[0].floats
        var accumulate: Float = 0
        if let cStrides, let c = inputs[2]?.floats {
            for i in 0..<m {
                for j in 0..<n { y[i * n + j] = beta * c[i * cStrides[0] + j * cStrides[1]] }
            }
            accumulate = 1
        }
        Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                   a: inputs[0]!.floats, lda: transA ? m : k, b: inputs[1]!.floats, ldb: transB ? k : n,
                   beta: accumulate, c: y, ldc: n)
    }
}
