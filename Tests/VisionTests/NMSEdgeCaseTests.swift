// NMS on hand-made head outputs: nothing to keep, ties, identical boxes, the IoU boundary, class-aware versus
// agnostic, the class filter, max_det and the candidate cap.
import Vision
import Vocabulary
import XCTest

final class NMSEdgeCaseTests: XCTestCase {
    /// One anchor of a hand-made output: centre, size (input pixels) and class scores.
    struct Anchor {
        var cx: Float, cy: Float, w: Float, h: Float
        var scores: [Float]
    }

    /// The (4 + C, N) output of `anchors`, C order (rows are quantities, columns anchors).
    static func output(_ anchors: [Anchor], classes: Int) -> (values: [Float], shape: [Int]) {
        let n = anchors.count
        var values = [Float](repeating: 0, count: (4 + classes) * n)
        for (a, anchor) in anchors.enumerated() {
            values[a] = anchor.cx
            values[n + a] = anchor.cy
            values[2 * n + a] = anchor.w
            values[3 * n + a] = anchor.h
            for c in 0..<classes { values[(4 + c) * n + a] = anchor.scores[c] }
        }
        return (values, [1, 4 + classes, n])
    }

    /// An identity geometry: input pixels are source pixels.
    let identity = InputGeometry.stretch(source: PixelSize(width: 640, height: 640),
                                         input: PixelSize(width: 640, height: 640))

    func decode(_ anchors: [Anchor], classes: Int = 1, _ settings: NMSSettings) throws -> [Detection] {
        let (values, shape) = Self.output(anchors, classes: classes)
        var decoder = DetectionDecoder(format: try .detect(classes: classes), settings: settings)
        return try decoder.decode(values, shape: shape, geometry: identity)
    }

    func testNothingPassesTheThreshold() throws {
        let anchors = (0..<50).map { Anchor(cx: Float($0 * 10), cy: 100, w: 20, h: 20, scores: [0.2]) }
        XCTAssertEqual(try decode(anchors, NMSSettings(confidence: 0.25)), [])
        // A score equal to the threshold does not pass (strictly greater).
        XCTAssertEqual(try decode(anchors, NMSSettings(confidence: 0.2)), [])
        XCTAssertEqual(try decode(anchors, NMSSettings(confidence: 0.19999)).count, 50)
        // maxDetections 0 keeps nothing.
        XCTAssertEqual(try decode(anchors, NMSSettings(confidence: 0.1, maxDetections: 0)), [])
    }

    func testEmptyOutputHasNoDetections() throws {
        var decoder = DetectionDecoder(format: .cocoDetect)
        XCTAssertThrowsError(try decoder.decode([], shape: [1, 84, 0], geometry: identity))
        let zeros = [Float](repeating: 0, count: 84 * 3)
        XCTAssertEqual(try decoder.decode(zeros, shape: [1, 84, 3], geometry: identity), [])
        XCTAssertEqual(decoder.candidateCount, 0)
    }

    func testIdenticalBoxesKeepTheFirstAnchor() throws {
        // Same box, same score: torchvision's stable order keeps the lowest anchor and suppresses the rest.
        let anchors = (0..<5).map { _ in Anchor(cx: 100, cy: 100, w: 40, h: 30, scores: [0.9]) }
        let kept = try decode(anchors, NMSSettings())
        XCTAssertEqual(kept.map(\.anchor), [0])
        // A better score anywhere wins.
        var better = anchors
        better[3].scores = [0.95]
        XCTAssertEqual(try decode(better, NMSSettings()).map(\.anchor), [3])
        // Equal scores, boxes apart: all kept, in anchor order.
        let apart = (0..<5).map { Anchor(cx: Float(50 + 100 * (4 - $0)), cy: 100, w: 40, h: 30, scores: [0.9]) }
        XCTAssertEqual(try decode(apart, NMSSettings()).map(\.anchor), [0, 1, 2, 3, 4])
    }

