// `actiond check` end to end: a valid config exits 0 with a summary; a broken one exits 2 with sorted
// `file:line:col: error:` lines on stderr.
import Foundation
import XCTest

final class CheckCommandTests: XCTestCase {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("PipelineTests/Fixtures/example")

    func testValidConfigExitsZeroWithSummary() throws {
        let result = try ActiondBinary.run(["check", "pipeline.yaml"], in: Self.example)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "pipeline.yaml: valid")
        XCTAssertTrue(lines.contains("  stages: decode → detect → track → pose → flow → classify → smooth"))
        XCTAssertTrue(lines.contains("    classify  takes frames, flow, tracks; gives clipScores"), result.stdout)
        XCTAssertTrue(lines.contains("  model actions: two-stream `actions-tsn`, NCHW 1×224x224, 6 labels "
                                     + "(models/actions-two-stream.yaml)"), result.stdout)
        let quiet = try ActiondBinary.run(["check", "--quiet", "pipeline.yaml"], in: Self.example)
        XCTAssertEqual(quiet.status, 0)
        XCTAssertEqual(quiet.stdout, "")
    }

    func testBrokenConfigExitsTwoWithPositionedErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("actiond-check-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: Self.example.appendingPathComponent("models"),
                                         to: dir.appendingPathComponent("models"))
        try """
            version: 1
            models: { actions: models/actions.yaml, person: models/person.yaml }
            pipeline:
              - decode: { fps: 15, sise: 320x240 }
              - flow
              - classify: { model: actions, kind: two-stream }
              - smooth: { enter: 2 }
            """.write(to: dir.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)
        let result = try ActiondBinary.run(["check", "broken.yaml"], in: dir)
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(result.stderr.split(separator: "\n").map(String.init), [
            "broken.yaml:4:24: error: unknown key `sise` in `decode` options; did you mean `size`? "
                + "(known keys: fps, size, resize)",
            "broken.yaml:6:39: error: `kind: two-stream` does not match model `actions`, whose card "
                + "(models/actions.yaml) says `3d`; remove `kind` to use the card's",
            "broken.yaml:7:22: error: `enter` must be between 0 and 1, got 2",
        ])
    }

    func testWarningsArePrintedButTheConfigIsValid() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("actiond-check-warn-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: Self.example.appendingPathComponent("models"),
                                         to: dir.appendingPathComponent("models"))
        try """
            version: 1
            models: { actions: models/actions.yaml, person: models/person.yaml }
            pipeline:
              - decode
              - flow
              - classify: { model: actions }
            """.write(to: dir.appendingPathComponent("wasteful.yaml"), atomically: true, encoding: .utf8)
        let result = try ActiondBinary.run(["check", "--quiet", "wasteful.yaml"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").map(String.init), [
            "wasteful.yaml:2:41: warning: model `person` is declared but no stage uses it",
            "wasteful.yaml:5:5: warning: `flow` runs on every frame, but no later stage takes its `flow` (a "
                + "two-stream `classify` would); remove it to save the time",
        ])
    }

    func testMissingConfigExitsTwo() throws {
        let result = try ActiondBinary.run(["check", "/nonexistent/pipeline.yaml"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stderr, "/nonexistent/pipeline.yaml:1:1: error: no such config file\n")
    }
}
