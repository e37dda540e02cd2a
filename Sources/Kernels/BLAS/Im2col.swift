// Lowering of a convolution input to sgemm's column matrix, tile by tile.
/// Lowering of a convolution's input to the column matrix [channels · kernelVolume, pixels] that sgemm
/// multiplies; taps falling in the padding read as 0.
enum Im2col {}

extension Im2col {
    /// Lowers only output pixels [first, first + count) (flat over D·H·W) into `columns`, row stride `count`.
    /// `channelStride` is the distance between input channels (default: the plane the axes describe).
    static func lowerTile(
        _ ax: [WindowAxis], channels: Int, input: UnsafePointer<Float>, first: Int, count: Int,
        columns: UnsafeMutablePointer<Float>, channelStride: Int? = nil
    ) {
        let (d, h, w) = (ax[0], ax[1], ax[2])
        let inPlane = channelStride ?? d.input * h.input * w.input
        let kVol = d.kernel * h.kernel * w.kernel
        let startD = first / (h.output * w.output), startH = (first / w.output) % h.output, startW = first % w.output
        for row in 0..<(channels * kVol) {
            let c = row / kVol, tap = row % kVol
            let kd = tap / (h.kernel * w.kernel), kh = (tap / w.kernel) % h.kernel, kw = tap % w.kernel
            let plane = input + c * inPlane
            // Output columns whose tap lands inside the input along W: [owFirst, owLast).
            let offset = kw * w.dilation - w.padBegin
            var owFirst = offset < 0 ? min(w.output, (-offset + w.stride - 1) / w.stride) : 0
            let owLast = w.input - offset <= 0 ? 0 : min(w.output, (w.input - offset + w.stride - 1) / w.stride)
            owFirst = min(owFirst, owLast)
            var out = columns + row * count
            var od = startD, oh = startH, ow = startW, remaining = count
            while remaining > 0 {
                let length = min(remaining, w.output - ow)
                let id = od * d.stride - d.padBegin + kd * d.dilation
                let ih = oh * h.stride - h.padBegin + kh * h.dilation
                if id < 0 || id >= d.input || ih < 0 || ih >= h.input {
                    out.update(repeating: 0, count: length)
                } else {
                    let line = plane + (id * h.input + ih) * w.input + offset
                    let lo = max(ow, owFirst), hi = min(ow + length, owLast)
                    if lo >= hi {
                        out.update(repeating: 0, count: length)
                    } else {
                        if lo > ow { out.update(repeating: 0, count: lo - ow) }
                        let dest = out - ow
                        if w.stride == 1 {
                            if hi - lo >= 32 {
                                (dest + lo).update(from: line + lo, count: hi - lo)
                            } else {  // short rows (14×14, 7×7 maps): a call to memmove costs more than the copy
                                for i in lo..<hi { dest[i] = line[i] }
                            }
                        } else if w.stride == 2 {  // a constant stride lets LLVM vectorise the gather
                            for i in lo..<hi { dest[i] = line[2 * i] }
                        } else {
                            for i in lo..<hi { dest[i] = line[i * w.stride] }
                        }
                        if hi < ow + length { (dest + hi).update(repeating: 0, count: ow + length - hi) }
                    }
                }
                out += length
                remaining -= length
                ow = 0
                oh += 1
                if oh == h.output {
                    oh = 0
                    od += 1
                }
            }
        }
    }
}
