// `actiond classify` and `actiond dataset` run as processes on the Stages test models: JSON lines, per-clip
// scores, exit codes, and the dataset's files.
import Foundation
import TestSupport
import XCTest

final class ClassifyCommandTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("StagesTests/Fixtures")
    var scratch: TemporaryDirectory!
    var dir: URL { scratch.url }

    override func setUpWithError() throws { scratch = try TemporaryDirectory("actiond-classify") }

    override func tearDownWithError() throws { scratch?.remove() }

    func clip() throws -> String {
        let path = dir.appendingPathComponent("clip.mp4").path
        let made = try ActiondBinary.run(["testclip", path, "--seconds", "2", "--size", "320x240", "--fps", "15"])
        XCTAssertEqual(made.status, 0, made.stderr)
        return path
    }

    func testClassifyJSONPrintsOneObjectPerSegment() throws {
        let video = try clip()
        // A low enter threshold so the random-weight model's top label (about 0.3) opens a segment.
        let config = dir.appendingPathComponent("p.yaml")
        try """
            version: 1
            models: { actions: \(Self.fixtures.appendingPathComponent("models/r3d.yaml").path) }
            pipeline:
              - decode: { fps: 15, size: 160x120 }
              - classify: { model: actions, stride: 4 }
              - smooth: { window: 1, enter: 0.26, exit: 0.25 }
            """.write(to: config, atomically: true, encoding: .utf8)
        let result = try ActiondBinary.run(["classify", video, "--pipeline", config.path, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertFalse(lines.isEmpty, result.stdout)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            XCTAssertEqual(Set(object.keys), ["label", "score", "start", "end", "model"])
            XCTAssertEqual(object["model"] as? String, "test-r3d")
            XCTAssertTrue(["idle", "walk", "wave", "jump"].contains(object["label"] as! String))
            let start = object["start"] as! Double, end = object["end"] as! Double, score = object["score"] as! Double
            XCTAssertTrue(start >= 0 && start < end && end <= 2.0 + 1e-9 && score >= 0.25 && score <= 1, "\(line)")
        }
        XCTAssertEqual(result.stderr, "", "no progress bar when stderr is not a terminal")

        let scores = try ActiondBinary.run(["classify", video, "--pipeline", config.path, "--json", "--all-scores"])
        XCTAssertEqual(scores.status, 0, scores.stderr)
        let clips = scores.stdout.split(separator: "\n").filter { $0.hasPrefix("{\"clip\"") }
        // 30 frames, clips of 8 every 4: 7 clips (the last padded).
        XCTAssertEqual(clips.count, 7, scores.stdout)
        let first = try JSONSerialization.jsonObject(with: Data(clips[0].utf8)) as! [String: [String: Any]]
        let labelScores = first["clip"]!["scores"] as! [String: Double]
        XCTAssertEqual(labelScores.values.reduce(0, +), 1, accuracy: 1e-3)

        let table = try ActiondBinary.run(["classify", video, "--pipeline", config.path])
        XCTAssertEqual(table.status, 0)
        XCTAssertTrue(table.stdout.hasPrefix("label"), table.stdout)
    }

    func testClassifyErrors() throws {
        let missing = try ActiondBinary.run(["classify", "/nonexistent.mp4", "--pipeline", "x.yaml"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("no such file"), missing.stderr)
        let video = try clip()
        let badConfig = dir.appendingPathComponent("bad.yaml")
        try "version: 1\npipeline:\n  - decode: { fbs: 3 }\n".write(to: badConfig, atomically: true, encoding: .utf8)
        let bad = try ActiondBinary.run(["classify", video, "--pipeline", badConfig.path])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("bad.yaml:3:"), bad.stderr)
        let noDefault = try ActiondBinary.run(["classify", video], in: dir)
        if noDefault.status != 0 {
            XCTAssertEqual(noDefault.status, 2)
            XCTAssertTrue(noDefault.stderr.contains("--pipeline"), noDefault.stderr)
        }
    }

    func testCheckLoadsTheGraphs() throws {
        for name in ["r3d", "ts", "crnn", "crnn-split"] {
            let path = Self.fixtures.appendingPathComponent("pipelines/\(name).yaml").path
            let result = try ActiondBinary.run(["check", path])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertFalse(result.stdout.contains("note:"), result.stdout)
        }
        // An empty .onnx file is found by the card loader but fails to load as a graph.
        let models = dir.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        try "idle\nwalk\nwave\njump\n".write(to: models.appendingPathComponent("labels.txt"), atomically: true,
                                            encoding: .utf8)
        _ = FileManager.default.createFile(atPath: models.appendingPathComponent("empty.onnx").path, contents: Data())
        try """
            kind: 3d
            onnx: empty.onnx
            input: { layout: NCTHW, frames: 8, size: 32x32 }
            output: { kind: logits, labels: labels.txt }
            """.write(to: models.appendingPathComponent("card.yaml"), atomically: true, encoding: .utf8)
        try "version: 1\nmodels: { a: models/card.yaml }\npipeline:\n  - decode\n  - classify: { model: a }\n"
            .write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        let broken = try ActiondBinary.run(["check", "p.yaml"], in: dir)
        XCTAssertEqual(broken.status, 2)
        XCTAssertTrue(broken.stderr.hasPrefix("models/card.yaml:2:7: error: cannot load graph"), broken.stderr)
    }

    func testDatasetWritesTheContractsFiles() throws {
        let video = try clip()
        try FileManager.default.moveItem(atPath: video, toPath: dir.appendingPathComponent("s3-c00001.mp4").path)
        try """
            {"clip":1,"fps":15,"frames":30,"height":120,
            "people":[{"frames":[],"id":0,"segments":[{"end":2.0,"label":"jump","start":0.0,"transition":0.0}]}],
            "seconds":2.0,"seed":3,"version":1,"video":"s3-c00001.mp4","width":160}
            """.write(to: dir.appendingPathComponent("s3-c00001.json"), atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("ds")
        let card = Self.fixtures.appendingPathComponent("models/ts.yaml").path
        let result = try ActiondBinary.run(["dataset", "--card", card, "--out", out.path, dir.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("  jump: "), result.stdout)
        XCTAssertTrue(result.stderr.contains("dataset: 1/1 clips"), result.stderr)
        let lines = try String(contentsOf: out.appendingPathComponent("index.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        // Default serving options for a two-stream card: clips of 16 every 8 at 15 fps, partial dropped:
        // 30 frames give windows at 0 and 8.
        XCTAssertEqual(lines.count, 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        XCTAssertEqual(first["sample"] as? String, "s3-c00001-w000")
        XCTAssertEqual(first["label"] as? String, "jump")
        XCTAssertEqual(first["label_index"] as? Int, 3)
        XCTAssertEqual(first["inputs"] as? [String: String], ["rgb": "tensors/s3-c00001-w000-rgb.npy",
                                                              "flow": "tensors/s3-c00001-w000-flow.npy"])
        let npy = try Data(contentsOf: out.appendingPathComponent("tensors/s3-c00001-w000-flow.npy"))
        let header = String(decoding: npy.prefix(128), as: UTF8.self)
        XCTAssertTrue(header.contains("'descr': '<f4'") && header.contains("'shape': (6, 32, 32)"), header)
        let bad = try ActiondBinary.run(["dataset", "--card", "/nonexistent.yaml", "--out", out.path, dir.path])
        XCTAssertEqual(bad.status, 2)
    }

    /// The contract end to end: `actiond synth` output read by `actiond dataset` (and classified).
    func testDatasetReadsSynthOutput() throws {
        let clips = dir.appendingPathComponent("synth")
        let synth = try ActiondBinary.run(["synth", "--out", clips.path, "--seed", "11", "--clips", "2",
                                           "--seconds", "2", "--actions", "idle,walk,wave,jump"])
        XCTAssertEqual(synth.status, 0, synth.stderr)
        let out = dir.appendingPathComponent("ds")
        let card = Self.fixtures.appendingPathComponent("models/r3d.yaml").path
        let result = try ActiondBinary.run(["dataset", "--card", card, "--out", out.path, "--crop", "person",
                                            clips.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try String(contentsOf: out.appendingPathComponent("index.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        // 2 clips of 30 frames, windows of 8 every 4: 6 full windows each (partial dropped), minus skipped.
        XCTAssertGreaterThan(lines.count, 0)
        XCTAssertLessThanOrEqual(lines.count, 12)
        for line in lines {
            let sample = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            XCTAssertTrue(["idle", "walk", "wave", "jump"].contains(sample["label"] as! String))
            let file = (sample["inputs"] as! [String: String])["clip"]!
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path))
        }
        let video = clips.appendingPathComponent("s11-c00000.mp4").path
        let classify = try ActiondBinary.run(["classify", video, "--pipeline",
                                              Self.fixtures.appendingPathComponent("pipelines/r3d.yaml").path])
        XCTAssertEqual(classify.status, 0, classify.stderr)
        XCTAssertTrue(classify.stdout.contains("test-r3d"), classify.stdout)
    }
}
