// The track stage with the embedded detector and Siamese tracker on rendered frames (in memory, exact ground
// truth): a person the detector misses for 10 frames is followed by the Siamese search and keeps their id,
// where the box-only tracker can only predict; the same frames give the same ids; and the engine's backbone
// and the Swift correlation match ONNX Runtime and PyTorch on the fixture crops.
import Flow
import Foundation
import Media
import ONNX
import Pipeline
import Stages
import Synth
import Tensor
import Vision
import XCTest

final class TrackStageTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/siamese")

    static func card(_ name: String) throws -> ModelCard {
        try ModelCardLoader.load(path: root.appendingPathComponent("models/default/\(name).yaml").path)
    }

    static func iou(_ a: PixelRect, _ b: [Double]) -> Double {
        a.iou(PixelRect(x: b[0], y: b[1], width: b[2], height: b[3]))
    }

    /// A rendered scene (in memory) with its truth and every frame's detections from the embedded detector.
    struct Scene {
        var images: [Image]
        var truth: GroundTruth
        var detections: [[Detection]]
    }

    static func scene(seed: UInt64, people: Int, seconds: Double) throws -> Scene {
        var options = SynthOptions(width: 320, height: 240, seconds: seconds)
        options.people = people
        let clip = ClipScene(options: options, seed: seed, clip: 0)
        let images = (0..<clip.frameCount).map { index in
            Image(width: 320, height: 240, format: .rgb24, pixels: clip.renderFrame(index).pixels)
        }
        var options2 = DetectOptions(model: "people")
        options2.threshold = 0.1
        var detect = DetectStage(try CompiledDetector(card: card("people-pose")), options: options2)
        return Scene(images: images, truth: Synth.groundTruth(options: options, seed: seed, clip: 0),
                     detections: try images.map { try detect.detect($0) })
    }

    func testSiameseSearchFollowsAPersonTheDetectorMissesForTenFrames() throws {
        let scene = try Self.scene(seed: 8401, people: 2, seconds: 3)
        // The performer (who stays in the picture) vanishes from the detections on frames 15…24.
        guard let performer = scene.truth.people.first(where: { $0.frames.count == scene.images.count }) else {
            return XCTFail("the scene has no person in every frame")
        }
        let gap = 15..<25
        func truthBox(_ t: Int) -> [Double] { performer.frames.first { $0.index == t }!.box }
        var detections = scene.detections
        for t in gap { detections[t].removeAll { Self.iou($0.box, truthBox(t)) > 0.3 } }

        func run(_ kind: TrackOptions.Kind) throws -> [[TrackBox]] {
            var options = TrackOptions()
            options.kind = kind
            options.model = kind == .siamese ? "tracker" : nil
            let compiled = kind == .siamese ? try CompiledTracker(card: Self.card("tracker")) : nil
            var stage = try TrackStage(options: options, compiled: compiled)
            let out = try zip(scene.images, detections).map { try stage.step($0, $1) }
            // Memory is bounded by the live tracks: a removed track's template is gone with it.
            XCTAssertLessThanOrEqual(stage.templateCount, stage.liveTracks)
            let after = try (0..<(options.maxLost + 2)).map { _ in try stage.step(scene.images.last!, []) }
            XCTAssertEqual(stage.liveTracks, 0, "every track removed after max_lost frames without a detection")
            XCTAssertEqual(stage.templateCount, 0)
            XCTAssertTrue(after.flatMap { $0 }.contains { $0.state == .removed })
            return out
        }
        func id(_ frame: [TrackBox], _ t: Int) -> Int? {
            frame.filter { $0.state == .confirmed }.max { Self.iou($0.box, truthBox(t)) < Self.iou($1.box, truthBox(t)) }
                .flatMap { Self.iou($0.box, truthBox(t)) >= 0.5 ? $0.id : nil }
        }
        let siamese = try run(.siamese)
        let before = id(siamese[14], 14)
        XCTAssertNotNil(before, "the performer is tracked before the gap")
        var followed = 0
        for t in gap {
            if let track = siamese[t].first(where: { $0.id == before }), track.state == .confirmed,
               track.evidence == .search, Self.iou(track.box, truthBox(t)) >= 0.5 { followed += 1 }
        }
        XCTAssertGreaterThanOrEqual(followed, 8, "frames of the gap the search followed the performer on")
        for t in 25..<30 { XCTAssertEqual(id(siamese[t], t), before, "frame \(t): the same id after the gap") }
        // Boxes alone cannot see the performer in the gap: the track is only predicted there.
        let boxes = try run(.iou)
        let boxID = id(boxes[14], 14)
        for t in gap {
            XCTAssertNotEqual(boxes[t].first { $0.id == boxID }?.evidence, .search, "frame \(t)")
        }
        // Deterministic: a second run gives the same tracks.
        XCTAssertEqual(try run(.siamese), siamese)
    }

    /// The fixture (tools/fixtures/make_siamese_fixture.py): crops by the training recipe's formula, backbone
    /// features from ONNX Runtime, the response from PyTorch's conv2d, on a real rendered frame.
    func testCropsFeaturesAndResponseMatchTheTrainingSideAndONNXRuntime() throws {
        struct Fixture: Decodable {
            struct CropBox: Decodable { var box: [Double]; var side: Double; var output: String }
            var box: [Double]
            var search_offset: [Double]
            var frame_mean: [Float]
            var crop_frame_mean: [Float]
            var crop_boxes: [String: CropBox]
        }
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Self.fixtures
            .appendingPathComponent("siamese.json")))
        func image(_ name: String) throws -> Image {
            let array = try NPYArray(npyFile: Self.fixtures.appendingPathComponent(name).path)
            return Image(width: array.shape[1], height: array.shape[0], format: .rgb24, pixels: [UInt8](array.payload))
        }
        func tensor(_ name: String) throws -> [Float] {
            try Tensor(npyFile: Self.fixtures.appendingPathComponent(name).path).floatValues
        }
        func worst(_ a: [Float], _ b: [Float]) -> Float {
            XCTAssertEqual(a.count, b.count)
            return zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
        }
        // Crops of the random frame: inside (upscaled) and partly outside (downscaled).
        let small = try image("crop_frame.npy")
        let planes = FramePlanes(small)
        for (c, want) in zip(planes.mean, fixture.crop_frame_mean) { XCTAssertEqual(c, want, accuracy: 1e-3) }
        for (_, crop) in fixture.crop_boxes {
            let b = crop.box
            let got = SiameseCrop.cut(planes, cx: b[0] + b[2] / 2, cy: b[1] + b[3] / 2, side: crop.side, size: 64,
                                      fill: planes.mean)
            XCTAssertLessThan(worst(got, try tensor(crop.output)), 1e-3, crop.output)
        }
        // The rendered frame: exemplar crop + backbone, search crop + backbone, correlation.
        let frame = try image("frame.npy")
        let tracker = try CompiledTracker(card: Self.card("tracker"))
        let cue = SiameseCue(tracker)
        cue.show(frame)
        let b = fixture.box
        let box = PixelRect(x: b[0], y: b[1], width: b[2], height: b[3])
        let g = tracker.geometry
        let exemplarCrop = SiameseCrop.cut(FramePlanes(frame), cx: box.centre.x, cy: box.centre.y,
                                           side: g.exemplarSide(width: b[2], height: b[3]), size: 64,
                                           fill: fixture.frame_mean)
        XCTAssertLessThan(worst(exemplarCrop, try tensor("exemplar.npy")), 1e-3)
        let z = try cue.exemplar(box)
        let zWant = try tensor("z.npy")
        XCTAssertEqual([z.channels, z.height, z.width], [128, 4, 4])
        XCTAssertLessThan(worst(z.values, zWant), 1e-3 * max(1, zWant.map(abs).max()!))
        // The search crop is centred off the box by the fixture's offset, so the peak is off-centre.
        let shifted = PixelRect(x: b[0] + fixture.search_offset[0], y: b[1] + fixture.search_offset[1], width: b[2],
                                height: b[3])
        let located = try cue.response(z, around: shifted)
        let responseWant = try tensor("response.npy")
        XCTAssertEqual([located.rows, located.columns], [9, 9])
        XCTAssertLessThan(worst(located.logits, responseWant), 1e-3 * max(1, responseWant.map(abs).max()!))
        // The Swift correlation alone on ONNX Runtime's features equals PyTorch's conv2d.
        let x = FeatureMap(values: try tensor("x.npy"), channels: 128, height: 12, width: 12)
        let fromReference = SiameseCorrelation.correlate(FeatureMap(values: zWant, channels: 128, height: 4, width: 4),
                                                         over: x, scale: tracker.scale, bias: tracker.bias)
        XCTAssertLessThan(worst(fromReference, responseWant), 1e-4 * max(1, responseWant.map(abs).max()!))
        // The peak lands back on the person: the box centre, in frame pixels.
        let peak = SiamesePeak.locate(located, settings: SiameseSearchSettings())
        XCTAssertEqual(peak.x, box.centre.x, accuracy: 8)
        XCTAssertEqual(peak.y, box.centre.y, accuracy: 8)
    }

    func testCardWhoseBackboneDoesNotFitItsGeometryIsRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracker-card-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let onnx = Self.root.appendingPathComponent("models/default/tracker.onnx").path
        try """
            kind: tracker
            onnx: \(onnx)
            input: { name: image, layout: NCHW, size: 64x64 }
            output: { name: features, kind: features }
            siamese: { search: 128, stride: 4, scale: 0.001 }
            """.write(to: dir.appendingPathComponent("wrong.yaml"), atomically: true, encoding: .utf8)
        let card = try ModelCardLoader.load(path: dir.appendingPathComponent("wrong.yaml").path)
        XCTAssertThrowsError(try CompiledTracker(card: card)) { error in
            XCTAssertTrue("\(error)".contains("do not correlate into the 17×17 response"), "\(error)")
            XCTAssertTrue("\(error)".contains("wrong.yaml"), "\(error)")
        }
    }
}
