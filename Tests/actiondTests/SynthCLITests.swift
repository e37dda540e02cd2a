// `actiond synth` end to end: files named from seed and clip number, identical ground truth whatever the
// parallelism or how a run is split, byte-identical videos between renders, the vocabulary listing, and usage errors with exit status 2.
import Foundation
import Media
import TestSupport
import XCTest

final class SynthCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("actiond-synth-cli-\(getpid())-\(name.filter(\.isLetter))")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: ActiondBinary.path), "build actiond first")
    }

    private func synth(_ out: String, _ extra: [String]) throws -> ProcessResult {
        try ActiondBinary.run(["synth", "--out", dir.appendingPathComponent(out).path, "--seed", "17",
                               "--size", "96x64", "--fps", "8", "--seconds", "1.5"] + extra)
    }

    func testWritesVideoAndTruthPerClipSameBytesWhateverTheSplit() throws {
        let all = try synth("all", ["--clips", "3", "--people", "2", "--switch", "--segment", "0.6:0.9"])
        XCTAssertEqual(all.status, 0, all.stderr)
        XCTAssert(all.stderr.contains("synth: 3/3 clips"), all.stderr)
        XCTAssert(all.stdout.contains("wrote 3 clips"), all.stdout)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("all").path).sorted()
        XCTAssertEqual(names, ["s17-c00000.json", "s17-c00000.mp4", "s17-c00001.json", "s17-c00001.mp4",
                               "s17-c00002.json", "s17-c00002.mp4"])
        // One job, and clip 2 rendered on its own with --first: same ground truth bytes.
        XCTAssertEqual(try synth("serial", ["--clips", "3", "--people", "2", "--switch", "--segment", "0.6:0.9",
                                            "--jobs", "1"]).status, 0)
        XCTAssertEqual(try synth("split", ["--clips", "1", "--first", "2", "--people", "2", "--switch",
                                           "--segment", "0.6:0.9"]).status, 0)
        for clip in 0..<3 {
            let name = "s17-c0000\(clip).json"
            let a = try Data(contentsOf: dir.appendingPathComponent("all/" + name))
            XCTAssertEqual(a, try Data(contentsOf: dir.appendingPathComponent("serial/" + name)))
            if clip == 2 { XCTAssertEqual(a, try Data(contentsOf: dir.appendingPathComponent("split/" + name))) }
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: a) as? [String: Any])
            XCTAssertEqual(json["frames"] as? Int, 12)
            XCTAssertEqual(json["video"] as? String, "s17-c0000\(clip).mp4")
            XCTAssertEqual((json["people"] as? [Any])?.count, 2)
        }
        let decoder = try VideoDecoder(dir.appendingPathComponent("all/s17-c00001.mp4").path)
        var frames = 0
        while let frame = try decoder.nextFrame() {
            XCTAssertEqual(frame.width, 96)
            frames += 1
        }
        XCTAssertEqual(frames, 12)
    }

    /// The videos too are byte-identical between renders, not just the ground truth (x264's AVX-512 code made
    /// about half of such clips differ from run to run; VideoEncoder leaves it out).
    func testSameOptionsGiveByteIdenticalVideos() throws {
        let options = ["synth", "--seed", "6060", "--clips", "8", "--balanced", "--size", "160x120"]
        for (out, jobs) in [("first", "2"), ("second", "2"), ("third", "1")] {
            let result = try ActiondBinary.run(options + ["--out", dir.appendingPathComponent(out).path,
                                                          "--jobs", jobs])
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        for clip in 0..<8 {
            let name = String(format: "s6060-c%05d.mp4", clip)
            let first = try Data(contentsOf: dir.appendingPathComponent("first/" + name))
            XCTAssertGreaterThan(first.count, 1000)
            XCTAssertEqual(first, try Data(contentsOf: dir.appendingPathComponent("second/" + name)), name)
            XCTAssertEqual(first, try Data(contentsOf: dir.appendingPathComponent("third/" + name)), name)
        }
    }

    func testActionsOptionAndListing() throws {
        let list = try ActiondBinary.run(["synth", "--list-actions"])
        XCTAssertEqual(list.status, 0, list.stderr)
        let names = list.stdout.split(separator: "\n").map { String($0.split(separator: " ")[0]) }
        XCTAssertEqual(names, ["idle", "walk", "run", "jump", "wave", "clap", "squat", "sit_down", "stand_up",
                               "punch", "kick", "bend"])
        let run = try synth("only", ["--clips", "2", "--actions", "sit_down"])
        XCTAssertEqual(run.status, 0, run.stderr)
        for clip in 0..<2 {
            let json = try Data(contentsOf: dir.appendingPathComponent("only/s17-c0000\(clip).json"))
            let truth = try XCTUnwrap(try JSONSerialization.jsonObject(with: json) as? [String: Any])
            let people = try XCTUnwrap(truth["people"] as? [[String: Any]])
            let labels = people.flatMap { ($0["segments"] as? [[String: Any]] ?? []).compactMap { $0["label"] as? String } }
            XCTAssertEqual(Set(labels), ["sit_down"], "clip \(clip)")
        }
    }

    /// Busy scenes: at most --people people, each person frame with its visible fraction.
    func testBusyScenes() throws {
        let run = try synth("busy", ["--clips", "3", "--busy", "--people", "3"])
        XCTAssertEqual(run.status, 0, run.stderr)
        for clip in 0..<3 {
            let json = try Data(contentsOf: dir.appendingPathComponent("busy/s17-c0000\(clip).json"))
            let truth = try XCTUnwrap(try JSONSerialization.jsonObject(with: json) as? [String: Any])
            XCTAssertEqual(truth["version"] as? Int, 2)
            let people = try XCTUnwrap(truth["people"] as? [[String: Any]])
            XCTAssert((1...3).contains(people.count), "clip \(clip): \(people.count) people")
            for person in people {
                for frame in person["frames"] as? [[String: Any]] ?? [] {
                    let visible = try XCTUnwrap(frame["visible"] as? Double)
                    XCTAssert(visible >= 0 && visible <= 1)
                }
            }
        }
        let conflicting = try synth("bad", ["--clips", "1", "--busy", "--balanced"])
        XCTAssertEqual(conflicting.status, 2)
        XCTAssert(conflicting.stderr.contains("busy scenes have no performer"), conflicting.stderr)
    }

    func testUsageErrorsExitTwo() throws {
        for (arguments, message) in [
            (["--clips", "1", "--actions", "dance"], "unknown action 'dance'"),
            (["--clips", "1", "--size", "97x64"], "--size must be even"),
            (["--clips", "0"], "--clips must be at least 1"),
            (["--clips", "1", "--segment", "3:1"], "--segment must be MIN:MAX"),
        ] {
            let result = try synth("bad", arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssert(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let missing = try ActiondBinary.run(["synth", "--clips", "1"])
        XCTAssertEqual(missing.status, 2)
        XCTAssert(missing.stderr.contains("--out DIR is required"), missing.stderr)
    }
}
