// The detect stage: a detector card is checked against what its graph really gives (real Ultralytics exports,
// tiny random-weight YOLOv8 detect and pose graphs from the ONNX fixtures), and boxes and keypoints found in
// the model's input are mapped back through the input geometry and the decoder's resize (rotation included).
import Foundation
import Media
import Pipeline
import Stages
import TestSupport
import Vision
import XCTest

final class DetectStageTests: XCTestCase {
    /// The Ultralytics fixtures: `model_yolov8_detect` (8 classes, 64×64 input, output 1×12×84) and
    /// `model_yolov8_pose` (1 class, 17×3 keypoints, output 1×56×84).
    static let onnxFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ONNXTests/Fixtures")

    func card(_ dir: TemporaryDirectory, model: String, format: String, labels: [String]) throws -> ModelCard {
        let onnx = Self.onnxFixtures.appendingPathComponent("model_yolov8_\(model)/model.onnx").path
        try labels.joined(separator: "\n").write(to: dir.appending("labels.txt"), atomically: true, encoding: .utf8)
        try """
            kind: detector
            onnx: \(onnx)
            input: { layout: NCHW, size: 64x64, resize: letterbox }
            output: { kind: detections, format: \(format), labels: labels.txt }
            """.write(to: dir.appending("card.yaml"), atomically: true, encoding: .utf8)
        return try ModelCardLoader.load(path: dir.appending("card.yaml").path)
    }

    func testCardMustFitTheGraphsOutput() throws {
        let dir = try TemporaryDirectory("detect-card")
        let classes = ["person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck"]
        let detector = try CompiledDetector(card: card(dir, model: "detect", format: "ultralytics-detect",
                                                       labels: classes))
        XCTAssertEqual(detector.anchors, 84)
        XCTAssertEqual(detector.format.rows, 12)
        let pose = try CompiledDetector(card: card(dir, model: "pose", format: "ultralytics-pose", labels: ["person"]))
        XCTAssertEqual(pose.format.rows, 56)
        // A pose graph declared as a detector, and a detector with the wrong number of classes: the card is named.
        for (model, format, labels) in [("pose", "ultralytics-detect", ["person"]),
                                        ("detect", "ultralytics-detect", ["person"]),
                                        ("detect", "ultralytics-pose", ["person"])] {
            let wrong = try card(dir, model: model, format: format, labels: labels)
            XCTAssertThrowsError(try CompiledDetector(card: wrong), "\(model) as \(format)") { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(dir.appending("card.yaml").path), text)
                XCTAssertTrue(text.contains("does not fit `format: \(format)`"), text)
            }
        }
    }

    /// A person found in the model's input goes back through the letterbox into the decoded frame and through the
    /// frame's resize (and the display rotation) into source-video pixels: source → input → back is the identity.
    func testBoxesAndKeypointsMapBackToSourcePixels() throws {
        let dir = try TemporaryDirectory("detect-map")
        for rotation in [0, 90] {
            let path = dir.appending("rot\(rotation).mp4").path
            let encoder = try VideoEncoder(path: path, settings: EncoderSettings(
                width: 320, height: 240, frameRate: FrameRate(25), codec: .h264, rotation: rotation))
            for i in 0..<2 { try encoder.append(TestPattern.frame(i, width: 320, height: 240)) }
            try encoder.finish()
            let decoder = try VideoDecoder(path)
            let frame = try XCTUnwrap(try decoder.nextFrame())
            for (mode, size) in [(ResizeMode.letterbox, PixelSize(width: 320, height: 240)),
                                 (.crop, PixelSize(width: 200, height: 200)),
                                 (.stretch, PixelSize(width: 160, height: 90))] {
                let image = try Scaler(width: size.width, height: size.height, mode: mode).convert(frame)
                let geometry = InputGeometry.letterbox(source: size, input: PixelSize(width: 320, height: 256))
                // A person in source pixels (inside the part of the picture that survives a crop).
                let displayW = Double(decoder.info.displayWidth), displayH = Double(decoder.info.displayHeight)
                let source = PixelRect(x: 0.4 * displayW, y: 0.3 * displayH, width: 0.1 * displayW,
                                       height: 0.3 * displayH)
                let knee = (x: 0.45 * displayW, y: 0.5 * displayH)
                func toInput(_ x: Double, _ y: Double) -> (Double, Double) {
                    let framePoint = image.transform.toTarget(x: x, y: y)
                    return geometry.inputPoint(x: framePoint.x, y: framePoint.y)
                }
                // One candidate of a pose head (1 class, 17 × 3) in input pixels: the box, score 0.9, the first
                // keypoint on the knee, through the real decoder and then back to the source.
                let (ix0, iy0) = toInput(source.x, source.y)
                let (ix1, iy1) = toInput(source.x + source.width, source.y + source.height)
                let (kx, ky) = toInput(knee.x, knee.y)
                var row = [Float](repeating: 0, count: 56)
                row[0...4] = [Float((ix0 + ix1) / 2), Float((iy0 + iy1) / 2), Float(ix1 - ix0), Float(iy1 - iy0), 0.9]
                row[5...7] = [Float(kx), Float(ky), 0.8]
                var decoder = DetectionDecoder(format: .cocoPose)
                let decoded = try decoder.decode(row, shape: [1, 56, 1], geometry: geometry)
                let mapped = try XCTUnwrap(DetectStage.toSource(decoded, transform: image.transform).first)
                let what = "rotation \(rotation), \(mode) to \(size)"
                // Float32 rows: a few thousandths of a pixel.
                XCTAssertEqual(mapped.box.x, source.x, accuracy: 0.01, what)
                XCTAssertEqual(mapped.box.y, source.y, accuracy: 0.01, what)
                XCTAssertEqual(mapped.box.width, source.width, accuracy: 0.01, what)
                XCTAssertEqual(mapped.box.height, source.height, accuracy: 0.01, what)
                XCTAssertEqual(mapped.keypoints[0].x, knee.x, accuracy: 0.01, what)
                XCTAssertEqual(mapped.keypoints[0].y, knee.y, accuracy: 0.01, what)
                XCTAssertEqual(mapped.keypoints[0].score, 0.8)
                XCTAssertEqual(mapped.score, 0.9)
            }
        }
    }
}
