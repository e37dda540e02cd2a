// Decoding + NMS + the map back to source pixels against Ultralytics' own non_max_suppression and
// scale_boxes/scale_coords on the raw outputs of its ONNX exports (five models and pictures, seven or eight
// settings each): the same anchors kept, in the same order, with the same scores, boxes and keypoints.
import Vision
import Vocabulary
import XCTest

final class UltralyticsParityTests: XCTestCase {
    /// Ultralytics maps and clips in float32 tensors, this code in double from the same float32 corners: the two
    /// differ by float32 rounding, at most 1.1e-4 px in these fixtures (float32 steps are 6e-5 px near 1000 px,
    /// 1.2e-4 px near 1280). 1e-3 px leaves room and still catches any padding, rounding or scale mistake (the
    /// smallest of those moves a point by a whole input pixel, 1.5 source pixels or more here).
    static let pixelTolerance = 1e-3

    func testEveryCaseAndSetting() throws {
        var checked = 0
        for name in VisionFixtures.caseNames {
            let fixture = try VisionFixtures.decodingCase(name)
            let (values, shape) = try VisionFixtures.output(of: fixture)
            XCTAssertEqual(shape, fixture.shape, name)
            var decoder = DetectionDecoder(format: try fixture.headFormat)
            let geometry = fixture.geometry
            for setting in fixture.settings {
                decoder.settings = setting.nms
                let found = try decoder.decode(values, shape: shape, geometry: geometry)
                let label = "\(name) \(setting.name)"
                if setting.classes == nil {
                    XCTAssertEqual(decoder.candidateCount, setting.candidates, "\(label): candidates")
                }
                compare(found, setting.detections, label)
                checked += 1
            }
        }
        // Every fixture file was read and every setting run (the list above is not silently short).
        XCTAssertGreaterThanOrEqual(checked, 36)
    }

    func compare(_ found: [Detection], _ expected: [DecodingCase.ExpectedDetection], _ label: String,
                 file: StaticString = #filePath, line: UInt = #line)
    {
        XCTAssertEqual(found.count, expected.count, "\(label): number of detections", file: file, line: line)
        XCTAssertEqual(found.map(\.anchor), expected.map(\.anchor), "\(label): anchors kept, in order",
                       file: file, line: line)
        var worst = 0.0
        for (ours, theirs) in zip(found, expected) {
            let where_ = "\(label), anchor \(theirs.anchor)"
            XCTAssertEqual(ours.score, theirs.score, "\(where_): score", file: file, line: line)
            XCTAssertEqual(ours.classIndex, theirs.class, "\(where_): class", file: file, line: line)
            let box = [ours.box.x, ours.box.y, ours.box.x + ours.box.width, ours.box.y + ours.box.height]
            for (a, b) in zip(box, theirs.box) { worst = max(worst, abs(a - b)) }
            let flat = ours.keypoints.flatMap { [$0.x, $0.y, Double($0.score)] }
            let theirPoints = theirs.keypoints ?? []
            XCTAssertEqual(flat.count, theirPoints.count, "\(where_): keypoint values", file: file, line: line)
            for (k, (a, b)) in zip(flat, theirPoints).enumerated() {
                if k % 3 == 2 {
                    XCTAssertEqual(Float(a), Float(b), "\(where_): keypoint \(k / 3) score", file: file, line: line)
                } else {
                    worst = max(worst, abs(a - b))
                }
            }
        }
        XCTAssertLessThanOrEqual(worst, Self.pixelTolerance, "\(label): largest box/keypoint difference (px)",
                                 file: file, line: line)
    }

    /// The fixtures exercise what they claim: suppression happens, ties of scores exist, the class filter and
    /// the candidate cap change the result, and one case's letterbox needs Python's half-to-even rounding.
    func testFixturesCoverTheEdges() throws {
        let detect = try VisionFixtures.decodingCase("yolo11n-detect-zidane-1280x722")
        let byName = Dictionary(uniqueKeysWithValues: detect.settings.map { ($0.name, $0) })
        let tight = try XCTUnwrap(byName["conf-400-iou-0.45"])
        XCTAssertLessThan(tight.detections.count, tight.candidates, "NMS suppressed something")
        let scores = tight.detections.map(\.score)
        XCTAssertLessThan(Set(scores).count, scores.count, "equal scores among the kept: tie order is tested")
        XCTAssertFalse(tight.torchvision_agrees_with_torchnms,
                       "Ultralytics' own TorchNMS orders those ties differently from torchvision")
        XCTAssertEqual(detect.letterbox.new_unpad, [320, 180], "722 × 0.25 = 180.5 rounds to 180")
        XCTAssertEqual(detect.geometry.resized, PixelSize(width: 320, height: 180))

        let pose = try VisionFixtures.decodingCase("yolo11n-pose-bus-500x333")
        XCTAssertEqual([pose.letterbox.top, pose.letterbox.bottom], [53, 54])
        let capped = try XCTUnwrap(pose.settings.first { $0.name == "conf-400-max-nms-100" })
        let uncapped = try XCTUnwrap(pose.settings.first { $0.name == "conf-400-iou-0.45" })
        XCTAssertNotEqual(capped.detections.map(\.anchor), uncapped.detections.map(\.anchor))
    }

    /// The parity check can fail: a decoder with a slightly different threshold, or a geometry off by a pixel,
    /// is caught.
    func testParityCheckDetectsDifferences() throws {
        let fixture = try VisionFixtures.decodingCase("yolov8n-detect-bus")
        let (values, shape) = try VisionFixtures.output(of: fixture)
        let setting = fixture.settings[1]
        var decoder = DetectionDecoder(format: try fixture.headFormat, settings: setting.nms)
        decoder.settings.iou += 0.05
        let looser = try decoder.decode(values, shape: shape, geometry: fixture.geometry)
        XCTAssertNotEqual(looser.map(\.anchor), setting.detections.map(\.anchor))

        decoder.settings = setting.nms
        var shifted = fixture.geometry
        shifted.padLeft += 1
        let moved = try decoder.decode(values, shape: shape, geometry: shifted)
        XCTAssertEqual(moved.map(\.anchor), setting.detections.map(\.anchor))
        let worst = zip(moved, setting.detections).map { abs($0.box.x - $1.box[0]) }.max() ?? 0
        XCTAssertGreaterThan(worst, Self.pixelTolerance)
    }
}
