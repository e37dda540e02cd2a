// Plain-loop max and average pooling: the ground truth `Pooling` is tested against.
// Every tap is range-checked one by one; nothing is precomputed.

public enum ReferencePooling {
    /// Max over each window, padding ignored. `indices` (if given) receive ONNX MaxPool Indices with
    /// storage_order 0: the flat row-major index into the whole input tensor, plane offset included.
    /// Ties keep the first tap in scan order; NaN never wins; a window with no real tap gives −inf and −1.
    public static func maxPool(
        _ g: PoolGeometry, planes: Int, inputSpatial: [Int], input: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int64>?
    ) {
        let ax = g.axes(inputSpatial: inputSpatial)
        let (d, h, w) = (ax[0], ax[1], ax[2])
        let inPlane = d.input * h.input * w.input, outPlane = d.output * h.output * w.output
        for p in 0..<planes {
            for od in 0..<d.output {
                for oh in 0..<h.output {
                    for ow in 0..<w.output {
                        var best = -Float.infinity, bestIndex = -1
                        for kd in 0..<d.kernel {
                            let id = od * d.stride - d.padBegin + kd * d.dilation
                            for kh in 0..<h.kernel {
                                let ih = oh * h.stride - h.padBegin + kh * h.dilation
                                for kw in 0..<w.kernel {
                                    let iw = ow * w.stride - w.padBegin + kw * w.dilation
                                    guard id >= 0, id < d.input, ih >= 0, ih < h.input, iw >= 0, iw < w.input
                                    else { continue }
                                    let index = p * inPlane + (id * h.input + ih) * w.input + iw
                                    if input[index] > best {
                                        best = input[index]
                                        bestIndex = index
                                    }
                                }
                            }
                        }
                        let o = p * outPlane + (od * h.output + oh) * w.output + ow
                        output[o] = best
                        indices?[o] = Int64(bestIndex)
                    }
                }
            }
        }
    }

    /// Mean over each window. With `countIncludePad` the divisor counts taps inside the padded extent
    /// [−padBegin, input + padEnd); otherwise only taps inside the input. Taps past the end padding (possible
    /// with ceilMode) never count, as in ONNX Runtime and PyTorch.
    public static func averagePool(
        _ g: PoolGeometry, countIncludePad: Bool, planes: Int, inputSpatial: [Int], input: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>
    ) {
        let ax = g.axes(inputSpatial: inputSpatial)
        let (d, h, w) = (ax[0], ax[1], ax[2])
        let inPlane = d.input * h.input * w.input, outPlane = d.output * h.output * w.output
        func inside(_ c: Int, _ a: WindowAxis) -> Bool { c >= 0 && c < a.input }
        func insidePadded(_ c: Int, _ a: WindowAxis) -> Bool { c >= -a.padBegin && c < a.input + a.padEnd }
        for p in 0..<planes {
            for od in 0..<d.output {
                for oh in 0..<h.output {
                    for ow in 0..<w.output {
                        var sum: Double = 0
                        var count = 0
                        for kd in 0..<d.kernel {
                            let id = od * d.stride - d.padBegin + kd * d.dilation
                            for kh in 0..<h.kernel {
                                let ih = oh * h.stride - h.padBegin + kh * h.dilation
                                for kw in 0..<w.kernel {
                                    let iw = ow * w.stride - w.padBegin + kw * w.dilation
                                    let real = inside(id, d) && inside(ih, h) && inside(iw, w)
                                    if real { sum += Double(input[p * inPlane + (id * h.input + ih) * w.input + iw]) }
                                    if countIncludePad {
                                        if insidePadded(id, d) && insidePadded(ih, h) && insidePadded(iw, w) {
                                            count += 1
                                        }
                                    } else if real {
                                        count += 1
                                    }
                                }
                            }
                        }
                        output[p * outPlane + (od * h.output + oh) * w.output + ow] =
                            count == 0 ? 0 : Float(sum / Double(count))
                    }
                }
            }
        }
    }
}
