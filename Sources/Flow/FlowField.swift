// The dense flow field every method returns, plus the comparisons (endpoint error) the tests and benchmarks use.

/// Dense forward flow from frame 1 to frame 2, H×W×2 float32 interleaved (dx, dy) per pixel:
/// frame1(q) ≈ frame2(q + f(q)).
public struct FlowField: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `height * width * 2` values: for pixel (x, y), dx at `2 * (y * width + x)`, dy right after.
    public var values: [Float]

    public init(width: Int, height: Int, values: [Float]) {
        precondition(width >= 0 && height >= 0 && values.count == width * height * 2,
                     "FlowField: \(values.count) values for \(width)x\(height)x2")
        self.width = width
        self.height = height
        self.values = values
    }

    /// Zero motion everywhere.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, values: [Float](repeating: 0, count: width * height * 2))
    }

    @inlinable public subscript(x: Int, y: Int) -> SIMD2<Float> {
        get {
            let i = 2 * (y * width + x)
            return SIMD2(values[i], values[i + 1])
        }
        set {
            let i = 2 * (y * width + x)
            values[i] = newValue.x
            values[i + 1] = newValue.y
        }
    }

    /// True when no component is NaN or infinite.
    public var isFinite: Bool { values.allSatisfy { $0.isFinite } }

    /// Mean endpoint error against `truth` over pixels where `mask` is true (all pixels when nil).
    /// Returns 0 for an empty selection.
    public func endpointError(to truth: FlowField, mask: [Bool]? = nil) -> Double {
        precondition(truth.width == width && truth.height == height, "endpointError: size mismatch")
        var sum = 0.0
        var count = 0
        for i in 0..<(width * height) where mask?[i] ?? true {
            let dx = Double(values[2 * i] - truth.values[2 * i])
            let dy = Double(values[2 * i + 1] - truth.values[2 * i + 1])
            sum += (dx * dx + dy * dy).squareRoot()
            count += 1
        }
        return count == 0 ? 0 : sum / Double(count)
    }

    /// Pixels whose flow target q + f(q) lies inside the frame (the ones a flow method can see).
    public func targetsInsideFrame() -> [Bool] {
        var mask = [Bool](repeating: false, count: width * height)
        let maxX = Float(width - 1), maxY = Float(height - 1)
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                let tx = Float(x) + values[2 * i], ty = Float(y) + values[2 * i + 1]
                mask[i] = tx >= 0 && tx <= maxX && ty >= 0 && ty <= maxY
            }
        }
        return mask
    }
}
