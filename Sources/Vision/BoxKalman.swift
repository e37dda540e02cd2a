// A constant-velocity Kalman filter on a box, one step per processed frame: the motion model of the tracker.
// State (cx, cy, w, h, vcx, vcy, vw, vh); measurement (cx, cy, w, h). Noise scales with the box as in SORT and
// ByteTrack (their weights 1/20 for position and 1/160 for velocity), here with the width for the horizontal
// terms and the height for the vertical ones (the x, y, w, h form of BoT-SORT), so a person far away and one
// near the camera are equally sure relative to their size.
import Vocabulary

/// A box's position, size and their velocities, with their uncertainty.
public struct BoxKalman: Sendable, Equatable {
    /// (cx, cy, w, h, vcx, vcy, vw, vh).
    public private(set) var mean: [Double]
    /// 8×8 covariance, row-major.
    public private(set) var covariance: [Double]

    static let positionWeight = 1.0 / 20
    static let velocityWeight = 1.0 / 160

    /// Starts at `box` with zero velocity and a wide velocity uncertainty.
    public init(_ box: PixelRect) {
        let z = Self.measurement(box)
        mean = z + [0, 0, 0, 0]
        let w = max(z[2], 1), h = max(z[3], 1)
        let p = Self.positionWeight, v = Self.velocityWeight
        let std = [2 * p * w, 2 * p * h, 2 * p * w, 2 * p * h, 10 * v * w, 10 * v * h, 10 * v * w, 10 * v * h]
        covariance = [Double](repeating: 0, count: 64)
        for i in 0..<8 { covariance[i * 9] = std[i] * std[i] }
    }

    /// The box the state describes (width and height kept at least 1 pixel).
    public var box: PixelRect {
        let w = max(mean[2], 1), h = max(mean[3], 1)
        return PixelRect(x: mean[0] - w / 2, y: mean[1] - h / 2, width: w, height: h)
    }

    /// The velocity of the centre, pixels per frame.
    public var velocity: (x: Double, y: Double) { (mean[4], mean[5]) }

    static func measurement(_ box: PixelRect) -> [Double] {
        [box.x + box.width / 2, box.y + box.height / 2, box.width, box.height]
    }

    /// Sets the size velocity to zero: the box keeps its size from now on until a measurement says otherwise.
    public mutating func holdSize() {
        mean[6] = 0
        mean[7] = 0
    }

    /// One frame ahead: x ← F x, P ← F P Fᵀ + Q.
    public mutating func predict() {
        let w = max(mean[2], 1), h = max(mean[3], 1)
        for i in 0..<4 { mean[i] += mean[i + 4] }
        // F P Fᵀ with F = [[I, I], [0, I]]: rows then columns i += i + 4.
        var p = covariance
        for r in 0..<4 { for c in 0..<8 { p[r * 8 + c] += covariance[(r + 4) * 8 + c] } }
        var q = p
        for r in 0..<8 { for c in 0..<4 { q[r * 8 + c] += p[r * 8 + c + 4] } }
        let pw = Self.positionWeight, vw = Self.velocityWeight
        let std = [pw * w, pw * h, pw * w, pw * h, vw * w, vw * h, vw * w, vw * h]
        for i in 0..<8 { q[i * 9] += std[i] * std[i] }
        covariance = q
        // A box never shrinks through zero: a negative size velocity stops at a 1-pixel box.
        mean[2] = max(mean[2], 1)
        mean[3] = max(mean[3], 1)
    }

    /// Corrects the state with a measured box (the standard update with H = [I 0]).
    /// `confidence` in (0, 1] scales the measurement noise by 1/confidence: a weak measurement (a search peak
    /// rather than a detection) moves the state less.
    public mutating func update(_ box: PixelRect, confidence: Double = 1) {
        let z = Self.measurement(box)
        let w = max(mean[2], 1), h = max(mean[3], 1)
        let pw = Self.positionWeight
        let rStd = [pw * w, pw * h, pw * w, pw * h]
        let scale = 1 / max(min(confidence, 1), 1e-3)
        // S = H P Hᵀ + R: the top-left 4×4 block of P.
        var s = [Double](repeating: 0, count: 16)
        for r in 0..<4 { for c in 0..<4 { s[r * 4 + c] = covariance[r * 8 + c] } }
        for i in 0..<4 { s[i * 5] += rStd[i] * rStd[i] * scale }
        guard let sInverse = Self.invert4(s) else { return }
        // K = P Hᵀ S⁻¹ (8×4); P Hᵀ is the first four columns of P.
        var k = [Double](repeating: 0, count: 32)
        for r in 0..<8 {
            for c in 0..<4 {
                var sum = 0.0
                for j in 0..<4 { sum += covariance[r * 8 + j] * sInverse[j * 4 + c] }
                k[r * 4 + c] = sum
            }
        }
        let innovation = (0..<4).map { z[$0] - mean[$0] }
        for r in 0..<8 {
            var sum = 0.0
            for j in 0..<4 { sum += k[r * 4 + j] * innovation[j] }
            mean[r] += sum
        }
        // P ← P − K H P; H P is the first four rows of P.
        var p = covariance
        for r in 0..<8 {
            for c in 0..<8 {
                var sum = 0.0
                for j in 0..<4 { sum += k[r * 4 + j] * covariance[j * 8 + c] }
                p[r * 8 + c] -= sum
            }
        }
        covariance = p
        mean[2] = max(mean[2], 1)
        mean[3] = max(mean[3], 1)
    }

    /// Inverse of a 4×4 matrix by Gauss–Jordan elimination with partial pivoting; nil when singular.
    static func invert4(_ m: [Double]) -> [Double]? {
        var a = m, inv = [Double](repeating: 0, count: 16)
        for i in 0..<4 { inv[i * 5] = 1 }
        for col in 0..<4 {
            var pivot = col
            for r in col + 1..<4 where abs(a[r * 4 + col]) > abs(a[pivot * 4 + col]) { pivot = r }
            guard abs(a[pivot * 4 + col]) > 1e-12 else { return nil }
            if pivot != col {
                for c in 0..<4 {
                    a.swapAt(col * 4 + c, pivot * 4 + c)
                    inv.swapAt(col * 4 + c, pivot * 4 + c)
                }
            }
            let d = a[col * 4 + col]
            for c in 0..<4 {
                a[col * 4 + c] /= d
                inv[col * 4 + c] /= d
            }
            for r in 0..<4 where r != col {
                let f = a[r * 4 + col]
                if f == 0 { continue }
                for c in 0..<4 {
                    a[r * 4 + c] -= f * a[col * 4 + c]
                    inv[r * 4 + c] -= f * inv[col * 4 + c]
                }
            }
        }
        return inv
    }
}

extension PixelRect {
    /// Intersection over union with `other`; 0 when either box is empty.
    public func iou(_ other: PixelRect) -> Double {
        let ix = max(0, min(x + width, other.x + other.width) - max(x, other.x))
        let iy = max(0, min(y + height, other.y + other.height) - max(y, other.y))
        let inter = ix * iy
        let union = width * height + other.width * other.height - inter
        return union > 0 ? inter / union : 0
    }

    /// The centre point.
    public var centre: (x: Double, y: Double) { (x + width / 2, y + height / 2) }
}
