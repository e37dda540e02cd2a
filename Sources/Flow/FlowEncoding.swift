// Flow as network input, following the two-stream/TSN/MMAction2 conventions: clip to ±bound, map linearly to
// uint8 (128 = no motion) or to floats in −1...1, stack L fields as 2L channels (x1, y1, x2, y2, …), optionally
// subtract each field's mean motion (camera motion) first. Plus a colour-wheel picture for people.
import Foundation  // atan2

/// How flow fields become network input.
public struct FlowEncoding: Sendable, Equatable {
    /// Which mean motion is subtracted before clipping (removes global, e.g. camera, motion).
    public enum MeanSubtraction: String, Sendable, CaseIterable {
        /// Keep the displacements as they are.
        case none
        /// Each field's own mean (dx, dy), as in Simonyan & Zisserman's two-stream network.
        case perField = "per-field"
        /// One mean (dx, dy) over all fields of the stack: keeps motion that changes within the stack.
        case perStack = "per-stack"
    }

    /// Displacements are clipped to ±bound pixels before scaling (TSN and MMAction2 use 20).
    public var bound: Float
    public var meanSubtraction: MeanSubtraction

    public init(bound: Float = 20, meanSubtraction: MeanSubtraction = .none) {
        precondition(bound > 0, "FlowEncoding: bound must be > 0")
        self.bound = bound
        self.meanSubtraction = meanSubtraction
    }

    /// One displacement as a byte: −bound → 0, 0 → 128, +bound → 255 (round half up, like
    /// `np.round((v + b) * 255 / (2b))` on the clipped value, except that 127.5 goes to 128).
    @inlinable public func byte(_ value: Float) -> UInt8 {
        let clipped = value.isNaN ? 0 : min(max(value, -bound), bound)
        return UInt8(((clipped + bound) * (255 / (2 * bound)) + 0.5).rounded(.down))
    }

    /// One displacement as a float in −1...1 (clipped value / bound).
    @inlinable public func scaled(_ value: Float) -> Float {
        (value.isNaN ? 0 : min(max(value, -bound), bound)) / bound
    }

    /// The field's mean (dx, dy).
    public static func meanMotion(_ field: FlowField) -> SIMD2<Float> {
        let n = field.width * field.height
        guard n > 0 else { return .zero }
        var sx = 0.0, sy = 0.0
        for i in 0..<n {
            sx += Double(field.values[2 * i])
            sy += Double(field.values[2 * i + 1])
        }
        return SIMD2(Float(sx / Double(n)), Float(sy / Double(n)))
    }

    /// Channels-first planes [2L, H, W] of the fields in order: x of field 1, y of field 1, x of field 2, …
    /// with `transform` applied to every (mean-adjusted) displacement.
    private func planes<T>(_ fields: [FlowField], _ transform: (Float) -> T) -> [T] {
        guard let first = fields.first else { return [] }
        let w = first.width, h = first.height, n = w * h
        precondition(fields.allSatisfy { $0.width == w && $0.height == h }, "FlowEncoding: fields differ in size")
        var out = [T]()
        out.reserveCapacity(2 * n * fields.count)
        let stackMean = meanSubtraction == .perStack
            ? fields.map(Self.meanMotion).reduce(.zero, +) / Float(fields.count) : .zero
        for field in fields {
            let mean = meanSubtraction == .perField ? Self.meanMotion(field) : stackMean
            for component in 0..<2 {
                for i in 0..<n { out.append(transform(field.values[2 * i + component] - mean[component])) }
            }
        }
        return out
    }

    /// A stack of L fields as 2L uint8 planes (channels-first, H×W each).
    public func bytes(_ fields: [FlowField]) -> [UInt8] { planes(fields, byte) }

    /// A stack of L fields as 2L float planes in −1...1 (channels-first, H×W each).
    public func floats(_ fields: [FlowField]) -> [Float] { planes(fields, scaled) }
}

/// Flow as a picture: hue is the direction (colour wheel), saturation the speed; no motion is white.
public enum FlowVisualization {
    /// RGB bytes (H×W×3). Speeds at or above `maxMagnitude` get full saturation; nil uses the field's largest
    /// finite speed (an all-zero field is white).
    public static func rgb(_ field: FlowField, maxMagnitude: Float? = nil) -> [UInt8] {
        let n = field.width * field.height
        var largest: Float = 0
        if maxMagnitude == nil {
            for i in 0..<n {
                let m = (field.values[2 * i] * field.values[2 * i] + field.values[2 * i + 1] * field.values[2 * i + 1])
                    .squareRoot()
                if m.isFinite { largest = max(largest, m) }
            }
        }
        let scale = maxMagnitude ?? largest
        var out = [UInt8](repeating: 255, count: 3 * n)
        guard scale > 0 else { return out }
        for i in 0..<n {
            let dx = field.values[2 * i], dy = field.values[2 * i + 1]
            guard dx.isFinite, dy.isFinite else { continue }
            let saturation = min(1, (dx * dx + dy * dy).squareRoot() / scale)
            var hue = atan2(dy, dx) / (2 * .pi)  // −0.5...0.5; 0 = rightwards = red
            if hue < 0 { hue += 1 }
            let rgb = hsvToRGB(hue: hue, saturation: saturation, value: 1)
            out[3 * i] = UInt8((rgb.x * 255).rounded())
            out[3 * i + 1] = UInt8((rgb.y * 255).rounded())
            out[3 * i + 2] = UInt8((rgb.z * 255).rounded())
        }
        return out
    }

    /// HSV (all in 0...1) to RGB in 0...1.
    static func hsvToRGB(hue: Float, saturation s: Float, value v: Float) -> SIMD3<Float> {
        let h6 = (hue - hue.rounded(.down)) * 6
        let sector = Int(h6) % 6
        let f = h6 - Float(Int(h6))
        let p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f))
        switch sector {
        case 0: return SIMD3(v, t, p)
        case 1: return SIMD3(q, v, p)
        case 2: return SIMD3(p, v, t)
        case 3: return SIMD3(p, q, v)
        case 4: return SIMD3(t, p, v)
        default: return SIMD3(v, p, q)
        }
    }
}
