// The arithmetic of a Siamese-correlation tracker (SiamFC, with CFNet's template update done by the caller),
// separate from the network and the pixels: crop geometry with a context margin, the cross-correlation of
// exemplar features over search features, and the inference details that turn a response map into a position:
// upsampling, the cosine-window penalty, a few scales with a penalty and damping.
import Foundation
import Vocabulary

/// The geometry of exemplar and search crops, as the network was trained on them.
public struct SiameseGeometry: Sendable, Equatable {
    /// Side of the exemplar crop the network takes, pixels.
    public var exemplar: Int
    /// Side of the search crop, pixels.
    public var search: Int
    /// Total stride of the backbone: response cells are this many search-crop pixels apart.
    public var stride: Int
    /// Context margin: p = context·(w + h) is added around the box before the crop is cut.
    public var context: Double

    public init(exemplar: Int, search: Int, stride: Int, context: Double) {
        self.exemplar = exemplar
        self.search = search
        self.stride = stride
        self.context = context
    }

    /// SiamFC's exemplar side in frame pixels for a box: sqrt((w + p)(h + p)), p = context·(w + h).
    public func exemplarSide(width: Double, height: Double) -> Double {
        let p = context * (width + height)
        return max(((width + p) * (height + p)).squareRoot(), 1)
    }

    /// The search side in frame pixels for the same box: the exemplar side scaled like the crops.
    public func searchSide(width: Double, height: Double) -> Double {
        exemplarSide(width: width, height: height) * Double(search) / Double(exemplar)
    }
}

/// Features of one crop: channels × height × width, row-major.
public struct FeatureMap: Sendable, Equatable {
    public var values: [Float]
    public var channels: Int
    public var height: Int
    public var width: Int

    public init(values: [Float], channels: Int, height: Int, width: Int) {
        precondition(values.count == channels * height * width, "feature values do not match their shape")
        self.values = values
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// (1 − rate)·self + rate·other: CFNet's running-average template.
    public func blended(with other: FeatureMap, rate: Float) -> FeatureMap {
        precondition(other.values.count == values.count)
        var out = self
        for i in out.values.indices { out.values[i] = (1 - rate) * values[i] + rate * other.values[i] }
        return out
    }
}

public enum SiameseCorrelation {
    /// r[u, v] = scale · Σ_c Σ_i Σ_j z[c, i, j] · x[c, u + i, v + j] + bias: the exemplar's features slid over
    /// the search features without padding (PyTorch's `conv2d(x, z)`), as a (H−h+1)×(W−w+1) map of logits.
    public static func correlate(_ z: FeatureMap, over x: FeatureMap, scale: Float, bias: Float) -> [Float] {
        precondition(z.channels == x.channels && z.height <= x.height && z.width <= x.width)
        let rows = x.height - z.height + 1, columns = x.width - z.width + 1, channels = z.channels
        // Channels last, so each term is one contiguous dot product over the channels.
        let zt = channelsLast(z), xt = channelsLast(x)
        var response = [Float](repeating: 0, count: rows * columns)
        zt.withUnsafeBufferPointer { zp in
            xt.withUnsafeBufferPointer { xp in
                for u in 0..<rows {
                    for v in 0..<columns {
                        var sum: Float = 0
                        for i in 0..<z.height {
                            for j in 0..<z.width {
                                let zBase = (i * z.width + j) * channels, xBase = ((u + i) * x.width + v + j) * channels
                                // Eight lanes at a time (the order of the float sums is fixed, so results do not
                                // depend on the machine), then the remainder.
                                var lanes = SIMD8<Float>()
                                var c = 0
                                while c + 8 <= channels {
                                    let zv = SIMD8<Float>(zp[(zBase + c)..<(zBase + c + 8)])
                                    let xv = SIMD8<Float>(xp[(xBase + c)..<(xBase + c + 8)])
                                    lanes += zv * xv
                                    c += 8
                                }
                                var partial = lanes.sum()
                                while c < channels {
                                    partial += zp[zBase + c] * xp[xBase + c]
                                    c += 1
                                }
                                sum += partial
                            }
                        }
                        response[u * columns + v] = sum * scale + bias
                    }
                }
            }
        }
        return response
    }

    private static func channelsLast(_ f: FeatureMap) -> [Float] {
        let hw = f.height * f.width
        var out = [Float](repeating: 0, count: f.values.count)
        for c in 0..<f.channels { for p in 0..<hw { out[p * f.channels + c] = f.values[c * hw + p] } }
        return out
    }
}

/// SiamFC's inference details, with its published values as defaults.
public struct SiameseSearchSettings: Sendable, Equatable {
    /// Response upsampling factor (bicubic).
    public var upsample: Int = 8
    /// Weight of the cosine (Hann) window against the normalised response: penalises large displacements.
    public var windowInfluence: Double = 0.176
    /// Scale step of the pyramid (scales step⁻¹, 1, step).
    public var scaleStep: Double = 1.0375
    /// Factor on the peak of the non-unit scales (favours no change of size).
    public var scalePenalty: Double = 0.9745
    /// Damping of the size change: new size = (1 − rate)·old + rate·old·scale.
    public var scaleRate: Double = 0.59

