// ONNX Resize (opset 10+) and Upsample (opset 7–9): nearest (all nearest_mode and coordinate transformation
// modes except tf_crop_and_resize) and N-linear. Linear runs separably, one axis at a time (exactly N-linear
// interpolation); nearest is one gather through per-axis index tables.
import Foundation
import Tensor

public final class ResizeOp: Operator {
    enum Mode: String { case nearest, linear }
    enum Transform: String {
        case halfPixel = "half_pixel", pytorchHalfPixel = "pytorch_half_pixel", alignCorners = "align_corners"
        case asymmetric, tfHalfPixelForNN = "tf_half_pixel_for_nn"
    }
    enum Rounding: String {
        case roundPreferFloor = "round_prefer_floor", roundPreferCeil = "round_prefer_ceil", floor, ceil
        case simple  // Upsample and Resize-10: truncate, ceil when downsampling (ONNX Runtime's legacy rule)
    }

    let mode: Mode
    let transform: Transform
    let rounding: Rounding
    let isUpsample: Bool
    let attributeScales: [Float]?
    /// Per axis: source index pairs and weight of the second (linear) or the source index (nearest).
    var lower: [[Int]] = []
    var upper: [[Int]] = []
    var weights: [[Float]] = []
    var inShape: [Int] = []
    var outShape: [Int] = []
    var activeAxes: [Int] = []
    /// Nearest mode: per axis, the input element offset of each output coordinate (built once at load).
    var nearestOffsets: [[Int]] = []
    public private(set) var workspaceBytes = 0

