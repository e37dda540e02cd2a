// The shipped pipelines/*.yaml with the embedded default models: each passes `check` (graphs loaded and checked
// against their cards), and `classify` on rendered clips gives well-formed segments from the model's vocabulary,
// with the walk/run pair (which a single frame cannot tell apart) recognised.
import Foundation
import XCTest

final class DefaultPipelineTests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testEveryShippedPipelinePassesCheck() throws {
        let pipelines = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("pipelines").path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertEqual(pipelines, ["cnn-rnn.yaml", "default.yaml", "people-iou.yaml", "people.yaml", "service.yaml",
                                   "two-stream.yaml"])
        for name in pipelines {
            let result = try ActiondBinary.run(["check", root.appendingPathComponent("pipelines/\(name)").path])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stdout) \(result.stderr)")
            XCTAssertTrue(result.stdout.contains("valid"), name)
            XCTAssertFalse(result.stdout.contains("not loaded"), "\(name): graphs must be loaded")
        }
    }

    func testDefaultPipelineClassifiesWalkAndRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("actiond-default-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        let synth = try ActiondBinary.run(["synth", "--out", dir.path, "--seed", "90210", "--clips", "4",
                                           "--actions", "walk,run", "--balanced", "--size", "160x120"])
        XCTAssertEqual(synth.status, 0, synth.stderr)
        let labels = Set(try String(contentsOf: root.appendingPathComponent(
            "models/default/actions-r2plus1d-labels.txt"), encoding: .utf8).split(separator: "\n").map(String.init))
        var correct = 0
        for clip in 0..<4 {
            let stem = dir.appendingPathComponent(String(format: "s90210-c%05d", clip)).path
            let truth = try XCTUnwrap(try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: stem + ".json"))) as? [String: Any])
            let performer = try XCTUnwrap((truth["people"] as? [[String: Any]])?.first)
            let expected = try XCTUnwrap((performer["segments"] as? [[String: Any]])?.first?["label"] as? String)
            // Without --pipeline: pipelines/default.yaml is found from the executable's package.
            let result = try ActiondBinary.run(["classify", stem + ".mp4", "--json"])
            XCTAssertEqual(result.status, 0, result.stderr)
            let segments = result.stdout.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            XCTAssertFalse(segments.isEmpty, "no segment for a 4 s clip of \(expected)")
            var longest: (label: String, length: Double) = ("", -1)
            for segment in segments {
                let label = try XCTUnwrap(segment["label"] as? String)
                let start = try XCTUnwrap(segment["start"] as? Double), end = try XCTUnwrap(segment["end"] as? Double)
                XCTAssertTrue(labels.contains(label), label)
                XCTAssertTrue(0 <= start && start < end && end <= 4.01, "\(start)…\(end)")
                XCTAssertEqual(segment["model"] as? String, "actions-r2plus1d")
                if end - start > longest.length { longest = (label, end - start) }
            }
            if longest.label == expected { correct += 1 }
        }
        XCTAssertGreaterThanOrEqual(correct, 3, "walk/run recognised on \(correct) of 4 clips")
    }
}