    func testEmptyBoxesSuppressNothing() throws {
        // Two zero-area boxes at the same place: IoU is 0/0, which suppresses nothing (torchvision keeps both).
        let anchors = [Anchor(cx: 10, cy: 10, w: 0, h: 0, scores: [0.9]),
                       Anchor(cx: 10, cy: 10, w: 0, h: 0, scores: [0.8])]
        XCTAssertEqual(try decode(anchors, NMSSettings()).map(\.anchor), [0, 1])
    }

    func testIoUAtTheThresholdIsKept() throws {
        // Two 10×10 boxes offset by 5 px in x: intersection 50, union 150, IoU exactly 1/3 in float32.
        let a = Anchor(cx: 5, cy: 5, w: 10, h: 10, scores: [0.9])
        let b = Anchor(cx: 10, cy: 5, w: 10, h: 10, scores: [0.8])
        let third = Double(Float(50) / Float(150))
        XCTAssertEqual(try decode([a, b], NMSSettings(iou: third)).count, 2, "IoU == threshold: kept")
        XCTAssertEqual(try decode([a, b], NMSSettings(iou: third.nextDown)).count, 1, "IoU > threshold: suppressed")
        // Suppression is not transitive through a suppressed box: a suppresses b, b would have suppressed c,
        // but c survives because b is gone.
        let c = Anchor(cx: 15, cy: 5, w: 10, h: 10, scores: [0.7])
        XCTAssertEqual(try decode([a, b, c], NMSSettings(iou: 0.3)).map(\.anchor), [0, 2])
    }

    func testClassAwareAndAgnostic() throws {
        // The same box, best class 0 for one anchor and 1 for the other.
        let anchors = [Anchor(cx: 50, cy: 50, w: 20, h: 20, scores: [0.9, 0.1]),
                       Anchor(cx: 50, cy: 50, w: 20, h: 20, scores: [0.1, 0.8])]
        let aware = try decode(anchors, classes: 2, NMSSettings())
        XCTAssertEqual(aware.map(\.anchor), [0, 1])
        XCTAssertEqual(aware.map(\.classIndex), [0, 1])
        XCTAssertEqual(try decode(anchors, classes: 2, NMSSettings(agnostic: true)).map(\.anchor), [0])
        // The class filter applies to the best class only: anchor 1's class-0 score never counts.
        XCTAssertEqual(try decode(anchors, classes: 2, NMSSettings(classes: [1])).map(\.anchor), [1])
        XCTAssertEqual(try decode(anchors, classes: 2, NMSSettings(classes: [0])).map(\.anchor), [0])
        XCTAssertEqual(try decode(anchors, classes: 2, NMSSettings(classes: [5])), [])
        // On equal class scores the first class is the best.
        let tie = [Anchor(cx: 50, cy: 50, w: 20, h: 20, scores: [0.7, 0.7])]
        XCTAssertEqual(try decode(tie, classes: 2, NMSSettings()).map(\.classIndex), [0])
    }

    func testClassOffsetRoundsLikeUltralytics() throws {
        // Box A spans x 0.03…10.03, box B 5…15, both y 0…10: IoU 50.3 / 149.7 = 0.336. Class-aware NMS shifts
        // class 79 by 79 × 7680 = 606720 px, where float32 steps are 1/16 px: A becomes 606720…606730 and the IoU
        // 50 / 150 = 0.333. With iou 0.335 Ultralytics keeps both boxes of class 79 but suppresses B when the
        // same boxes are class 0 or NMS is agnostic (checked with ultralytics 8.4.190).
        func anchors(_ c: Int) -> [Anchor] {
            var a = [Float](repeating: 0, count: 80), b = a
            a[c] = 0.9
            b[c] = 0.8
            return [Anchor(cx: 5.03, cy: 5, w: 10, h: 10, scores: a), Anchor(cx: 10, cy: 5, w: 10, h: 10, scores: b)]
        }
        XCTAssertEqual(try decode(anchors(79), classes: 80, NMSSettings(iou: 0.335)).count, 2)
        XCTAssertEqual(try decode(anchors(79), classes: 80, NMSSettings(iou: 0.335, agnostic: true)).count, 1)
        XCTAssertEqual(try decode(anchors(0), classes: 80, NMSSettings(iou: 0.335)).count, 1)
    }

