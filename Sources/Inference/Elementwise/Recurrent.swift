// Shared plumbing of the recurrent ops (LSTM, GRU): attribute parsing common to both, sequence layout
// (layout 0 = [seq, batch, ·], 1 = [batch, seq, ·]), sequence_lens and the matrix-product hook.
import Foundation
import Kernels
import Tensor

/// The matrix product the recurrent ops use; tests swap in `ReferenceGemm.sgemm` to check the fast path.
public typealias SgemmFunction = @Sendable (
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) -> Void

public enum RecurrentGemm {
    public static let fast: SgemmFunction = { ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
        Gemm.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c, ldc: ldc)
    }
    public static let reference: SgemmFunction = { ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
        ReferenceGemm.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
                            ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}

struct RecurrentAttributes {
    enum Direction: String { case forward, reverse, bidirectional }
    let direction: Direction
    let hiddenSize: Int?
    let clip: Float?
    let layout: Int

    init(_ node: NodeSpec, defaultActivations: [String]) throws {
        let name = try node.string("direction", default: "forward")
        guard let direction = Direction(rawValue: name) else { throw OpError("direction \"\(name)\"") }
        self.direction = direction
        hiddenSize = node.has("hidden_size") ? try node.int("hidden_size", in: 1...(1 << 20)) : nil
        clip = node.has("clip") ? try node.float("clip") : nil
        layout = try node.int("layout", default: 0)
        if let activations = try node.strings("activations") {
            let expected = direction == .bidirectional ? defaultActivations + defaultActivations : defaultActivations
            guard activations.map({ $0.lowercased() }) == expected.map({ $0.lowercased() }) else {
                throw OpError.unsupported("activations \(activations) (only the defaults \(defaultActivations))")
            }
        }
        if node.has("activation_alpha") || node.has("activation_beta") {
            throw OpError.unsupported("activation_alpha/activation_beta")
        }
    }

    var directions: Int { direction == .bidirectional ? 2 : 1 }

    /// (seq, batch, inputSize) of X for this layout.
    func dimensions(_ x: ValueType) throws -> (seq: Int, batch: Int, input: Int) {
        guard x.shape.count == 3 else { throw OpError("X must be 3-D, got \(x.shape)") }
        return layout == 0 ? (x.shape[0], x.shape[1], x.shape[2]) : (x.shape[1], x.shape[0], x.shape[2])
    }

    /// Shapes of Y and of the final states.
    /// Reads X, W, R (and B if present) for a cell with `gates` gates (LSTM 4, GRU 3): checks W [dirs, gates·H, I],
    /// R [dirs, gates·H, H], B [dirs, 2·gates·H] and returns the sizes.
    func weightDimensions(_ inputs: [ValueType?], gates: Int) throws
        -> (seq: Int, batch: Int, input: Int, hidden: Int)
    {
        let x = try inputs.required(0)
        let w = try inputs.required(1)
        let r = try inputs.required(2)
        try requireFloat(x)
        let (seq, batch, input) = try dimensions(x)
        let dirs = directions
        let hidden = hiddenSize ?? r.shape.last ?? 0
        guard w.shape == [dirs, gates * hidden, input], r.shape == [dirs, gates * hidden, hidden] else {
            throw OpError("W \(w.shape) / R \(r.shape) do not fit X \(x.shape), hidden \(hidden), \(dirs) direction(s)")
        }
        if let b = inputs.optional(3), b.shape != [dirs, 2 * gates * hidden] { throw OpError("B shape \(b.shape)") }
        return (seq, batch, input, hidden)
    }

    func outputShapes(seq: Int, batch: Int, hidden: Int) -> (y: [Int], state: [Int]) {
        layout == 0 ? ([seq, directions, batch, hidden], [directions, batch, hidden])
            : ([batch, seq, directions, hidden], [batch, directions, hidden])
    }

    /// Offset (in rows of `width` floats) of X row (t, b).
    @inline(__always) func xRow(t: Int, b: Int, seq: Int, batch: Int) -> Int {
        layout == 0 ? t * batch + b : b * seq + t
    }

    /// Offset of Y[t, d, b, :] in floats.
    @inline(__always) func yOffset(t: Int, d: Int, b: Int, seq: Int, batch: Int, hidden: Int) -> Int {
        layout == 0 ? ((t * directions + d) * batch + b) * hidden : ((b * seq + t) * directions + d) * hidden
    }

    /// Offset of a final state [d, b, :] in floats.
    @inline(__always) func stateOffset(d: Int, b: Int, batch: Int, hidden: Int) -> Int {
        layout == 0 ? (d * batch + b) * hidden : (b * directions + d) * hidden
    }
}

/// Per-batch sequence lengths (all `seq` when the input is absent).
func sequenceLengths(_ input: TensorRef?, batch: Int, seq: Int) -> [Int] {
    guard let input else { return Array(repeating: seq, count: batch) }
    return (0..<batch).map { b in
        let value = input.dtype == .int64 ? Int(input.int64s[b])
            : Int(input.data.assumingMemoryBound(to: Int32.self)[b])
        return min(max(value, 0), seq)
    }
}

@inline(__always) func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
