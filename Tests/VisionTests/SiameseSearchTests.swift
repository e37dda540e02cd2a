// The Siamese arithmetic without a network: crop geometry, correlation against a direct sum, upsampling that
// passes through the grid, the response located in frame pixels, and the peak after the window penalty.
import SeededRandom
import Vision
import Vocabulary
import XCTest

final class SiameseSearchTests: XCTestCase {
    func testExemplarAndSearchSides() {
        let g = SiameseGeometry(exemplar: 64, search: 128, stride: 8, context: 0.5)
        // w = 40, h = 100: p = 70, sqrt(110 · 170).
        XCTAssertEqual(g.exemplarSide(width: 40, height: 100), (110.0 * 170).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(g.searchSide(width: 40, height: 100), 2 * (110.0 * 170).squareRoot(), accuracy: 1e-9)
    }

    func testCorrelationEqualsTheDirectSum() {
        var rng = SplitMix64(seed: 5)
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.next() % 2001) / 1000 - 1 } }
        let z = FeatureMap(values: random(3 * 2 * 3), channels: 3, height: 2, width: 3)
        let x = FeatureMap(values: random(3 * 5 * 7), channels: 3, height: 5, width: 7)
        let r = SiameseCorrelation.correlate(z, over: x, scale: 0.5, bias: -1)
        XCTAssertEqual(r.count, 4 * 5)
        for u in 0..<4 {
            for v in 0..<5 {
                var sum: Float = 0
                for c in 0..<3 { for i in 0..<2 { for j in 0..<3 {
                    sum += z.values[(c * 2 + i) * 3 + j] * x.values[(c * 5 + u + i) * 7 + v + j]
                } } }
                XCTAssertEqual(r[u * 5 + v], sum * 0.5 - 1, accuracy: 1e-5)
            }
        }
    }

    func testUpsamplingPassesThroughTheGridAndKeepsLinearRampsLinear() {
        let map: [Float] = [0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5]  // 3×4, value = row + column
        let (up, rows, columns) = SiamesePeak.upsample(map, rows: 3, columns: 4, factor: 4)
        XCTAssertEqual(rows, 9)
        XCTAssertEqual(columns, 13)
        for r in 0..<3 { for c in 0..<4 { XCTAssertEqual(up[r * 4 * columns + c * 4], Double(map[r * 4 + c]), accuracy: 1e-9) } }
        // Keys' cubic reproduces linear functions away from the clamped border.
        XCTAssertEqual(up[4 * columns + 6], 1 + 1.5, accuracy: 1e-9)
    }

    func testResponseCellsMapToFramePixels() {
        let g = SiameseGeometry(exemplar: 64, search: 128, stride: 8, context: 0.5)
        // A 9×9 response of a 256-pixel search crop centred on (300, 200): cells 16 frame pixels apart.
        let located = LocatedResponse(logits: [Float](repeating: 0, count: 81), rows: 9, columns: 9, geometry: g,
                                      centreX: 300, centreY: 200, side: 256)
        XCTAssertEqual(located.spacing, 16)
        XCTAssertEqual(located.originX + 4 * located.spacing, 300)
        XCTAssertEqual(located.originY + 4 * located.spacing, 200)
    }

    func testThePeakIsFoundInFramePixelsAndTheWindowFavoursTheCentre() {
        let g = SiameseGeometry(exemplar: 64, search: 128, stride: 8, context: 0.5)
        var logits = [Float](repeating: -5, count: 81)
        logits[2 * 9 + 6] = 4  // row 2, column 6: (+2, −2) cells from the centre
        let located = LocatedResponse(logits: logits, rows: 9, columns: 9, geometry: g, centreX: 100, centreY: 100,
                                      side: 128)
        let peak = SiamesePeak.locate(located, settings: SiameseSearchSettings())
        XCTAssertEqual(peak.x, 100 + 2 * 8, accuracy: 1.5)
        XCTAssertEqual(peak.y, 100 - 2 * 8, accuracy: 1.5)
        XCTAssertGreaterThan(peak.probability, 0.9)
        // Two equal peaks: the one nearer the centre wins.
        var twin = [Float](repeating: -5, count: 81)
        twin[4 * 9 + 5] = 4
        twin[4 * 9 + 8] = 4
        let near = SiamesePeak.locate(LocatedResponse(logits: twin, rows: 9, columns: 9, geometry: g, centreX: 0,
                                                      centreY: 0, side: 128), settings: SiameseSearchSettings())
        XCTAssertEqual(near.x, 8, accuracy: 1.5)
        // The probability grid for matching detections: sigmoid of the logits, bilinear, nil outside.
        let appearance = located.appearance(peak: PixelRect(x: 0, y: 0, width: 1, height: 1), confidence: 1)
        XCTAssertEqual(appearance.probability(x: 116, y: 84)!, 1 / (1 + exp(-4)), accuracy: 1e-9)
        XCTAssertNil(appearance.probability(x: 100 + 5 * 8, y: 100))
    }
}
