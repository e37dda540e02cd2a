// `actiond track` end to end with the embedded models: a busy rendered scene is followed with stable ids that
// cover the ground truth, and twice gives the same output; `--init` follows one person without a detector;
// bad boxes, a pipeline without a tracker and a tracker card that does not fit its graph exit 2.
import Foundation
import TestSupport
import XCTest

final class TrackCLITests: XCTestCase {
    var dir: TemporaryDirectory!

    override func setUpWithError() throws {
        dir = try TemporaryDirectory("actiond-track")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: ActiondBinary.path), "build actiond first")
    }

    override func tearDown() { dir?.remove() }

    struct Frame: Decodable {
        struct Track: Decodable, Equatable {
            var id: Int
            var box: [Double]
            var score: Double
            var state: String
            var evidence: String
            var keypoints: [[Double]]?
        }
        var t: Double
        var frame: Int
        var tracks: [Track]
    }

    func parse(_ text: String) throws -> [Frame] {
        try text.split(separator: "\n").map { try JSONDecoder().decode(Frame.self, from: Data($0.utf8)) }
    }

    func truth(_ stem: String) throws -> DetectCLITests.Truth {
        try JSONDecoder().decode(DetectCLITests.Truth.self, from: Data(contentsOf: URL(fileURLWithPath: stem + ".json")))
    }

    func testABusySceneIsFollowedWithStableIDsTwiceTheSame() throws {
        let render = try ActiondBinary.run(["synth", "--out", dir.path, "--seed", "8415", "--clips", "1",
                                            "--seconds", "4", "--busy", "--people", "6"])
        XCTAssertEqual(render.status, 0, render.stderr)
        let stem = dir.appending("s8415-c00000").path
        let first = try ActiondBinary.run(["track", stem + ".mp4", "--json"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let again = try ActiondBinary.run(["track", stem + ".mp4", "--json"])
        XCTAssertEqual(again.stdout, first.stdout, "the same file gives the same tracks")
        let frames = try parse(first.stdout)
        XCTAssertEqual(frames.count, 60)
        let truth = try truth(stem)
        // Every clearly visible person is covered by a confirmed track on most frames, and mostly by one id
        // (summed over people: the frames where a person's most frequent id covers them).
        var covered = 0, visible = 0, dominant = 0
        for person in truth.people {
            var ids: [Int: Int] = [:]
            for f in person.frames where f.shown >= 0.5 {
                visible += 1
                let best = frames[f.index].tracks.filter { $0.state == "confirmed" }
                    .max { DetectCLITests.iou($0.box, f.box) < DetectCLITests.iou($1.box, f.box) }
                if let best, DetectCLITests.iou(best.box, f.box) >= 0.5 {
                    covered += 1
                    ids[best.id, default: 0] += 1
                }
            }
            dominant += ids.values.max() ?? 0
        }
        XCTAssertGreaterThanOrEqual(Double(dominant) / Double(max(covered, 1)), 0.85,
                                    "\(dominant) of \(covered) covered person-frames under each person's main id")
        XCTAssertGreaterThan(visible, 150)
        XCTAssertGreaterThanOrEqual(Double(covered) / Double(visible), 0.75, "\(covered) of \(visible) covered")
        // Confirmed tracks carry the matched detection's keypoints (the default detector has a pose head).
        let withKeypoints = frames.flatMap(\.tracks).filter { $0.evidence == "detection" }
        XCTAssertFalse(withKeypoints.isEmpty)
        XCTAssertTrue(withKeypoints.allSatisfy { $0.keypoints?.count == 17 })
    }

    func testInitFollowsOneTargetWithoutADetector() throws {
        let render = try ActiondBinary.run(["synth", "--out", dir.path, "--seed", "8412", "--clips", "1",
                                            "--seconds", "3"])
        XCTAssertEqual(render.status, 0, render.stderr)
        let stem = dir.appending("s8412-c00000").path
        let person = try truth(stem).people[0]
        let start = person.frames[0].box
        let box = start.map { String(format: "%.1f", $0) }.joined(separator: ",")
        let result = try ActiondBinary.run(["track", stem + ".mp4", "--json", "--init", box])
        XCTAssertEqual(result.status, 0, result.stderr)
        let frames = try parse(result.stdout)
        XCTAssertEqual(frames.count, 45)
        XCTAssertTrue(frames.allSatisfy { $0.tracks.count == 1 && $0.tracks[0].id == 1 })
        var overlaps: [Double] = []
        for f in person.frames where f.index < frames.count {
            overlaps.append(DetectCLITests.iou(frames[f.index].tracks[0].box, f.box))
        }
        let mean = overlaps.reduce(0, +) / Double(overlaps.count)
        XCTAssertGreaterThan(mean, 0.5, "mean IoU with the truth over \(overlaps.count) frames")
    }

    func testBadBoxesPipelinesAndCardsExit2() throws {
        let render = try ActiondBinary.run(["synth", "--out", dir.path, "--seed", "8413", "--clips", "1",
                                            "--seconds", "1"])
        XCTAssertEqual(render.status, 0, render.stderr)
        let clip = dir.appending("s8413-c00000.mp4").path
        for (args, message) in [
            (["--init", "5000,5000,20,40"], "outside the 320x240 frame"),
            (["--init", "1,2,3"], "--init takes x,y,w,h"),
            (["--init", "10,10,0,40"], "at least 1"),
        ] {
            let result = try ActiondBinary.run(["track", clip] + args)
            XCTAssertEqual(result.status, 2, "\(args): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(args): \(result.stderr)")
        }
        let models = URL(fileURLWithPath: ActiondBinary.path).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("models/default")
        // A pipeline with no track stage.
        try """
            version: 1
            models: { people: \(models.appendingPathComponent("people-pose.yaml").path) }
            pipeline:
              - decode: { fps: 15, size: 320x240 }
              - detect: { model: people }
            """.write(toFile: dir.appending("no-track.yaml").path, atomically: true, encoding: .utf8)
        let noTrack = try ActiondBinary.run(["track", clip, "--pipeline", dir.appending("no-track.yaml").path])
        XCTAssertEqual(noTrack.status, 2, noTrack.stderr)
        XCTAssertTrue(noTrack.stderr.contains("no `track` stage"), noTrack.stderr)
        // A tracker card naming the detector's graph: its output is no feature map.
        try """
            kind: tracker
            onnx: \(models.appendingPathComponent("people-pose.onnx").path)
            input: { name: images, layout: NCHW, size: 64x64 }
            output: { name: output0, kind: features }
            siamese: { search: 128, stride: 8, scale: 0.001 }
            """.write(toFile: dir.appending("bad-tracker.yaml").path, atomically: true, encoding: .utf8)
        try """
            version: 1
            models:
              people: \(models.appendingPathComponent("people-pose.yaml").path)
              tracker: bad-tracker.yaml
            pipeline:
              - decode: { fps: 15, size: 320x240 }
              - detect: { model: people }
              - track: { model: tracker }
            """.write(toFile: dir.appending("bad.yaml").path, atomically: true, encoding: .utf8)
        for extra in [[], ["--init", "10,10,20,40"]] {
            let bad = try ActiondBinary.run(["track", clip, "--pipeline", dir.appending("bad.yaml").path] + extra)
            XCTAssertEqual(bad.status, 2, "\(extra): \(bad.stderr)")
            XCTAssertTrue(bad.stderr.contains("bad-tracker.yaml"), "\(extra): \(bad.stderr)")
        }
    }
}
