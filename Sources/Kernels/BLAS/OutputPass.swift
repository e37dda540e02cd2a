// The fused output pass of the fast convolutions: bias, residual and activation in one sweep.
import ParallelLoops

/// The single pass over a conv's output that adds bias and residual and applies the activation.
enum OutputPass {
    static func apply(
        batch: Int, channels: Int, planeSize: Int, output: UnsafeMutablePointer<Float>,
        bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, activation: ConvActivation
    ) {
        if bias == nil && residual == nil && activation == .none { return }
        let planes = batch * channels
        Parallel.forRanges(planes, work: planes * planeSize) { range in
            for p in range {
                let b = bias?[p % channels] ?? 0
                let out = output + p * planeSize
                let res = residual.map { $0 + p * planeSize }
                applyPlane(out, planeSize, b, res, activation)
            }
        }
    }

    /// out[i] = act(out[i] + b + res[i]). Plain loops per activation, which LLVM vectorises; closures over
    /// SIMD types here were not specialised and cost half as much as the sgemm.
    static func applyPlane(
        _ out: UnsafeMutablePointer<Float>, _ count: Int, _ b: Float, _ res: UnsafePointer<Float>?,
        _ activation: ConvActivation
    ) {
        switch activation {
        case .none:
            if let res {
                for i in 0..<count { out[i] = out[i] + b + res[i] }
            } else if b != 0 {
                for i in 0..<count { out[i] += b }
            }
        case .relu:
            if let res {
                for i in 0..<count {
                    let v = out[i] + b + res[i]
                    out[i] = v > 0 ? v : 0
                }
            } else {
                for i in 0..<count {
                    let v = out[i] + b
                    out[i] = v > 0 ? v : 0
                }
            }
        case .clip(let low, let high):
            if let res {
                for i in 0..<count {
                    let v = out[i] + b + res[i]
                    out[i] = v < low ? low : (v > high ? high : v)
                }
            } else {
                for i in 0..<count {
                    let v = out[i] + b
                    out[i] = v < low ? low : (v > high ? high : v)
                }
            }
        default:
            for i in 0..<count {
                var v = out[i] + b
                if let res { v += res[i] }
                out[i] = activation.apply(v)
            }
        }
    }
}
