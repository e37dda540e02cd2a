// ONNX MatMul: numpy matmul (1-D operands promoted and squeezed, batch dims broadcast) on sgemm. When the
// right operand is 2-D the batch rows of the left are merged into one sgemm.
import Kernels
import Tensor

public final class MatMulOp: Operator {
    var m = 0, n = 0, k = 0
    var batchShape: [Int] = []
    var aBatchStrides: [Int] = []
    var bBatchStrides: [Int] = []
    var mergedRows = false
    public private(set) var flops: Double = 0

    public init(_ node: NodeSpec) throws {}

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let a = try inputs.required(0)
        let b = try inputs.required(1)
        try requireFloat(a, "A")
        try requireFloat(b, "B")
        guard !a.shape.isEmpty, !b.shape.isEmpty else { throw OpError("MatMul of a scalar") }
        let aShape = a.shape.count == 1 ? [1] + a.shape : a.shape
        let bShape = b.shape.count == 1 ? b.shape + [1] : b.shape
        m = aShape[aShape.count - 2]
        k = aShape[aShape.count - 1]
        n = bShape[bShape.count - 1]
        guard bShape[bShape.count - 2] == k else { throw OpError("inner dimensions differ: \(a.shape) × \(b.shape)") }
        let aBatch = Array(aShape.dropLast(2))
        let bBatch = Array(bShape.dropLast(2))
        batchShape = try broadcastShape(aBatch, bBatch)
        aBatchStrides = broadcastStrides(aBatch, to: batchShape).map { $0 * m * k }
        bBatchStrides = broadcastStrides(bBatch, to: batchShape).map { $0 * k * n }
        mergedRows = bBatch.allSatisfy { $0 == 1 } && aBatch.reduce(1, *) == batchShape.reduce(1, *)
        var shape = batchShape
        if a.shape.count > 1 { shape.append(m) }
        if b.shape.count > 1 { shape.append(n) }
        flops = 2 * Double(m * n * k) * Double(batchShape.reduce(1, *))
        return [ValueType(.float32, shape)]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let a = inputs[0]!.floats
        let b = inputs[1]!.floats
        let c = outputs[0].floats
        let batches = batchShape.reduce(1, *)
        if mergedRows {
            Gemm.sgemm(m: m * batches, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: n)
            return
        }
        for batch in 0..<batches {
            var rest = batch
            var aOffset = 0
            var bOffset = 0
            for axis in stride(from: batchShape.count - 1, through: 0, by: -1) {
                let coordinate = rest % batchShape[axis]
                rest /= batchShape[axis]
                aOffset += coordinate * aBatchStrides[axis]
                bOffset += coordinate * bBatchStrides[axis]
            }
            Gemm.sgemm(m: m, n: n, k: k, a: a + aOffset, lda: k, b: b + bOffset, ldb: n,
                       c: c + batch * m * n, ldc: n)
        }
    }
}
