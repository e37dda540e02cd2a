// Letterbox and stretch placement against Ultralytics' LetterBox, the way back against its scale_boxes and
// scale_coords (float64 there, so the comparison is tight), and round trips on random sizes.
import SeededRandom
import Vision
import Vocabulary
import XCTest

final class InputGeometryTests: XCTestCase {
    func testLetterboxAndStretchMatchUltralytics() throws {
        let cases = try VisionFixtures.decode([LetterboxCase].self, "letterbox.json")
        XCTAssertGreaterThanOrEqual(cases.count, 40)
        for c in cases {
            let source = PixelSize(width: c.source[0], height: c.source[1])
            let input = PixelSize(width: c.input[0], height: c.input[1])
            for (fit, expected) in [(InputGeometry.Fit.letterbox, c.letterbox), (.stretch, c.stretch)] {
                let g = InputGeometry.fitting(fit, source: source, input: input)
                let label = "\(fit) \(source) -> \(input)"
                XCTAssertEqual([g.resized.width, g.resized.height], expected.new_unpad, "\(label): resized size")
                XCTAssertEqual([g.padLeft, g.padTop, g.padRight, g.padBottom],
                               [expected.left, expected.top, expected.right, expected.bottom], "\(label): padding")
                if fit == .letterbox {
                    XCTAssertEqual(expected.ratio, [g.scale, g.scale], "\(label): ratio")
                } else {
                    XCTAssertEqual(expected.ratio, [g.scaleX, g.scaleY], "\(label): ratio")
                }
                for (box, want) in zip(expected.boxes, expected.source_boxes) {
                    let r = g.sourceBox(x1: box[0], y1: box[1], x2: box[2], y2: box[3])
                    let got = [r.x, r.y, r.x + r.width, r.y + r.height]
                    for (a, b) in zip(got, want) {
                        // Same double arithmetic; x + width − x may lose the last bit.
                        XCTAssertEqual(a, b, accuracy: 1e-9, "\(label): box \(box) -> \(got), expected \(want)")
                    }
                }
                for (point, want) in zip(expected.points, expected.source_points) {
                    let p = g.clippedSourcePoint(x: point[0], y: point[1])
                    XCTAssertEqual(p.x, want[0], "\(label): point \(point)")
                    XCTAssertEqual(p.y, want[1], "\(label): point \(point)")
                }
            }
        }
    }

    func testHalfToEvenRoundingAndOddPadding() {
        // 722 × 0.25 = 180.5 → 180 (Python's round), and 726 × 0.25 = 181.5 → 182.
        let a = InputGeometry.letterbox(source: PixelSize(width: 1280, height: 722),
                                        input: PixelSize(width: 320, height: 320))
        XCTAssertEqual(a.resized, PixelSize(width: 320, height: 180))
        XCTAssertEqual([a.padTop, a.padBottom], [70, 70])
        let b = InputGeometry.letterbox(source: PixelSize(width: 1280, height: 726),
                                        input: PixelSize(width: 320, height: 320))
        XCTAssertEqual(b.resized, PixelSize(width: 320, height: 182))
        XCTAssertEqual([b.padTop, b.padBottom], [69, 69])
        // An odd number of spare rows: the extra one goes below.
        let c = InputGeometry.letterbox(source: PixelSize(width: 500, height: 333),
                                        input: PixelSize(width: 320, height: 320))
        XCTAssertEqual(c.resized, PixelSize(width: 320, height: 213))
        XCTAssertEqual([c.padTop, c.padBottom], [53, 54])
        // The way back divides by the scale actually applied to each axis, not r.
        XCTAssertEqual(c.scaleY, 213.0 / 333.0)
        XCTAssertNotEqual(c.scaleY, c.scale)
        // Thin pictures keep at least one pixel.
        let thin = InputGeometry.letterbox(source: PixelSize(width: 1000, height: 1),
                                           input: PixelSize(width: 320, height: 320))
        XCTAssertEqual(thin.resized, PixelSize(width: 320, height: 1))
        XCTAssertEqual(thin.padTop, 159)
    }