    func testMaxDetectionsAndCandidateCap() throws {
        var anchors: [Anchor] = []
        for i in 0..<40 {
            let score = Float(0.3 + 0.01 * Double(i % 20))
            anchors.append(Anchor(cx: Float(10 + 15 * i), cy: 100, w: 10, h: 10, scores: [score]))
        }
        let all = try decode(anchors, NMSSettings())
        XCTAssertEqual(all.count, 40)
        XCTAssertEqual(all.map(\.score), all.map(\.score).sorted(by: >))
        let five = try decode(anchors, NMSSettings(maxDetections: 5))
        XCTAssertEqual(five, Array(all.prefix(5)))
        // Scores repeat every 20 anchors: the best is anchor 19 (0.49), then 39, then 18, 38, ...
        XCTAssertEqual(five.map(\.anchor), [19, 39, 18, 38, 17])
        let capped = try decode(anchors, NMSSettings(maxCandidates: 3))
        XCTAssertEqual(capped.map(\.anchor), [19, 39, 18])
    }

    func testBoxCornersAndDetectionValues() throws {
        let geometry = InputGeometry.letterbox(source: PixelSize(width: 1280, height: 720),
                                               input: PixelSize(width: 320, height: 320))
        // Input box (100, 100)–(140, 120): source ((100 − 0) × 4, (100 − 70) × 4) = (400, 120), size 160 × 80.
        let (values, shape) = Self.output([Anchor(cx: 120, cy: 110, w: 40, h: 20, scores: [0.1, 0.6, 0.3])],
                                          classes: 3)
        var decoder = DetectionDecoder(format: try .detect(classes: 3))
        let found = try decoder.decode(values, shape: shape, geometry: geometry)
        XCTAssertEqual(found, [Detection(box: PixelRect(x: 400, y: 120, width: 160, height: 80), score: 0.6,
                                         classIndex: 1, keypoints: [], anchor: 0)])
    }

    func testPoseKeypointsAreMappedAndClipped() throws {
        let format = try HeadFormat.pose(keypoints: 2, dimensions: 3)
        let geometry = InputGeometry.letterbox(source: PixelSize(width: 1280, height: 720),
                                               input: PixelSize(width: 320, height: 320))
        // One anchor: box, score 0.9, keypoint 0 at (80, 90) score 0.7, keypoint 1 at (330, 60) score 0.2.
        let column: [Float] = [100, 100, 40, 40, 0.9, 80, 90, 0.7, 330, 60, 0.2]
        var decoder = DetectionDecoder(format: format)
        let found = try decoder.decode(column, shape: [1, format.rows, 1], geometry: geometry)
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found[0].keypoints, [Keypoint(x: 320, y: 80, score: 0.7), Keypoint(x: 1280, y: 0, score: 0.2)])
        // Without visibility rows the score is 1.
        let xy = try HeadFormat.pose(keypoints: 1, dimensions: 2)
        var plain = DetectionDecoder(format: xy)
        let one = try plain.decode([100, 100, 40, 40, 0.9, 80, 90], shape: [1, xy.rows, 1], geometry: geometry)
        XCTAssertEqual(one.first?.keypoints, [Keypoint(x: 320, y: 80, score: 1)])
    }

    func testDecoderReusesItsBuffersAcrossSizes() throws {
        // A large call then a small one: stale work arrays must not leak into the second result.
        let big = (0..<300).map { i in Anchor(cx: Float(i * 3), cy: 50, w: 2, h: 2, scores: [0.5]) }
        let small = [Anchor(cx: 10, cy: 10, w: 4, h: 4, scores: [0.9])]
        var decoder = DetectionDecoder(format: try .detect(classes: 1), settings: NMSSettings(confidence: 0.25))
        let (bv, bs) = Self.output(big, classes: 1)
        XCTAssertEqual(try decoder.decode(bv, shape: bs, geometry: identity).count, 300)
        let (sv, ss) = Self.output(small, classes: 1)
        XCTAssertEqual(try decoder.decode(sv, shape: ss, geometry: identity).map(\.anchor), [0])
        XCTAssertEqual(decoder.candidateCount, 1)
    }
}
