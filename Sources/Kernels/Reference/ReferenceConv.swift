// Plain-loop convolution and transposed convolution: the ground truth the fast paths are tested against.
// Direct definitions, double accumulation, no cleverness.

public enum ReferenceConv {
    /// output = act(conv(input, weight) + bias + residual), NC+spatial layout, all float32.
    public static func forward(
        _ g: ConvGeometry, batch: Int, inputSpatial: [Int], input: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>? = nil, activation: ConvActivation = .none
    ) {
        let ax = g.axes(inputSpatial: inputSpatial)
        let (d, h, w) = (ax[0], ax[1], ax[2])
        let inPlane = d.input * h.input * w.input, outPlane = d.output * h.output * w.output
        let kVol = d.kernel * h.kernel * w.kernel
        let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup
        for n in 0..<batch {
            for oc in 0..<g.outChannels {
                let grp = oc / coutG
                for od in 0..<d.output {
                    for oh in 0..<h.output {
                        for ow in 0..<w.output {
                            var acc = Double(bias?[oc] ?? 0)
                            for ic in 0..<cinG {
                                let plane = input + (n * g.inChannels + grp * cinG + ic) * inPlane
                                let filter = weight + (oc * cinG + ic) * kVol
                                for kd in 0..<d.kernel {
                                    let id = od * d.stride - d.padBegin + kd * d.dilation
                                    if id < 0 || id >= d.input { continue }
                                    for kh in 0..<h.kernel {
                                        let ih = oh * h.stride - h.padBegin + kh * h.dilation
                                        if ih < 0 || ih >= h.input { continue }
                                        for kw in 0..<w.kernel {
                                            let iw = ow * w.stride - w.padBegin + kw * w.dilation
                                            if iw < 0 || iw >= w.input { continue }
                                            let x = plane[(id * h.input + ih) * w.input + iw]
                                            let k = filter[(kd * h.kernel + kh) * w.kernel + kw]
                                            acc += Double(x) * Double(k)
                                        }
                                    }
                                }
                            }
                            let index = (n * g.outChannels + oc) * outPlane + (od * h.output + oh) * w.output + ow
                            var value = Float(acc)
                            if let residual { value += residual[index] }
                            output[index] = activation.apply(value)
                        }
                    }
                }
            }
        }
    }
}

public enum ReferenceConvTranspose {
    /// output = act(convTranspose(input, weight) + bias + residual); weight [inC, outC/group, k...].
    /// Each input element scatters weight · x to output position i·stride − padBegin + k·dilation.
    public static func forward(
        _ g: ConvTransposeGeometry, batch: Int, inputSpatial: [Int], input: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>? = nil, activation: ConvActivation = .none
    ) {
        let outSpatial = g.outputSpatial(for: inputSpatial)
        let lift = { (a: [Int], fill: Int) in Array(repeating: fill, count: 3 - a.count) + a }
        let inS = lift(inputSpatial, 1), outS = lift(outSpatial, 1), k = lift(g.kernel, 1)
        let s = lift(g.strides, 1), dil = lift(g.dilations, 1), pb = lift(g.padsBegin, 0)
        let inPlane = inS[0] * inS[1] * inS[2], outPlane = outS[0] * outS[1] * outS[2]
        let kVol = k[0] * k[1] * k[2]
        let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup
        let total = batch * g.outChannels * outPlane
        var acc = [Double](repeating: 0, count: total)
        for n in 0..<batch {
            for ic in 0..<g.inChannels {
                let grp = ic / cinG
                for i0 in 0..<inS[0] {
                    for i1 in 0..<inS[1] {
                        for i2 in 0..<inS[2] {
                            let x = Double(input[(n * g.inChannels + ic) * inPlane + (i0 * inS[1] + i1) * inS[2] + i2])
                            for ocg in 0..<coutG {
                                let oc = grp * coutG + ocg
                                let filter = weight + (ic * coutG + ocg) * kVol
                                for k0 in 0..<k[0] {
                                    let o0 = i0 * s[0] - pb[0] + k0 * dil[0]
                                    if o0 < 0 || o0 >= outS[0] { continue }
                                    for k1 in 0..<k[1] {
                                        let o1 = i1 * s[1] - pb[1] + k1 * dil[1]
                                        if o1 < 0 || o1 >= outS[1] { continue }
                                        for k2 in 0..<k[2] {
                                            let o2 = i2 * s[2] - pb[2] + k2 * dil[2]
                                            if o2 < 0 || o2 >= outS[2] { continue }
                                            let wv = Double(filter[(k0 * k[1] + k1) * k[2] + k2])
                                            let plane = (n * g.outChannels + oc) * outPlane
                                            acc[plane + (o0 * outS[1] + o1) * outS[2] + o2] += x * wv
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for index in 0..<total {
            let oc = (index / outPlane) % g.outChannels
            var value = Float(acc[index] + Double(bias?[oc] ?? 0))
            if let residual { value += residual[index] }
            output[index] = activation.apply(value)
        }
    }
}
