// Preprocessing against hand-computed values: bilinear resize in each mode, regions, colour order, pixel range,
// normalisation, tensor layouts, flow encoding, TSN segments and flow stacks, window labels for datasets.
import Flow
import Foundation
import Media
import Pipeline
@testable import Stages
import Synth
import XCTest

/// A card in a temporary folder (labels beside it), loaded without graph files.
func temporaryCard(_ body: String, labels: [String] = ["a", "b"]) throws -> ModelCard {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stages-card-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try (labels.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("labels.txt"),
                                                      atomically: true, encoding: .utf8)
    let path = dir.appendingPathComponent("card.yaml")
    try body.write(to: path, atomically: true, encoding: .utf8)
    return try ModelCardLoader.load(path: path.path, requireGraphs: false)
}

final class PreprocessTests: XCTestCase {
    func gray(_ width: Int, _ height: Int, _ values: [Float]) -> Planes {
        Planes(channels: 1, width: width, height: height, values: values)
    }

    func testStretchDownAndUpIsBilinearAtPixelCentres() {
        // 4 → 2: source x = (t + 0.5) × 2 − 0.5 = 0.5, 2.5.
        XCTAssertEqual(Preprocess.resize(gray(4, 1, [0, 10, 20, 30]), width: 2, height: 1, mode: .stretch).values,
                       [5, 25])
        // 2 → 4: x = −0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        XCTAssertEqual(Preprocess.resize(gray(2, 1, [0, 8]), width: 4, height: 1, mode: .stretch).values,
                       [0, 2, 6, 8])
    }

    func testCropCutsTheCentreAndLetterboxFills() {
        // 4×2 → 2×2 crop: scale 1, offset −1: columns 1 and 2.
        let crop = Preprocess.resize(gray(4, 2, [0, 1, 2, 3, 4, 5, 6, 7]), width: 2, height: 2, mode: .crop)
        XCTAssertEqual(crop.values, [1, 2, 5, 6])
        // 2×1 → 2×2 letterbox: scale 1, integer offset (2 − 1) / 2 = 0: the picture on row 0, fill below.
        let box = Preprocess.resize(gray(2, 1, [3, 4]), width: 2, height: 2, mode: .letterbox, fill: -1)
        XCTAssertEqual(box.values, [3, 4, -1, -1])
    }

    func testRegionIsResizedAlone() {
        let region = PixelRect(x: 2, y: 0, width: 2, height: 1)
        XCTAssertEqual(Preprocess.resize(gray(4, 1, [0, 10, 20, 30]), region: region, width: 2, height: 1,
                                         mode: .stretch).values, [20, 30])
    }

    func card(mean: String, std: String, colour: String, pixels: String) throws -> ModelCard {
        try temporaryCard("""
            kind: 3d
            onnx: none.onnx
            input: { layout: NCTHW, frames: 2, size: 1x1, resize: stretch, mean: \(mean), std: \(std), \
            colour: \(colour), pixels: \(pixels) }
            output: { kind: logits, labels: labels.txt }
            """)
    }

    func testNormalisationColourOrderAndPixelRange() throws {
        let image = Image(width: 1, height: 1, format: .rgb24, pixels: [255, 0, 51])
        let unit = try card(mean: "[0.5, 0.25, 0.1]", std: "[0.5, 0.25, 0.2]", colour: "rgb", pixels: "unit")
        let rgb = Preprocess.frame(image, card: unit).values
        XCTAssertEqual(rgb[0], 1, accuracy: 1e-6)      // (1 − 0.5) / 0.5
        XCTAssertEqual(rgb[1], -1, accuracy: 1e-6)     // (0 − 0.25) / 0.25
        XCTAssertEqual(rgb[2], 0.5, accuracy: 1e-6)    // (0.2 − 0.1) / 0.2
        let bgrCard = try card(mean: "[0.5, 0.25, 0.1]", std: "[0.5, 0.25, 0.2]", colour: "bgr", pixels: "unit")
        let bgr = Preprocess.frame(image, card: bgrCard).values
        XCTAssertEqual(bgr[0], -0.6, accuracy: 1e-6)   // blue first: (0.2 − 0.5) / 0.5
        XCTAssertEqual(bgr[1], -1, accuracy: 1e-6)
        XCTAssertEqual(bgr[2], 4.5, accuracy: 1e-6)    // red last: (1 − 0.1) / 0.2
        let byteCard = try card(mean: "[100, 0, 0]", std: "[5, 1, 1]", colour: "rgb", pixels: "byte")
        XCTAssertEqual(Preprocess.frame(image, card: byteCard).values, [31, 0, 51])
    }

    func testLayouts() {
        let f0 = Planes(channels: 3, width: 1, height: 1, values: [1, 2, 3])
        let f1 = Planes(channels: 3, width: 1, height: 1, values: [4, 5, 6])
        let ncthw = Preprocess.clipTensor([f0, f1], layout: .ncthw)
        XCTAssertEqual(ncthw.shape, [3, 2, 1, 1])
        XCTAssertEqual(ncthw.floats, [1, 4, 2, 5, 3, 6])
        let ntchw = Preprocess.clipTensor([f0, f1], layout: .ntchw)
        XCTAssertEqual(ntchw.shape, [2, 3, 1, 1])
        XCTAssertEqual(ntchw.floats, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(Preprocess.batched(ntchw).shape, [1, 2, 3, 1, 1])
    }

    func testSoftmaxAndProbabilities() {
        let p = Preprocess.softmax([0, Float(log(3.0))])
        XCTAssertEqual(p[0], 0.25, accuracy: 1e-6)
        XCTAssertEqual(p[1], 0.75, accuracy: 1e-6)
        XCTAssertEqual(Preprocess.probabilities([0.2, 0.8], kind: .probabilities), [0.2, 0.8])
    }

    func testFlowEncodingClipsAndScales() throws {
        let card = try temporaryCard("""
            kind: two-stream
            onnx: rgb.onnx
            input: { layout: NCHW, size: 1x1, resize: stretch }
            output: { kind: logits, labels: labels.txt }
            flow: { onnx: flow.onnx, bound: 20, stack: 2 }
            """)
        let field = FlowField(width: 1, height: 1, values: [30, -10])
        XCTAssertEqual(ClipInputs.encodedFlow(field, card: card), [1, -0.5])
    }

    func testSegmentsAndFlowStacks() {
        XCTAssertEqual(ClipInputs.segments(length: 16, count: 3), [0..<5, 5..<10, 10..<16])
        XCTAssertEqual(ClipInputs.segments(length: 2, count: 5), [0..<1, 1..<2])
        // Centre item 7 of 0..<16; three fields 7, 8, 9 (motion 6→7, 7→8, 8→9).
        XCTAssertEqual(ClipInputs.flowIndices(segment: 0..<16, stack: 3, clipLength: 16), [7, 8, 9])
        XCTAssertEqual(ClipInputs.flowIndices(segment: 0..<16, stack: 10, clipLength: 16), Array(3...12))
        // Clamped at the clip's edges.
        XCTAssertEqual(ClipInputs.flowIndices(segment: 0..<2, stack: 3, clipLength: 2), [0, 1, 1])
    }

    func testWindowLabelsAndTransitions() {
        let segments = [
            ActionSegmentTruth(label: "walk", start: 0, end: 2.14, transition: 0),
            ActionSegmentTruth(label: "wave", start: 2.14, end: 4, transition: 0.41),
        ]
        // Transition [1.935, 2.345]; more than half of it (0.205) inside the window: skipped.
        XCTAssertEqual(DatasetWriter.label(start: 1.8, end: 2.3, segments: segments).skipped, true)
        XCTAssertEqual(DatasetWriter.label(start: 0, end: 1.07, segments: segments).0, "walk")
        // 0.065 of the transition inside: kept, labelled by its centre (2.05: walk).
        XCTAssertEqual(DatasetWriter.label(start: 2.0, end: 2.1, segments: segments).0, "walk")
        XCTAssertEqual(DatasetWriter.label(start: 3, end: 4, segments: segments).0, "wave")
    }

    func testPersonRegionIsASquareAroundTheBoxUnionClippedToTheFrame() {
        let image = Image(width: 100, height: 50, format: .rgb24, pixels: [UInt8](repeating: 0, count: 15000))
        let frames = [PersonFrameTruth(index: 0, t: 0, box: [40, 10, 10, 20], keypoints: []),
                      PersonFrameTruth(index: 0, t: 0.1, box: [44, 12, 10, 20], keypoints: []),
                      PersonFrameTruth(index: 0, t: 5, box: [0, 0, 100, 50], keypoints: [])]
        // Union x 40...54, y 10...32: side 22 × 1.25 = 27.5 around (47, 21).
        let region = DatasetWriter.personRegion(frames: frames, start: 0, end: 1, image: image)!
        XCTAssertEqual(region.x, 33.25, accuracy: 1e-9)
        XCTAssertEqual(region.width, 27.5, accuracy: 1e-9)
        XCTAssertEqual(region.y, 7.25, accuracy: 1e-9)
        XCTAssertEqual(region.height, 27.5, accuracy: 1e-9)
        XCTAssertNil(DatasetWriter.personRegion(frames: frames, start: 1, end: 2, image: image))
    }
}

