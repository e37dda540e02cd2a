// Max/average pooling (1D/2D/3D) and global pooling, planes split across the kernel threads.
// Window bounds are clipped per axis once per output row, so the inner loops carry no range checks.
import ParallelLoops

public enum Pooling {
    /// Max pooling with ONNX MaxPool semantics; `indices` as ONNX's Indices output (storage_order 0): the flat
    /// index into the whole input tensor, plane offset included. Same tie and NaN rules as `ReferencePooling`.
    public static func maxPool(
        _ g: PoolGeometry, planes: Int, inputSpatial: [Int], input: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int64>?
    ) {
        let ax = g.axes(inputSpatial: inputSpatial)
        let (d, h, w) = (ax[0], ax[1], ax[2])
        let inPlane = d.input * h.input * w.input, outPlane = d.output * h.output * w.output
        if indices == nil, d.input == 1, d.kernel == 1, [h, w].allSatisfy({
            $0.kernel == 2 && $0.stride == 2 && $0.dilation == 1 && $0.padBegin == 0 && 2 * $0.output <= $0.input
        }) {
            // The common 2×2 / 2 window inside the picture: four loads, no bounds or index bookkeeping. The
            // comparisons are the general loop's, in its order (`>` from −∞), so ties and NaN come out the same.
            Parallel.forRanges(planes, work: planes * outPlane * 4) { range in
                for p in range {
                    let src = input + p * inPlane, dst = output + p * outPlane
                    for oh in 0..<h.output {
                        let r0 = src + 2 * oh * w.input, r1 = r0 + w.input, out = dst + oh * w.output
                        for ow in 0..<w.output {
                            let a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], e = r1[2 * ow + 1]
                            var best = -Float.infinity
                            if a > best { best = a }
                            if b > best { best = b }
                            if c > best { best = c }
                            if e > best { best = e }
                            out[ow] = best
                        }
                    }
                }
            }
            return
        }
        let wTaps = (0..<w.output).map { w.validTaps(at: $0) }
        Parallel.forRanges(planes, work: planes * outPlane * g.kernel.reduce(1, *)) { range in
            for p in range {
                let src = input + p * inPlane
                var o = p * outPlane
                for od in 0..<d.output {
                    let dt = d.validTaps(at: od), d0 = od * d.stride - d.padBegin
                    for oh in 0..<h.output {
                        let ht = h.validTaps(at: oh), h0 = oh * h.stride - h.padBegin
                        for ow in 0..<w.output {
                            let wt = wTaps[ow], w0 = ow * w.stride - w.padBegin
                            var best = -Float.infinity, bestIndex = -1
                            for kd in dt.first..<dt.last {
                                let id = d0 + kd * d.dilation
                                for kh in ht.first..<ht.last {
                                    let row = (id * h.input + h0 + kh * h.dilation) * w.input + w0
                                    for kw in wt.first..<wt.last {
                                        let index = row + kw * w.dilation
                                        let v = src[index]
                                        if v > best {
                                            best = v
                                            bestIndex = index
                                        }
                                    }
                                }
                            }
                            output[o] = best
                            indices?[o] = bestIndex < 0 ? -1 : Int64(p * inPlane + bestIndex)
                            o += 1
                        }
                    }
                }
            }
        }
    }

    /// Average pooling; divisor rules as `ReferencePooling.averagePool`.
    public static func averagePool(
        _ g: PoolGeometry, countIncludePad: Bool, planes: Int, inputSpatial: [Int], input: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>
    ) {
        let ax = g.axes(inputSpatial: inputSpatial)
        let (d, h, w) = (ax[0], ax[1], ax[2])
        let inPlane = d.input * h.input * w.input, outPlane = d.output * h.output * w.output
        /// Taps of the window at `o` that fall inside [−padBegin, input + padEnd): the count_include_pad divisor.
        func paddedTaps(_ a: WindowAxis, _ o: Int) -> Int {
            let padded = WindowAxis(
                input: a.input + a.padBegin + a.padEnd, output: a.output, kernel: a.kernel, stride: a.stride,
                dilation: a.dilation, padBegin: 0, padEnd: 0)
            let t = padded.validTaps(at: o)
            return t.last - t.first
        }
        let wTaps = (0..<w.output).map { w.validTaps(at: $0) }
        let wPadded = (0..<w.output).map { paddedTaps(w, $0) }
        Parallel.forRanges(planes, work: planes * outPlane * g.kernel.reduce(1, *)) { range in
            for p in range {
                let src = input + p * inPlane
                var o = p * outPlane
                for od in 0..<d.output {
                    let dt = d.validTaps(at: od), d0 = od * d.stride - d.padBegin
                    for oh in 0..<h.output {
                        let ht = h.validTaps(at: oh), h0 = oh * h.stride - h.padBegin
                        let dhPadded = paddedTaps(d, od) * paddedTaps(h, oh)
                        for ow in 0..<w.output {
                            let wt = wTaps[ow], w0 = ow * w.stride - w.padBegin
                            var sum: Float = 0
                            for kd in dt.first..<dt.last {
                                let id = d0 + kd * d.dilation
                                for kh in ht.first..<ht.last {
                                    let row = src + (id * h.input + h0 + kh * h.dilation) * w.input + w0
                                    for kw in wt.first..<wt.last { sum += row[kw * w.dilation] }
                                }
                            }
                            let count = countIncludePad
                                ? dhPadded * wPadded[ow]
                                : (dt.last - dt.first) * (ht.last - ht.first) * (wt.last - wt.first)
                            output[o] = count == 0 ? 0 : sum / Float(count)
                            o += 1
                        }
                    }
                }
            }
        }
    }

    /// Mean of each plane of `planeSize` contiguous floats.
    public static func globalAverage(
        planes: Int, planeSize: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        Parallel.forRanges(planes, work: planes * planeSize) { range in
            for p in range {
                output[p] = planeSize == 0 ? 0 : sum(input + p * planeSize, planeSize) / Float(planeSize)
            }
        }
    }

    /// Maximum of each plane of `planeSize` contiguous floats (−inf for an empty plane).
    public static func globalMax(
        planes: Int, planeSize: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        Parallel.forRanges(planes, work: planes * planeSize) { range in
            for p in range {
                let src = input + p * planeSize
                var lanes = SIMD16<Float>(repeating: -.infinity)
                var i = 0
                while i + 16 <= planeSize {
                    lanes = pointwiseMax(lanes, UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<Float>.self))
                    i += 16
                }
                var best = lanes.max()
                while i < planeSize {
                    best = max(best, src[i])
                    i += 1
                }
                output[p] = best
            }
        }
    }

    /// Sum of `count` floats with 16 lanes of partial sums (better rounding than one running sum).
    @inline(__always)
    static func sum(_ src: UnsafePointer<Float>, _ count: Int) -> Float {
        var lanes = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= count {
            lanes += UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<Float>.self)
            i += 16
        }
        var total = lanes.sum()
        while i < count {
            total += src[i]
            i += 1
        }
        return total
    }
}