    public init(_ node: NodeSpec) throws {
        isUpsample = node.opType == "Upsample"
        let modeName = try node.string("mode", default: "nearest")
        guard let mode = Mode(rawValue: modeName == "bilinear" || modeName == "trilinear" ? "linear" : modeName) else {
            throw OpError.unsupported("mode \"\(modeName)\" (nearest and linear are supported)")
        }
        self.mode = mode
        let legacy = isUpsample || node.opset < 11
        let transformName = try node.string("coordinate_transformation_mode",
                                            default: legacy ? "asymmetric" : "half_pixel")
        guard let transform = Transform(rawValue: transformName) else {
            throw OpError.unsupported("coordinate_transformation_mode \"\(transformName)\"")
        }
        self.transform = transform
        if legacy {
            rounding = .simple
        } else {
            let name = try node.string("nearest_mode", default: "round_prefer_floor")
            guard let rounding = Rounding(rawValue: name) else { throw OpError.unsupported("nearest_mode \"\(name)\"") }
            self.rounding = rounding
        }
        if try node.int("antialias", default: 0) != 0 { throw OpError.unsupported("antialias = 1") }
        if node.has("axes") { throw OpError.unsupported("the axes attribute") }
        let policy = try node.string("keep_aspect_ratio_policy", default: "stretch")
        guard policy == "stretch" else { throw OpError.unsupported("keep_aspect_ratio_policy \"\(policy)\"") }
        attributeScales = try node.floats("scales")
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        try requireFloat(x)
        let rank = x.shape.count
        inShape = x.shape
        var scales: [Float]
        var sizes: [Int]?
        if let attributeScales {
            scales = attributeScales
        } else if isUpsample || inputs.count == 2 {
            scales = try constants.constant(1, "scales").floatValues
        } else {
            let scaleInput = inputs.optional(2) != nil ? try constants.constant(2, "scales").floatValues : []
            if !scaleInput.isEmpty {
                scales = scaleInput
            } else {
                sizes = try constants.constant(3, "sizes").integers
                guard sizes!.count == rank else { throw OpError("sizes \(sizes!) for rank \(rank)") }
                scales = (0..<rank).map { Float(sizes![$0]) / Float(max(x.shape[$0], 1)) }
            }
        }
        guard scales.count == rank, scales.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw OpError("scales \(scales) for rank \(rank)")
        }
        outShape = sizes ?? (0..<rank).map {
            Int(saturating: (Double(x.shape[$0]) * Double(scales[$0])).rounded(.down))
        }
        try checkInferredShape(outShape, "output shape")
        lower = []
        upper = []
        weights = []
        activeAxes = []
        for axis in 0..<rank {
            let (n, m, scale) = (inShape[axis], outShape[axis], scales[axis])
            var lo = [Int](repeating: 0, count: m)
            var hi = lo
            var w = [Float](repeating: 0, count: m)
            for o in 0..<m {
                let original = sourceCoordinate(Float(o), scale: scale, inLength: n, outLength: m)
                if mode == .nearest {
                    lo[o] = min(max(nearest(original, downsampling: scale < 1), 0), n - 1)
                } else {
                    let clamped = min(max(original, 0), Float(n - 1))
                    let base = Int(clamped.rounded(.down))
                    lo[o] = base
                    hi[o] = min(base + 1, n - 1)
                    w[o] = clamped - Float(base)
                }
            }
            let identity = n == m && lo == Array(0..<m) && w.allSatisfy { $0 == 0 }
            if !identity { activeAxes.append(axis) }
            lower.append(lo)
            upper.append(hi)
            weights.append(w)
        }
        if mode == .nearest {
            let strides = contiguousStrides(inShape)
            nearestOffsets = (0..<rank).map { axis in lower[axis].map { $0 * strides[axis] } }
        }
        if mode == .linear {
            // Two ping-pong buffers big enough for every intermediate shape.
            var shape = inShape
            var largest = 0
            for axis in activeAxes {
                shape[axis] = outShape[axis]
                largest = max(largest, shape.reduce(1, *))
            }
            workspaceBytes = 2 * largest * 4
        }
        return [ValueType(.float32, outShape)]
    }

    func sourceCoordinate(_ x: Float, scale: Float, inLength: Int, outLength: Int) -> Float {
        switch transform {
        case .halfPixel: return (x + 0.5) / scale - 0.5
        case .pytorchHalfPixel: return outLength > 1 ? (x + 0.5) / scale - 0.5 : 0
        case .alignCorners: return outLength == 1 ? 0 : x * Float(inLength - 1) / Float(outLength - 1)
        case .asymmetric: return x / scale
        case .tfHalfPixelForNN: return (x + 0.5) / scale
        }
    }

    func nearest(_ x: Float, downsampling: Bool) -> Int {
        switch rounding {
        case .floor: return Int(x.rounded(.down))
        case .ceil: return Int(x.rounded(.up))
        case .roundPreferFloor: return x == x.rounded(.down) + 0.5 ? Int(x.rounded(.down)) : Int(x.rounded())
        case .roundPreferCeil: return x == x.rounded(.down) + 0.5 ? Int(x.rounded(.up)) : Int(x.rounded())
        case .simple: return downsampling ? Int(x.rounded(.up)) : Int(x)
        }
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!.floats
        let y = outputs[0].floats
        if mode == .nearest {
            gatherNearest(x, y)
            return
        }
        if activeAxes.isEmpty {
            y.update(from: x, count: outputs[0].count)
            return
        }
        let half = workspaceBytes / 8
        let first = workspace.assumingMemoryBound(to: Float.self)
        let buffers = [first, first + half]
        var shape = inShape
        var source = UnsafePointer(x)
        for (step, axis) in activeAxes.enumerated() {
            let destination = step == activeAxes.count - 1 ? y : buffers[step % 2]
            let outer = shape[..<axis].reduce(1, *)
            let inner = shape[(axis + 1)...].reduce(1, *)
            let (n, m) = (shape[axis], outShape[axis])
            let (lo, hi, w) = (lower[axis], upper[axis], weights[axis])
            for o in 0..<outer {
                let src = source + o * n * inner
                let dst = destination + o * m * inner
                for i in 0..<m {
                    let a = src + lo[i] * inner
                    let b = src + hi[i] * inner
                    let t = w[i]
                    let row = dst + i * inner
                    for j in 0..<inner { row[j] = a[j] + (b[j] - a[j]) * t }
                }
            }
            shape[axis] = m
            source = UnsafePointer(destination)
        }
    }

    private func gatherNearest(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let rank = outShape.count
        let total = outShape.reduce(1, *)
        guard total > 0 else { return }
        let offsets = nearestOffsets
        let last = offsets[rank - 1]
        withUnsafeTemporaryAllocation(of: Int.self, capacity: rank) { counter in
            counter.initialize(repeating: 0)
            var base = (0..<rank - 1).reduce(0) { $0 + offsets[$1][0] }
            var o = 0
            while o < total {
                for j in 0..<last.count { y[o + j] = x[base + last[j]] }
                o += last.count
                var axis = rank - 2
                while axis >= 0 {
                    base -= offsets[axis][counter[axis]]
                    counter[axis] += 1
                    if counter[axis] < outShape[axis] {
                        base += offsets[axis][counter[axis]]
                        break
                    }
                    counter[axis] = 0
                    base += offsets[axis][0]
                    axis -= 1
                }
                if axis < 0 { break }
            }
        }
    }
}