final class GroundTruthReadingTests: XCTestCase {
    /// The example of docs/synth.md, read as `dataset` reads it: with Synth's own ground-truth type.
    func testReadsTheSynthSchema() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gt-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: path) }
        let keypoints = Array(repeating: "[182.75,107.33,2]", count: 17).joined(separator: ",")
        try """
            {"clip":3,"fps":15,"frames":60,"height":240,"people":[
            {"frames":[
            {"box":[161.82,95.91,43.03,132.80],"index":0,"keypoints":[\(keypoints)],"t":0.0000},
            {"box":[162.00,95.91,43.03,132.80],"index":1,"keypoints":[\(keypoints)],"t":0.0667}
            ],"id":0,"segments":[{"end":2.1400,"label":"walk","start":0.0000,"transition":0.0000},
            {"end":4.0000,"label":"wave","start":2.1400,"transition":0.4100}]}
            ],"seconds":4.0000,"seed":42,"version":1,"video":"s42-c00003.mp4","width":320}
            """.write(to: path, atomically: true, encoding: .utf8)
        let truth = try GroundTruth.load(path.path)
        XCTAssertEqual(truth.video, "s42-c00003.mp4")
        XCTAssertEqual(truth.people.first?.id, 0)
        XCTAssertEqual(truth.people.first?.segments.map(\.label), ["walk", "wave"])
        XCTAssertEqual(truth.people.first?.segments.last?.transition, 0.41)
        XCTAssertEqual(truth.people.first?.frames.map(\.t), [0, 0.0667])
        XCTAssertEqual(truth.people.first?.frames.first?.box, [161.82, 95.91, 43.03, 132.80])
        XCTAssertThrowsError(try GroundTruth.load("/nonexistent.json"))
    }
}
