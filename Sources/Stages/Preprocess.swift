// Preprocessing exactly as a model card says: fit to the input size (stretch, crop, letterbox) by bilinear
// sampling, colour order, pixel range, (x − mean) / std, and the tensor layout. The classify stage and
// `actiond dataset` both call these functions, so training and serving see the same numbers bit for bit.
import Foundation
import Media
import Pipeline
import Tensor

extension PixelRect {
    /// The square crop a person's clip is cut from: the union of `boxes` (the track's boxes over the clip), its
    /// larger side × 1.25, centred, clipped to a `width`×`height` image; nil when nothing of it is inside.
    /// `dataset --crop person` (training) and `classify` with `per: track` (serving) both cut this square.
    public static func personSquare(around boxes: [PixelRect], width: Int, height: Int) -> PixelRect? {
        guard !boxes.isEmpty else { return nil }
        var x0 = Double.infinity, y0 = Double.infinity, x1 = -Double.infinity, y1 = -Double.infinity
        for box in boxes {
            x0 = min(x0, box.x); y0 = min(y0, box.y)
            x1 = max(x1, box.x + box.width); y1 = max(y1, box.y + box.height)
        }
        let side = max(x1 - x0, y1 - y0) * 1.25
        let cx = (x0 + x1) / 2, cy = (y0 + y1) / 2
        let left = max(0, cx - side / 2), top = max(0, cy - side / 2)
        let right = min(Double(width), cx + side / 2), bottom = min(Double(height), cy + side / 2)
        guard right - left >= 1, bottom - top >= 1 else { return nil }
        return PixelRect(x: left, y: top, width: right - left, height: bottom - top)
    }
}

/// Channel-planar float images (C × H × W), the form every preprocessing step works on.
public struct Planes: Sendable, Equatable {
    public var channels: Int, width: Int, height: Int
    public var values: [Float]
    public init(channels: Int, width: Int, height: Int, values: [Float]) {
        precondition(values.count == channels * width * height, "Planes: \(values.count) values for "
                     + "\(channels)×\(height)×\(width)")
        self.channels = channels
        self.width = width
        self.height = height
        self.values = values
    }

    /// An RGB or gray image's bytes as planes, values 0...255 (unchanged, not yet scaled).
    public init(image: Image) {
        let c = image.channels, n = image.width * image.height
        var out = [Float](repeating: 0, count: c * n)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    for ch in 0..<c { dst[ch * n + i] = Float(src[i * c + ch]) }
                }
            }
        }
        self.init(channels: c, width: image.width, height: image.height, values: out)
    }
}

