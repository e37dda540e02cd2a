// OKS against pycocotools' COCOeval.computeOks on sample poses, and its basic properties.
import Vision
import Vocabulary
import XCTest

final class KeypointSimilarityTests: XCTestCase {
    func testMatchesPycocotools() throws {
        let cases = try VisionFixtures.decode([OKSCase].self, "oks.json")
        XCTAssertEqual(cases.count, 18)
        var spread: [Double] = []
        for (i, c) in cases.enumerated() {
            let predicted = c.predicted.map { Keypoint(x: $0[0], y: $0[1]) }
            let truth = c.truth.map { Keypoint(x: $0[0], y: $0[1]) }
            let box = PixelRect(x: c.truth_box[0], y: c.truth_box[1], width: c.truth_box[2], height: c.truth_box[3])
            let value = try XCTUnwrap(oks(predicted: predicted, truth: truth, visibility: c.visibility, area: c.area,
                                          truthBox: box), "case \(i)")
            // Same formula in the same order; exp and the sum's order may differ in the last bits.
            XCTAssertEqual(value, c.oks, accuracy: 1e-12, "case \(i)")
            spread.append(c.oks)
        }
        XCTAssertLessThan(spread.min()!, 0.6, "the cases are not all near-perfect")
        XCTAssertLessThan(spread.last!, 0.5, "predictions outside twice the box of an unlabelled person")
        XCTAssertEqual(spread.max()!, 1, "an exact prediction scores 1")
    }

    func testProperties() {
        let truth = (0..<17).map { Keypoint(x: Double(10 * $0), y: Double(5 * $0)) }
        let all = [Int](repeating: 2, count: 17)
        XCTAssertEqual(oks(predicted: truth, truth: truth, visibility: all, area: 1000), 1)
        let off = truth.map { Keypoint(x: $0.x + 3, y: $0.y) }
        let near = oks(predicted: off, truth: truth, visibility: all, area: 10000)!
        let far = oks(predicted: off, truth: truth, visibility: all, area: 100)!
        XCTAssertGreaterThan(near, far, "the same error costs less on a larger person")
        // Unlabelled keypoints do not count, however wrong.
        var labels = all
        labels[0] = 0
        var wrongNose = truth
        wrongNose[0].x += 500
        XCTAssertEqual(oks(predicted: wrongNose, truth: truth, visibility: labels, area: 1000), 1)
        // Nothing labelled and no box: undefined.
        XCTAssertNil(oks(predicted: truth, truth: truth, visibility: [Int](repeating: 0, count: 17), area: 1000))
        XCTAssertEqual(COCOKeypoints.sigmas.count, 17)
        XCTAssertEqual(COCOKeypoints.names.count, 17)
        XCTAssertEqual(COCOKeypoints.sigmas[0], 0.026, accuracy: 1e-15)
    }
}
