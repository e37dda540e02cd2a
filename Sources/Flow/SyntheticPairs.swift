// Deterministic textured frame pairs with exact ground-truth flow, for tests, benchmarks and the OpenCV
// comparison (the CLI dumps them so both sides see identical 8-bit frames).
import Foundation  // sin, cos

/// A continuous, deterministic texture: multi-octave value noise plus soft-edged discs and boxes.
/// Evaluated at real coordinates, so any warp of it is exact.
public struct SyntheticTexture: Sendable {
    public let seed: UInt64
    private struct Shape: Sendable {
        var disc: Bool
        var cx: Float, cy: Float, rx: Float, ry: Float
        var value: Float
    }
    private let shapes: [Shape]

    /// Shapes are laid out relative to `width`×`height`; the noise is in pixels.
    public init(seed: UInt64 = 7, width: Int, height: Int) {
        self.seed = seed
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        func next() -> Float {
            state = Self.mix(state &+ 0x9E37_79B9_7F4A_7C15)
            return Float(state >> 40) / Float(1 << 24)
        }
        var shapes = [Shape]()
        for k in 0..<14 {
            let size = Float(min(width, height)) * (0.04 + 0.1 * next())
            shapes.append(Shape(disc: k % 2 == 0, cx: next() * Float(width), cy: next() * Float(height),
                                rx: size, ry: size * (0.6 + 0.8 * next()), value: 20 + 215 * next()))
        }
        self.shapes = shapes
    }

    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private func lattice(_ ix: Int, _ iy: Int, _ octave: Int) -> Float {
        let key = UInt64(bitPattern: Int64(ix)) &* 0x1000_0000_01B3 ^ UInt64(bitPattern: Int64(iy)) &* 0x9E37_79B9
            ^ UInt64(octave) << 56 ^ seed
        return Float(Self.mix(key) >> 40) / Float(1 << 24)
    }

    private func valueNoise(_ x: Float, _ y: Float, cell: Float, octave: Int) -> Float {
        let gx = x / cell, gy = y / cell
        let fx = gx.rounded(.down), fy = gy.rounded(.down)
        let ix = Int(fx), iy = Int(fy)
        var tx = gx - fx, ty = gy - fy
        tx = tx * tx * (3 - 2 * tx)  // smoothstep: continuous gradient across cells
        ty = ty * ty * (3 - 2 * ty)
        let a = lattice(ix, iy, octave), b = lattice(ix + 1, iy, octave)
        let c = lattice(ix, iy + 1, octave), d = lattice(ix + 1, iy + 1, octave)
        let top = a + tx * (b - a), bottom = c + tx * (d - c)
        return top + ty * (bottom - top)
    }

    /// Intensity in 0...255 at real coordinates (x, y).
    public func intensity(_ x: Float, _ y: Float) -> Float {
        var value: Float = 0
        let octaves: [(cell: Float, amplitude: Float)] = [(48, 90), (24, 60), (12, 40), (6, 26)]
        for (k, o) in octaves.enumerated() {
            value += o.amplitude * (valueNoise(x, y, cell: o.cell, octave: k) - 0.5)
        }
        value += 128
        for s in shapes {
            // Signed distance-like measure in pixels, then a one-pixel ramp for a soft (band-limited) edge.
            let dx = (x - s.cx) / s.rx, dy = (y - s.cy) / s.ry
            let inside: Float
            if s.disc {
                inside = (1 - (dx * dx + dy * dy).squareRoot()) * min(s.rx, s.ry)
            } else {
                inside = min(1 - abs(dx), 1 - abs(dy)) * min(s.rx, s.ry)
            }
            let coverage = min(max(inside + 0.5, 0), 1)
            if coverage > 0 { value += coverage * (s.value - value) }
        }
        return min(max(value, 0), 255)
    }
}

/// A pair of 8-bit frames (stored as Float) and the exact forward flow between them.
public struct SyntheticFlowPair: Sendable {
    public let name: String
    public let first: GrayImage
    public let second: GrayImage
    public let truth: FlowField

