// The actiond executable run end to end as a user runs it: output, files written, exit codes, stderr.
import Foundation
import Media
import TestSupport
import XCTest

/// Runs the built `actiond` binary ($ACTIOND_BIN, else the one next to this package's build products).
enum ActiondBinary {
    static var path: String {
        if let explicit = ProcessInfo.processInfo.environment["ACTIOND_BIN"] { return explicit }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for config in ["release", "debug"] {
            let candidate = root.appendingPathComponent(".build/\(config)/actiond").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return root.appendingPathComponent(".build/debug/actiond").path
    }

    /// Runs the binary with `arguments` (in `directory`, else the test's working directory).
    static func run(_ arguments: [String], in directory: URL? = nil) throws -> ProcessResult {
        try runProcess(path, arguments, in: directory)
    }
}

final class CLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("actiond-cli-\(getpid())-\(name.filter(\.isLetter))")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: ActiondBinary.path), "build actiond first")
    }

    func testClip(_ name: String = "clip.mp4", seconds: String = "2", extra: [String] = []) throws -> String {
        let path = dir.appendingPathComponent(name).path
        let result = try ActiondBinary.run(["testclip", path, "--seconds", seconds, "--size", "320x240", "--fps", "25"] + extra)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("wrote"), result.stdout)
        return path
    }

    func testProbeJSONWithCount() throws {
        let clip = try testClip()
        let result = try ActiondBinary.run(["probe", clip, "--count", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let info = try XCTUnwrap(json["info"] as? [String: Any])
        XCTAssertEqual(info["codec"] as? String, "h264")
        XCTAssertEqual(info["width"] as? Int, 320)
        XCTAssertEqual(info["height"] as? Int, 240)
        XCTAssertEqual(info["rotation"] as? Int, 0)
        XCTAssertEqual((info["fps"] as? Double) ?? 0, 25, accuracy: 1e-6)
        XCTAssertEqual(json["decodedFrames"] as? Int, 50)
        XCTAssertEqual((json["errors"] as? [Any])?.count, 0)
        XCTAssertEqual(json["stillImage"] as? Bool, false)
        if let reference = ffprobeCount(clip) { XCTAssertEqual(reference, 50) }

        let text = try ActiondBinary.run(["probe", clip])
        XCTAssertEqual(text.status, 0)
        XCTAssertTrue(text.stdout.contains("codec:     h264"), text.stdout)
    }

    /// A picture renamed `.mp4` is named for what it is (the service refuses it as not a video).
    func testProbeSaysAStillImageIsOne() throws {
        let clip = try testClip()
        let frames = dir.appendingPathComponent("still")
        XCTAssertEqual(try ActiondBinary.run(["frames", clip, "--fps", "1", "--out", frames.path, "--quiet"]).status, 0)
        let picture = dir.appendingPathComponent("photo.mp4").path
        try FileManager.default.copyItem(atPath: frames.appendingPathComponent("frame-000000.png").path,
                                         toPath: picture)
        let json = try ActiondBinary.run(["probe", picture, "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["stillImage"] as? Bool, true)
        let text = try ActiondBinary.run(["probe", picture])
        XCTAssertTrue(text.stdout.contains("(a still image, not a video)"), text.stdout)
    }

    func testRotatedClipProbe() throws {
        let clip = try testClip("rot.mp4", seconds: "1", extra: ["--rotation", "90"])
        let result = try ActiondBinary.run(["probe", clip, "--json"])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((json["info"] as? [String: Any])?["rotation"] as? Int, 90)
        XCTAssertEqual(json["displayWidth"] as? Int, 240)
    }

    func testFramesWritesSampledPNGs() throws {
        let clip = try testClip()
        let out = dir.appendingPathComponent("frames")
        let result = try ActiondBinary.run(["frames", clip, "--fps", "5", "--size", "160x120", "--start", "0.4",
                                            "--duration", "1", "--out", out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        XCTAssertEqual(files, (0..<5).map { String(format: "frame-%06d.png", $0) })
        // Each PNG is a real image of the requested size showing the frame on screen at t = 0.4 + k/5.
        for (k, file) in files.enumerated() {
            let decoder = try VideoDecoder(out.appendingPathComponent(file).path)
            XCTAssertEqual(decoder.info.codec, "png")
            XCTAssertEqual(decoder.info.width, 160)
            let frame = try XCTUnwrap(try decoder.nextFrame())
            let image = try Scaler(width: 160, height: 120).convert(frame)
            XCTAssertEqual(TestPattern.index(in: image), 10 + 5 * k, file)
        }
    }

    func testExitCodesAndErrorLines() throws {
        let missing = try ActiondBinary.run(["probe", dir.appendingPathComponent("missing.mp4").path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.hasPrefix("error: cannot open '"), missing.stderr)
        XCTAssertTrue(missing.stderr.split(separator: "\n").first?.hasSuffix("missing.mp4': no such file") ?? false,
                      missing.stderr)

        let directory = try ActiondBinary.run(["frames", dir.path, "--out", dir.appendingPathComponent("o").path])
        XCTAssertEqual(directory.status, 1)
        XCTAssertTrue(directory.stderr.contains("it is a directory"), directory.stderr)

        XCTAssertEqual(try ActiondBinary.run(["probe"]).status, 2, "missing argument is a usage error")
        XCTAssertEqual(try ActiondBinary.run(["probe", "x.mp4", "--bogus"]).status, 2)
        let badFPS = try ActiondBinary.run(["frames", "x.mp4", "--fps", "-3", "--out", "o"])
        XCTAssertEqual(badFPS.status, 2)
        XCTAssertTrue(badFPS.stderr.contains("--fps"), badFPS.stderr)
        XCTAssertEqual(try ActiondBinary.run(["frames", "x.mp4", "--size", "12by4", "--out", "o"]).status, 2)
        let help = try ActiondBinary.run(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("probe"))
    }

    func testProbeCountReportsDamageWithExitOne() throws {
        let clip = try testClip("damaged.mkv", seconds: "4")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: clip))
        let cut = dir.appendingPathComponent("cut.mkv")
        try bytes.prefix(bytes.count / 2).write(to: cut)
        let result = try ActiondBinary.run(["probe", cut.path, "--count", "--json"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.hasPrefix("error: cannot decode"), result.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let decoded = try XCTUnwrap(json["decodedFrames"] as? Int)
        XCTAssertGreaterThan(decoded, 10)
        XCTAssertEqual((json["stats"] as? [String: Any])?["truncated"] as? Bool, true)
        if let reference = ffprobeCount(cut.path) { XCTAssertEqual(decoded, reference) }
    }

    func testBenchDecodeJSON() throws {
        let clip = try testClip()
        let result = try ActiondBinary.run(["bench", "decode", clip, "--runs", "1", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["frames"] as? Int, 50)
        XCTAssertGreaterThan(json["decode_fps"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(json["decode_scale_fps"] as? Double ?? 0, 0)
    }

    private func ffprobeCount(_ path: String) -> Int? {
        let arguments = ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                         "stream=nb_read_frames", "-of", "csv=p=0", path]
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ffprobe"),
              let result = try? runProcess("/usr/bin/ffprobe", arguments)
        else { return nil }
        return Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
