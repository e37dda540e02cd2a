// SiamFC crops against a direct per-pixel evaluation of their formula, inside the frame, across its edges and
// wholly outside it; and the frame's mean colour.
import Media
import SeededRandom
import Stages
import XCTest

final class SiameseCropTests: XCTestCase {
    private func randomImage(width: Int, height: Int, seed: UInt64) -> Image {
        var rng = SplitMix64(seed: seed)
        let pixels = (0..<width * height * 3).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        return Image(width: width, height: height, format: .rgb24, pixels: pixels)
    }

    /// The formula, one output value at a time: frame x = cx − side/2 + (u + 0.5)·side/size − 0.5, bilinear,
    /// pixels outside the frame = fill.
    private func reference(_ image: Image, cx: Double, cy: Double, side: Double, size: Int, fill: [Float]) -> [Float] {
        func pixel(_ x: Int, _ y: Int, _ c: Int) -> Float {
            guard x >= 0, y >= 0, x < image.width, y < image.height else { return fill[c] / 255 }
            return Float(image.pixels[(y * image.width + x) * 3 + c]) / 255
        }
        var out = [Float](repeating: 0, count: 3 * size * size)
        for c in 0..<3 {
            for v in 0..<size {
                for u in 0..<size {
                    let x = cx - side / 2 + (Double(u) + 0.5) * side / Double(size) - 0.5
                    let y = cy - side / 2 + (Double(v) + 0.5) * side / Double(size) - 0.5
                    let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
                    let fx = Float(x - x.rounded(.down)), fy = Float(y - y.rounded(.down))
                    let top = pixel(x0, y0, c) * (1 - fx) + pixel(x0 + 1, y0, c) * fx
                    let bottom = pixel(x0, y0 + 1, c) * (1 - fx) + pixel(x0 + 1, y0 + 1, c) * fx
                    out[(c * size + v) * size + u] = top * (1 - fy) + bottom * fy
                }
            }
        }
        return out
    }

    func testCropsMatchTheFormulaInsideAcrossAndOutsideTheFrame() {
        let image = randomImage(width: 96, height: 64, seed: 11)
        let fill = FramePlanes(image).mean
        let cases: [(cx: Double, cy: Double, side: Double, size: Int)] = [
            (48, 32, 40, 16),      // inside, downscaled
            (48.3, 31.7, 10, 16),  // inside, upscaled, fractional centre
            (5, 60, 50, 32),       // across the left and bottom edges
            (90, 3, 200, 24),      // larger than the frame
            (-100, -100, 20, 8),   // wholly outside: all fill
        ]
        for (cx, cy, side, size) in cases {
            let got = SiameseCrop.cut(image, cx: cx, cy: cy, side: side, size: size, fill: fill)
            let want = reference(image, cx: cx, cy: cy, side: side, size: size, fill: fill)
            XCTAssertEqual(got.count, want.count)
            let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-5, "crop at (\(cx), \(cy)) side \(side) → \(size)")
        }
        let outside = SiameseCrop.cut(image, cx: -100, cy: -100, side: 20, size: 8, fill: fill)
        XCTAssertEqual(outside[0], fill[0] / 255, accuracy: 1e-6)
        XCTAssertEqual(outside[64 + 5], fill[1] / 255, accuracy: 1e-6)
    }

    func testFramePlanesHoldTheImageAndItsMeanColour() {
        let image = randomImage(width: 7, height: 5, seed: 3)
        let planes = FramePlanes(image)
        for c in 0..<3 {
            let values = stride(from: c, to: image.pixels.count, by: 3).map { Double(image.pixels[$0]) }
            XCTAssertEqual(Double(planes.mean[c]), values.reduce(0, +) / Double(values.count), accuracy: 1e-4)
            XCTAssertEqual(planes.values[c * 35 + 8], Float(image.pixels[8 * 3 + c]) / 255, accuracy: 1e-6)
        }
    }
}
