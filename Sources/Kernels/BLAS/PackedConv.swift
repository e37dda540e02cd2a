// The fast convolution: weights packed once at model load, then per call a lowering to OpenBLAS sgemm
// and one fused output pass (bias + residual + activation).

/// A convolution whose weights are packed once; `run` is the fast path, tested against `ReferenceConv`.
/// Immutable after init, so one instance may serve concurrent `run` calls with distinct workspaces.
public final class PackedConv: @unchecked Sendable {
    public let geometry: ConvGeometry
    /// Weights as [group][outChannels/group][inChannels/group · kernelVolume]: ONNX's layout is already the
    /// row-major A operand of the per-group sgemm, so packing is a copy that outlives the model's buffers.
    private let weights: UnsafeMutablePointer<Float>
    private let bias: UnsafeMutablePointer<Float>?

    public init(_ g: ConvGeometry, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?) {
        precondition(g.group > 0 && g.inChannels % g.group == 0 && g.outChannels % g.group == 0,
                     "conv channels \(g.inChannels)→\(g.outChannels) not divisible by group \(g.group)")
        geometry = g
        weights = .allocate(capacity: max(1, g.weightCount))
        weights.update(from: weight, count: g.weightCount)
        if let bias {
            let copy = UnsafeMutablePointer<Float>.allocate(capacity: g.outChannels)
            copy.update(from: bias, count: g.outChannels)
            self.bias = copy
        } else {
            self.bias = nil
        }
    }

    deinit {
        weights.deallocate()
        bias?.deallocate()
    }

    /// A 1×1(×1) conv with unit strides and no padding reads the input directly as the sgemm B operand.
    private var isPointwise: Bool {
        geometry.kernel.allSatisfy { $0 == 1 } && geometry.strides.allSatisfy { $0 == 1 }
            && geometry.padsBegin.allSatisfy { $0 == 0 } && geometry.padsEnd.allSatisfy { $0 == 0 }
    }

    /// Floats of scratch `run` needs for this input size.
    public func workspaceCount(batch: Int, inputSpatial: [Int]) -> Int {
        if isPointwise { return 0 }
        let outPlane = geometry.outputSpatial(for: inputSpatial).reduce(1, *)
        return geometry.inChannelsPerGroup * geometry.kernelVolume * outPlane
    }

    /// output = act(conv(input) + bias + residual). `residual` has the output's shape.
    public func run(
        batch: Int, inputSpatial: [Int], input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>? = nil, activation: ConvActivation = .none,
        workspace: UnsafeMutablePointer<Float>
    ) {
        let g = geometry
        let ax = g.axes(inputSpatial: inputSpatial)
        let inPlane = ax[0].input * ax[1].input * ax[2].input
        let outPlane = ax[0].output * ax[1].output * ax[2].output
        let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup, kVol = g.kernelVolume
        let depth = cinG * kVol
        for n in 0..<batch {
            for grp in 0..<g.group {
                let src = input + (n * g.inChannels + grp * cinG) * inPlane
                let dst = output + (n * g.outChannels + grp * coutG) * outPlane
                let columns: UnsafePointer<Float>
                if isPointwise {
                    columns = src
                } else {
                    Im2col.lower(ax, channels: cinG, input: src, columns: workspace)
                    columns = UnsafePointer(workspace)
                }
                Gemm.sgemm(
                    m: coutG, n: outPlane, k: depth, a: weights + grp * coutG * depth, lda: depth,
                    b: columns, ldb: outPlane, c: dst, ldc: outPlane)
            }
        }
        OutputPass.apply(
            batch: batch, channels: g.outChannels, planeSize: outPlane, output: output, bias: bias,
            residual: residual, activation: activation)
    }
}

/// Lowering of a convolution's input to the column matrix [channels · kernelVolume, outPlane] that sgemm
/// multiplies; taps falling in the padding read as 0.
enum Im2col {
    static func lower(
        _ ax: [WindowAxis], channels: Int, input: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>
    ) {
        let (d, h, w) = (ax[0], ax[1], ax[2])
        let inPlane = d.input * h.input * w.input, outPlane = d.output * h.output * w.output
        let kVol = d.kernel * h.kernel * w.kernel
        Parallel.forRanges(channels * kVol, work: channels * kVol * outPlane) { rows in
            for row in rows {
                let c = row / kVol, tap = row % kVol
                let kd = tap / (h.kernel * w.kernel), kh = (tap / w.kernel) % h.kernel, kw = tap % w.kernel
                let plane = input + c * inPlane
                var out = columns + row * outPlane
                // Output columns whose tap lands inside the input along W: [owFirst, owLast).
                let offset = kw * w.dilation - w.padBegin
                var owFirst = 0
                if offset < 0 { owFirst = min(w.output, (-offset + w.stride - 1) / w.stride) }
                var owLast = w.output
                if w.input - offset <= 0 {
                    owLast = 0
                } else {
                    owLast = min(w.output, (w.input - offset + w.stride - 1) / w.stride)
                }
                owFirst = min(owFirst, owLast)
                for od in 0..<d.output {
                    let id = od * d.stride - d.padBegin + kd * d.dilation
                    let dInside = id >= 0 && id < d.input
                    for oh in 0..<h.output {
                        let ih = oh * h.stride - h.padBegin + kh * h.dilation
                        if !dInside || ih < 0 || ih >= h.input {
                            out.update(repeating: 0, count: w.output)
                        } else {
                            let line = plane + (id * h.input + ih) * w.input + offset
                            if owFirst > 0 { out.update(repeating: 0, count: owFirst) }
                            if w.stride == 1 {
                                (out + owFirst).update(from: line + owFirst, count: owLast - owFirst)
                            } else {
                                for ow in owFirst..<owLast { out[ow] = line[ow * w.stride] }
                            }
                            if owLast < w.output { (out + owLast).update(repeating: 0, count: w.output - owLast) }
                        }
                        out += w.output
                    }
                }
            }
        }
    }
}

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

    @inline(__always)
    static func applyPlane(
        _ out: UnsafeMutablePointer<Float>, _ count: Int, _ b: Float, _ res: UnsafePointer<Float>?,
        _ activation: ConvActivation
    ) {
        switch activation {
        case .none: loop(out, count, b, res) { $0 }
        case .relu: loop(out, count, b, res) { pointwiseMax($0, .zero) }
        case .clip(let low, let high):
            loop(out, count, b, res) { pointwiseMin(pointwiseMax($0, .init(repeating: low)), .init(repeating: high)) }
        default:
            for i in 0..<count {
                var v = out[i] + b
                if let res { v += res[i] }
                out[i] = activation.apply(v)
            }
        }
    }

    /// out[i] = f(out[i] + b + res[i]) in 16-lane blocks, scalar tail through the same `f`.
    @inline(__always)
    static func loop(
        _ out: UnsafeMutablePointer<Float>, _ count: Int, _ b: Float, _ res: UnsafePointer<Float>?,
        _ f: (SIMD16<Float>) -> SIMD16<Float>
    ) {
        let bias = SIMD16<Float>(repeating: b)
        var i = 0
        let raw = UnsafeMutableRawPointer(out)
        while i + 16 <= count {
            var v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) + bias
            if let res { v += UnsafeRawPointer(res + i).loadUnaligned(as: SIMD16<Float>.self) }
            raw.storeBytes(of: f(v), toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            var v = SIMD16<Float>(repeating: out[i] + b)
            if let res { v += SIMD16<Float>(repeating: res[i]) }
            out[i] = f(v)[0]
            i += 1
        }
    }
}