    public init() {}
}

/// One response map (logits) located in frame pixels.
public struct LocatedResponse: Sendable {
    public var logits: [Float]
    public var rows: Int
    public var columns: Int
    /// Frame position of cell (0, 0), and the frame distance between neighbouring cells.
    public var originX: Double
    public var originY: Double
    public var spacing: Double

    /// The response of a search crop of side `side` frame pixels centred on (`centreX`, `centreY`): cell (u, v)
    /// looks at the exemplar-sized window starting at search pixel (v·stride, u·stride), whose centre is
    /// v·stride + exemplar/2, so the middle cell is the crop's centre.
    public init(logits: [Float], rows: Int, columns: Int, geometry: SiameseGeometry, centreX: Double,
                centreY: Double, side: Double) {
        precondition(logits.count == rows * columns && rows > 0 && columns > 0)
        self.logits = logits
        self.rows = rows
        self.columns = columns
        spacing = Double(geometry.stride) * side / Double(geometry.search)
        originX = centreX - Double(columns - 1) / 2 * spacing
        originY = centreY - Double(rows - 1) / 2 * spacing
    }

    /// Probabilities (sigmoid of the logits) on the response grid, for matching detections.
    public func appearance(peak: PixelRect, confidence: Double) -> AppearanceResponse {
        AppearanceResponse(values: logits.map { 1 / (1 + exp(-Double($0))) }, rows: rows, columns: columns,
                           originX: originX, originY: originY, spacing: spacing, peak: peak, confidence: confidence)
    }
}

public enum SiamesePeak {
    /// Bicubic (Keys, a = −0.5) upsampling of a rows×columns map so that output point k·factor is input cell k:
    /// (rows−1)·factor+1 by (columns−1)·factor+1 points.
    public static func upsample(_ map: [Float], rows: Int, columns: Int, factor: Int) -> (values: [Double], rows: Int,
                                                                                          columns: Int) {
        let outRows = (rows - 1) * factor + 1, outColumns = (columns - 1) * factor + 1
        // Separable: each output coordinate's four source indices (clamped) and weights, once per axis.
        func taps(_ count: Int, _ outCount: Int) -> [(index: [Int], weight: [Double])] {
            (0..<outCount).map { o in
                let p = Double(o) / Double(factor), base = min(Int(p), count - 1), t = p - Double(base)
                let a = -0.5
                func k(_ x: Double) -> Double {
                    let x = abs(x)
                    if x <= 1 { return (a + 2) * x * x * x - (a + 3) * x * x + 1 }
                    if x < 2 { return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a }
                    return 0
                }
                return ((0..<4).map { min(max(base - 1 + $0, 0), count - 1) }, [k(1 + t), k(t), k(1 - t), k(2 - t)])
            }
        }
        let across = taps(columns, outColumns), down = taps(rows, outRows)
        var wide = [Double](repeating: 0, count: rows * outColumns)
        for r in 0..<rows {
            for (o, tap) in across.enumerated() {
                var sum = 0.0
                for j in 0..<4 { sum += tap.weight[j] * Double(map[r * columns + tap.index[j]]) }
                wide[r * outColumns + o] = sum
            }
        }
        var out = [Double](repeating: 0, count: outRows * outColumns)
        for (o, tap) in down.enumerated() {
            for c in 0..<outColumns {
                var sum = 0.0
                for i in 0..<4 { sum += tap.weight[i] * wide[tap.index[i] * outColumns + c] }
                out[o * outColumns + c] = sum
            }
        }
        return (out, outRows, outColumns)
    }

    /// The peak of one response after SiamFC's post-processing: upsampled, shifted to be non-negative and
    /// normalised to sum 1, blended with a Hann window of the same size (`windowInfluence`). Returns the peak's
    /// frame position, the penalised score (for comparing scales) and the probability there (sigmoid of the
    /// interpolated logit).
    public static func locate(_ response: LocatedResponse, settings: SiameseSearchSettings)
        -> (x: Double, y: Double, score: Double, probability: Double)
    {
        let factor = max(settings.upsample, 1)
        let (up, rows, columns) = upsample(response.logits, rows: response.rows, columns: response.columns,
                                           factor: factor)
        let low = up.min() ?? 0
        var total = 0.0
        for v in up { total += v - low }
        func hann(_ n: Int) -> [Double] {
            n == 1 ? [1] : (0..<n).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(n - 1)) }
        }
        let wy = hann(rows), wx = hann(columns)
        var windowTotal = 0.0
        for a in wy { for b in wx { windowTotal += a * b } }
        var best = -Double.infinity, bestIndex = 0
        let w = settings.windowInfluence
        for r in 0..<rows {
            for c in 0..<columns {
                let normalised = total > 0 ? (up[r * columns + c] - low) / total : 0
                let score = (1 - w) * normalised + w * wy[r] * wx[c] / max(windowTotal, 1e-12)
                if score > best {
                    best = score
                    bestIndex = r * columns + c
                }
            }
        }
        let r = bestIndex / columns, c = bestIndex % columns
        let step = response.spacing / Double(factor)
        let logit = up[bestIndex]
        return (response.originX + Double(c) * step, response.originY + Double(r) * step,
                up.max() ?? 0, 1 / (1 + exp(-logit)))
    }
}
