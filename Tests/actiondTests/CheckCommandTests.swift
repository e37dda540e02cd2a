// `actiond check` end to end: a valid config exits 0 with a summary; a broken one exits 2 with sorted
// `file:line:col: error:` lines on stderr.
import Foundation
import XCTest

final class CheckCommandTests: XCTestCase {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("PipelineTests/Fixtures/example")

    func testValidConfigExitsZeroWithSummary() throws {
        // The example names /var/lib/actiond paths of a deployment, not of this machine: --no-filesystem.
        let result = try ActiondBinary.run(["check", "--no-graphs", "--no-filesystem", "pipeline.yaml"],
                                           in: Self.example)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "pipeline.yaml: valid")
        XCTAssertTrue(lines.contains("  stages: decode → detect → track → pose → flow → classify → smooth"))
        XCTAssertTrue(lines.contains("    classify  takes frames, flow, tracks; gives clipScores"), result.stdout)
        XCTAssertTrue(lines.contains("  model actions: two-stream `actions-tsn`, NCHW 1×224x224, 6 labels "
                                     + "(models/actions-two-stream.yaml)"), result.stdout)
        let quiet = try ActiondBinary.run(["check", "--no-graphs", "--no-filesystem", "--quiet", "pipeline.yaml"],
                                          in: Self.example)
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

    /// What `run` needs of the filesystem is checked by `check` and by `run` itself, before a source starts: each
    /// problem on the config line that names the path, exit 2, and no file in the watched folder touched.
    func testFilesystemProblemsExitTwoBeforeAnythingRuns() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("actiond-check-fs-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("inbox/logs.jsonl"),
                                                withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("not a folder".utf8).write(to: dir.appendingPathComponent("plain-file"))
        try Data("waiting".utf8).write(to: dir.appendingPathComponent("inbox/clip.mp4"))
        let config = """
            version: 1
            journal: plain-file/journal.sqlite
            sources:
              - id: a
                watch: \(dir.path)/inbox
                done: "move:\(dir.path)/plain-file/done"
              - id: b
                watch: \(dir.path)/plain-file
                quarantine: \(dir.path)/not-yet/quarantine
              - id: c
                watch: \(dir.path)/missing-inbox
            models: { actions: \(Self.example.path)/models/actions.yaml }
            pipeline:
              - decode
              - classify: { model: actions }
            sinks:
              - jsonl: { path: \(dir.path)/inbox/logs.jsonl }
            """
        try config.write(to: dir.appendingPathComponent("fs.yaml"), atomically: true, encoding: .utf8)
        let expected = [
            "fs.yaml:2:10: error: cannot create the journal `plain-file/journal.sqlite`: "
                + "`plain-file` is a file, not a folder",
            "fs.yaml:6:11: error: cannot create the `done: move:` folder `\(dir.path)/plain-file/done`: "
                + "`\(dir.path)/plain-file` is a file, not a folder",
            "fs.yaml:8:12: error: the watched folder `\(dir.path)/plain-file` is not a folder",
            "fs.yaml:17:20: error: the event log `\(dir.path)/inbox/logs.jsonl` is a folder; name a file inside it, "
                + "e.g. `\(dir.path)/inbox/logs.jsonl/actions.jsonl`",
        ]
        let warning = "fs.yaml:11:12: warning: the watched folder `\(dir.path)/missing-inbox` does not exist yet; the "
            + "service waits for it and checks again every 5 s"
        let check = try ActiondBinary.run(["check", "--no-graphs", "fs.yaml"], in: dir)
        XCTAssertEqual(check.status, 2, check.stderr)
        XCTAssertEqual(check.stderr.split(separator: "\n").map(String.init), [warning] + expected)
        let run = try ActiondBinary.run(["run", "--config", "fs.yaml"], in: dir)
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertEqual(run.stderr.split(separator: "\n").map(String.init), [warning] + expected)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("inbox").path)
            .sorted(), ["clip.mp4", "logs.jsonl"], "run touched the watched folder")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("not-yet").path))
        // Skipped on request (a config written for another machine).
        let elsewhere = try ActiondBinary.run(["check", "--no-graphs", "--no-filesystem", "--quiet", "fs.yaml"],
                                              in: dir)
        XCTAssertEqual(elsewhere.status, 0, elsewhere.stderr)
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
        let result = try ActiondBinary.run(["check", "--no-graphs", "--quiet", "wasteful.yaml"], in: dir)
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
