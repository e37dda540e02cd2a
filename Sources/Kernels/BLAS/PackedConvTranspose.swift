// The fast transposed convolution: per group one sgemm (weightsᵀ · input) into a column buffer, then col2im
// scatters the columns into the output, then the shared fused output pass.
import ParallelLoops

/// A transposed convolution whose weights are packed once; tested against `ReferenceConvTranspose`.
/// Immutable after init, so one instance may serve concurrent `run` calls with distinct workspaces.
public final class PackedConvTranspose: @unchecked Sendable {
    public let geometry: ConvTransposeGeometry
    /// ONNX layout [inChannels][outChannels/group · kernelVolume]: per group, the transposed A operand.
    private let weights: UnsafeMutablePointer<Float>
    private let bias: UnsafeMutablePointer<Float>?

    public init(_ g: ConvTransposeGeometry, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?) {
        precondition(g.group > 0 && g.inChannels % g.group == 0 && g.outChannels % g.group == 0,
                     "conv-transpose channels \(g.inChannels)→\(g.outChannels) not divisible by group \(g.group)")
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

    /// Floats of scratch `run` needs: one group's column buffer [outC/group · kernelVolume, inPlane].
    public func workspaceCount(batch: Int, inputSpatial: [Int]) -> Int {
        geometry.outChannelsPerGroup * geometry.kernelVolume * inputSpatial.reduce(1, *)
    }

    public func run(
        batch: Int, inputSpatial: [Int], input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>? = nil, activation: ConvActivation = .none,
        workspace: UnsafeMutablePointer<Float>
    ) {
        let g = geometry
        let outSpatial = g.outputSpatial(for: inputSpatial)
        // The scatter is the gather of a conv with the same window read backwards: reuse WindowAxis with
        // input/output swapped (axis.input = this op's output extent, axis.output = this op's input extent).
        let ax = windowAxes(
            input: outSpatial, output: inputSpatial, kernel: g.kernel, strides: g.strides, dilations: g.dilations,
            padsBegin: g.padsBegin, padsEnd: g.padsEnd)
        let inPlane = inputSpatial.reduce(1, *), outPlane = outSpatial.reduce(1, *)
        let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup, kVol = g.kernelVolume
        let rows = coutG * kVol
        for n in 0..<batch {
            for grp in 0..<g.group {
                Gemm.sgemm(
                    transA: true, m: rows, n: inPlane, k: cinG, a: weights + grp * cinG * rows, lda: rows,
                    b: input + (n * g.inChannels + grp * cinG) * inPlane, ldb: inPlane,
                    c: workspace, ldc: inPlane)
                Col2im.scatter(
                    ax, channels: coutG, columns: workspace,
                    output: output + (n * g.outChannels + grp * coutG) * outPlane)
            }
        }
        OutputPass.apply(
            batch: batch, channels: g.outChannels, planeSize: outPlane, output: output, bias: bias,
            residual: residual, activation: activation)
    }
}

/// The adjoint of `Im2col`: sums the column matrix [channels · kernelVolume, colPlane] into output planes.
/// Axes describe the conv whose input is this output (axis.input = output extent, axis.output = column extent).
enum Col2im {
    static func scatter(
        _ ax: [WindowAxis], channels: Int, columns: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        let (d, h, w) = (ax[0], ax[1], ax[2])
        let outPlane = d.input * h.input * w.input, colPlane = d.output * h.output * w.output
        let kVol = d.kernel * h.kernel * w.kernel
        // Each worker owns whole output channels, so no two threads write the same float.
        Parallel.forRanges(channels, work: channels * kVol * colPlane) { range in
            for c in range {
                let plane = output + c * outPlane
                plane.update(repeating: 0, count: outPlane)
                for tap in 0..<kVol {
                    let kd = tap / (h.kernel * w.kernel), kh = (tap / w.kernel) % h.kernel, kw = tap % w.kernel
                    var col = columns + (c * kVol + tap) * colPlane
                    let offset = kw * w.dilation - w.padBegin
                    var first = 0
                    if offset < 0 { first = min(w.output, (-offset + w.stride - 1) / w.stride) }
                    let last = w.input - offset <= 0 ? 0 : min(w.output, (w.input - offset + w.stride - 1) / w.stride)
                    first = min(first, last)
                    for od in 0..<d.output {
                        let id = od * d.stride - d.padBegin + kd * d.dilation
                        let dInside = id >= 0 && id < d.input
                        for oh in 0..<h.output {
                            let ih = oh * h.stride - h.padBegin + kh * h.dilation
                            if dInside && ih >= 0 && ih < h.input {
                                let line = plane + (id * h.input + ih) * w.input + offset
                                if w.stride == 1 {
                                    for i in first..<last { line[i] += col[i] }
                                } else {
                                    for i in first..<last { line[i * w.stride] += col[i] }
                                }
                            }
                            col += w.output
                        }
                    }
                }
            }
        }
    }
}