    func testRoundTripsOnRandomSizes() {
        var random = SplitMix64(seed: 31)
        for _ in 0..<500 {
            let source = PixelSize(width: random.int(1...4000), height: random.int(1...4000))
            let input = PixelSize(width: 32 * random.int(1...40), height: 32 * random.int(1...40))
            for fit in [InputGeometry.Fit.letterbox, .stretch] {
                let g = InputGeometry.fitting(fit, source: source, input: input)
                let label = "\(g)"
                XCTAssertGreaterThanOrEqual(g.padLeft, 0, label)
                XCTAssertGreaterThanOrEqual(g.padRight, g.padLeft, label)
                XCTAssertLessThanOrEqual(g.padRight - g.padLeft, 1, label)
                XCTAssertLessThanOrEqual(g.padBottom - g.padTop, 1, label)
                XCTAssertTrue(g.resized.width == input.width || g.resized.height == input.height, label)
                // A source point, to the input and back.
                let x = random.uniform(0, Double(source.width)), y = random.uniform(0, Double(source.height))
                let there = g.inputPoint(x: x, y: y)
                XCTAssertGreaterThanOrEqual(there.x, Double(g.padLeft) - 1e-9, label)
                XCTAssertLessThanOrEqual(there.x, Double(g.padLeft + g.resized.width) + 1e-9, label)
                let back = g.clippedSourcePoint(x: there.x, y: there.y)
                XCTAssertEqual(back.x, x, accuracy: 1e-9 * max(1, x), label)
                XCTAssertEqual(back.y, y, accuracy: 1e-9 * max(1, y), label)
                // A box inside the picture, to the input and back.
                let box = PixelRect(x: x / 2, y: y / 2, width: (Double(source.width) - x / 2) / 2,
                                    height: (Double(source.height) - y / 2) / 2)
                let i = g.inputBox(box)
                let r = g.sourceBox(x1: i.x, y1: i.y, x2: i.x + i.width, y2: i.y + i.height)
                XCTAssertEqual(r.x, box.x, accuracy: 1e-9 * max(1, box.x), label)
                XCTAssertEqual(r.width, box.width, accuracy: 1e-9 * Double(source.width), label)
                XCTAssertEqual(r.height, box.height, accuracy: 1e-9 * Double(source.height), label)
            }
        }
    }

    func testStretchHasSeparateScalesAndNoPadding() {
        let g = InputGeometry.stretch(source: PixelSize(width: 1280, height: 720), input: PixelSize(width: 320,
                                                                                                   height: 256))
        XCTAssertEqual([g.padLeft, g.padTop, g.padRight, g.padBottom], [0, 0, 0, 0])
        XCTAssertEqual(g.scaleX, 0.25)
        XCTAssertEqual(g.scaleY, 256.0 / 720.0)
        let p = g.sourcePoint(x: 160, y: 128)
        XCTAssertEqual(p.x, 640)
        XCTAssertEqual(p.y, 360, accuracy: 1e-12)
    }

    func testBoxesAreClippedToTheSourcePicture() {
        let g = InputGeometry.letterbox(source: PixelSize(width: 1280, height: 720),
                                        input: PixelSize(width: 320, height: 320))
        // Reaching into the top padding and past the right edge.
        let r = g.sourceBox(x1: 300, y1: 60, x2: 340, y2: 100)
        XCTAssertEqual(r.x, 1200)
        XCTAssertEqual(r.y, 0)
        XCTAssertEqual(r.x + r.width, 1280)
        XCTAssertEqual(r.y + r.height, 120)
        // Wholly in the padding: an empty box on the edge.
        let gone = g.sourceBox(x1: 10, y1: 0, x2: 20, y2: 50)
        XCTAssertEqual(gone.height, 0)
        let p = g.clippedSourcePoint(x: -3, y: 400)
        XCTAssertEqual(p.x, 0)
        XCTAssertEqual(p.y, 720)
    }
}