public enum Preprocess {
    /// Fits `region` of `planes` (the whole picture when nil) into `width`×`height` with `mode`: the geometry of
    /// `ResizeTransform.fitting` (integer offsets), bilinear sampling at pixel centres (OpenCV INTER_LINEAR /
    /// torch `align_corners=False`, no antialiasing), edge pixels repeated, letterbox bars filled with `fill`.
    public static func resize(_ planes: Planes, region: PixelRect? = nil, width: Int, height: Int,
                              mode: ResizeMode, fill: Float = 0) -> Planes {
        let region = region ?? PixelRect(x: 0, y: 0, width: Double(planes.width), height: Double(planes.height))
        let sourceW = max(1, Int(region.width.rounded())), sourceH = max(1, Int(region.height.rounded()))
        let fit = ResizeTransform.fitting(sourceWidth: sourceW, sourceHeight: sourceH, width: width,
                                          height: height, mode: mode)
        // Scale from the scaled picture back into region pixels (region size / scaled size, per axis).
        let stepX = region.width / Double(fit.scaledWidth), stepY = region.height / Double(fit.scaledHeight)
        let ox = Int(fit.transform.offsetX), oy = Int(fit.transform.offsetY)
        let w = planes.width, h = planes.height, n = width * height, plane = w * h
        // Per output column and row: the two source indices and the weight of the second.
        func taps(count: Int, offset: Int, step: Double, origin: Double, limit: Int, scaled: Int)
            -> [(Int, Int, Float, Bool)] {
            (0..<count).map { t in
                let s = t - offset
                guard s >= 0, s < scaled else { return (0, 0, 0, false) }
                let position = origin + (Double(s) + 0.5) * step - 0.5
                let clamped = min(max(position, 0), Double(limit - 1))
                let i0 = Int(clamped.rounded(.down))
                let i1 = min(i0 + 1, limit - 1)
                return (i0, i1, Float(clamped - Double(i0)), true)
            }
        }
        let xs = taps(count: width, offset: ox, step: stepX, origin: region.x, limit: w, scaled: fit.scaledWidth)
        let ys = taps(count: height, offset: oy, step: stepY, origin: region.y, limit: h,
                      scaled: fit.scaledHeight)
        var out = [Float](repeating: fill, count: planes.channels * n)
        planes.values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<planes.channels {
                    for (ty, (y0, y1, fy, inY)) in ys.enumerated() where inY {
                        let row0 = c * plane + y0 * w, row1 = c * plane + y1 * w
                        for (tx, (x0, x1, fx, inX)) in xs.enumerated() where inX {
                            let top = src[row0 + x0] + (src[row0 + x1] - src[row0 + x0]) * fx
                            let bottom = src[row1 + x0] + (src[row1 + x1] - src[row1 + x0]) * fx
                            dst[c * n + ty * width + tx] = top + (bottom - top) * fy
                        }
                    }
                }
            }
        }
        return Planes(channels: planes.channels, width: width, height: height, values: out)
    }

    /// One frame as the network sees it: [3, H, W] planes, fitted to the card's size and mode, in the card's
    /// colour order, scaled to its pixel range and normalised by its mean and std.
    public static func frame(_ image: Image, card: ModelCard, region: PixelRect? = nil) -> Planes {
        precondition(image.format == .rgb24, "Preprocess.frame takes RGB images")
        let input = card.input
        var planes = resize(Planes(image: image), region: region, width: input.size.width,
                            height: input.size.height, mode: input.resize, fill: Float(input.fill))
        let n = planes.width * planes.height
        let unit: Float = input.pixels == .unit ? 1 / 255 : 1
        let order = input.colour == .rgb ? [0, 1, 2] : [2, 1, 0]
        var out = [Float](repeating: 0, count: 3 * n)
        planes.values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    let from = order[c] * n, to = c * n
                    let mean = Float(input.mean[c]), scale = 1 / Float(input.std[c])
                    for i in 0..<n { dst[to + i] = (src[from + i] * unit - mean) * scale }
                }
            }
        }
        planes.values = out
        return planes
    }

    /// A clip of preprocessed frames as the graph input WITHOUT the batch dimension: [3, T, H, W] for NCTHW,
    /// [T, 3, H, W] for NTCHW, [3, H, W] for NCHW (one frame).
    public static func clipTensor(_ frames: [Planes], layout: TensorLayout) -> Tensor {
        precondition(!frames.isEmpty, "a clip has at least one frame")
        let h = frames[0].height, w = frames[0].width, n = h * w, t = frames.count
        switch layout {
        case .nchw:
            precondition(t == 1, "an NCHW input takes one frame, got \(t)")
            return Tensor(shape: [3, h, w], floats: frames[0].values)
        case .ntchw:
            var values: [Float] = []
            values.reserveCapacity(3 * t * n)
            for frame in frames { values += frame.values }
            return Tensor(shape: [t, 3, h, w], floats: values)
        case .ncthw:
            var values = [Float](repeating: 0, count: 3 * t * n)
            for (ti, frame) in frames.enumerated() {
                for c in 0..<3 {
                    let to = (c * t + ti) * n
                    values.replaceSubrange(to..<(to + n), with: frame.values[(c * n)..<((c + 1) * n)])
                }
            }
            return Tensor(shape: [3, t, h, w], floats: values)
        }
    }

    /// A tensor with a leading batch dimension of 1 (what the graph is fed; dataset files omit it).
    public static func batched(_ tensor: Tensor) -> Tensor { tensor.reshaped([1] + tensor.shape) }

    /// Softmax over a score vector (logits → probabilities), computed in Double for stability.
    public static func softmax(_ logits: [Float]) -> [Float] {
        guard let top = logits.max() else { return [] }
        let exps = logits.map { exp(Double($0 - top)) }
        let sum = exps.reduce(0, +)
        return exps.map { Float($0 / sum) }
    }

    /// Scores as probabilities: logits go through softmax, probabilities are kept.
    public static func probabilities(_ output: [Float], kind: OutputKind) -> [Float] {
        kind == .logits ? softmax(output) : output
    }
}
