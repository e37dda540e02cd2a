// PackedConv's depthwise strategy (one input and one output channel per group): a direct loop per plane.
import ParallelLoops

extension PackedConv {
    /// One input and one output channel per group: a direct sliding-window loop per plane, no lowering.
    func runDepthwise(
        _ ax: [WindowAxis], batch: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, activation: ConvActivation
    ) {
        let g = geometry
        let (d, h, w) = (ax[0], ax[1], ax[2])
        let inPlane = d.input * h.input * w.input, outPlane = d.output * h.output * w.output
        let kVol = g.kernelVolume
        let weights = self.weights, bias = self.bias
        let wTaps = (0..<w.kernel).map { kw -> (offset: Int, first: Int, last: Int) in
            let offset = kw * w.dilation - w.padBegin
            let first = offset < 0 ? min(w.output, (-offset + w.stride - 1) / w.stride) : 0
            let last = w.input - offset <= 0 ? 0 : min(w.output, (w.input - offset + w.stride - 1) / w.stride)
            return (offset, min(first, last), last)
        }
        let planes = batch * g.outChannels
        let (inPlace, residual) = Self.separate(residual, from: output)
        Parallel.forRanges(planes, work: planes * outPlane * kVol) { range in
            for p in range {
                let channel = p % g.outChannels
                let src = input + p * inPlane, dst = output + p * outPlane
                let filter = weights + channel * kVol
                let b = bias?[channel] ?? 0
                for od in 0..<d.output {
                    let dt = d.validTaps(at: od)
                    for oh in 0..<h.output {
                        let ht = h.validTaps(at: oh)
                        let row = dst + (od * h.output + oh) * w.output
                        if inPlace {  // the row holds the residual: accumulate onto it
                            for ow in 0..<w.output { row[ow] += b }
                        } else {
                            row.update(repeating: b, count: w.output)
                        }
                        for kd in dt.first..<dt.last {
                            let id = od * d.stride - d.padBegin + kd * d.dilation
                            for kh in ht.first..<ht.last {
                                let ih = oh * h.stride - h.padBegin + kh * h.dilation
                                let line = src + (id * h.input + ih) * w.input
                                for kw in 0..<w.kernel {
                                    let weight = filter[(kd * h.kernel + kh) * w.kernel + kw]
                                    let tap = wTaps[kw]
                                    let shifted = line + tap.offset
                                    if w.stride == 1 {
                                        for ow in tap.first..<tap.last { row[ow] += weight * shifted[ow] }
                                    } else {
                                        for ow in tap.first..<tap.last { row[ow] += weight * shifted[ow * w.stride] }
                                    }
                                }
                            }
                        }
                    }
                }
                if residual != nil || activation != .none {
                    OutputPass.applyPlane(dst, outPlane, 0, residual.map { $0 + p * outPlane }, activation)
                }
            }
        }
    }
}