    /// The motions the tests and the OpenCV comparison use.
    public enum Motion: String, CaseIterable, Sendable {
        case translateSubpixel = "translate-subpixel"
        case translateLarge = "translate-large"
        case rotate
        case zoom
        case smoothField = "smooth-field"
    }

    /// Renders `motion` at `width`×`height`. Frame 1 is the texture; frame 2 is the texture moved by the flow.
    public init(motion: Motion, width: Int, height: Int, seed: UInt64 = 7) {
        let texture = SyntheticTexture(seed: seed, width: width, height: height)
        let cx = Float(width - 1) / 2, cy = Float(height - 1) / 2
        // `backward(p)` maps a frame-2 pixel to the texture point it shows; `forward(q)` is the true flow.
        let backward: (Float, Float) -> (Float, Float)
        let forward: (Float, Float) -> (Float, Float)
        switch motion {
        case .translateSubpixel, .translateLarge:
            let t: (Float, Float) = motion == .translateSubpixel ? (0.37, -0.61) : (6.3, -4.4)
            backward = { x, y in (x - t.0, y - t.1) }
            forward = { _, _ in t }
        case .rotate:
            let angle: Float = 2.5 * .pi / 180
            let c = cos(angle), s = sin(angle)
            backward = { x, y in  // R⁻¹ (p − c) + c
                let dx = x - cx, dy = y - cy
                return (cx + c * dx + s * dy, cy - s * dx + c * dy)
            }
            forward = { x, y in
                let dx = x - cx, dy = y - cy
                return (c * dx - s * dy - dx, s * dx + c * dy - dy)
            }
        case .zoom:
            let scale: Float = 1.04
            backward = { x, y in (cx + (x - cx) / scale, cy + (y - cy) / scale) }
            forward = { x, y in ((scale - 1) * (x - cx), (scale - 1) * (y - cy)) }
        case .smoothField:
            // Frame 2 shows the texture displaced by a smooth field b: I2(p) = T(p − b(p)). The forward flow
            // solves q + f(q) = p with p − b(p) = q: the fixed point p = q + b(p) (a contraction: |∇b| ≪ 1).
            let field = SyntheticTexture(seed: seed &+ 101, width: width, height: height)
            let amplitude: Float = 4
            let b: (Float, Float) -> (Float, Float) = { x, y in
                (amplitude * field.smooth(x, y, channel: 0), amplitude * field.smooth(x, y, channel: 1))
            }
            backward = { x, y in
                let d = b(x, y)
                return (x - d.0, y - d.1)
            }
            forward = { x, y in
                var p = (x, y)
                for _ in 0..<40 {
                    let d = b(p.0, p.1)
                    p = (x + d.0, y + d.1)
                }
                return (p.0 - x, p.1 - y)
            }
        }
        var first = [Float](repeating: 0, count: width * height), second = first
        var truth = [Float](repeating: 0, count: width * height * 2)
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                first[i] = texture.intensity(Float(x), Float(y)).rounded()
                let src = backward(Float(x), Float(y))
                second[i] = texture.intensity(src.0, src.1).rounded()
                let f = forward(Float(x), Float(y))
                truth[2 * i] = f.0
                truth[2 * i + 1] = f.1
            }
        }
        name = "\(motion.rawValue)-\(width)x\(height)"
        self.first = GrayImage(width: width, height: height, pixels: first)
        self.second = GrayImage(width: width, height: height, pixels: second)
        self.truth = FlowField(width: width, height: height, values: truth)
    }

    /// FNV-1a over both frames' 8-bit bytes: lets a fixture check it was made from these exact frames.
    public var fingerprint: String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for image in [first, second] {
            for byte in image.quantizedBytes() {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
            }
        }
        return String(hash, radix: 16)
    }
}

extension SyntheticTexture {
    /// A smooth field in −1...1 (one 80-pixel octave plus a 40-pixel one) for displacement fields.
    func smooth(_ x: Float, _ y: Float, channel: Int) -> Float {
        let a = valueNoise(x, y, cell: 80, octave: 10 + channel) - 0.5
        let b = valueNoise(x, y, cell: 40, octave: 20 + channel) - 0.5
        return 1.4 * a + 0.6 * b
    }
}
