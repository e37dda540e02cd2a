// The encoded clip: decodes with the stated frame count and size, and the person is where the ground truth
// says (the decoded picture differs from the empty scene inside the person's box, hardly at all outside).
import Foundation
import Media
@testable import Synth
import XCTest

final class VideoTests: XCTestCase {
    private func directory(_ name: String = #function) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("actiond-synth-\(getpid())")
            .appendingPathComponent(name.filter { $0.isLetter })
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    func testClipDecodesWithStatedFramesAndSizeAndMatchingJSON() throws {
        let dir = try directory()
        let options = SynthOptions(width: 160, height: 120, fps: 12, seconds: 2.5, people: 2, switching: true,
                                   segmentSeconds: 1...1.5)
        let truth = try Synth.renderClip(options: options, seed: 21, clip: 4, directory: dir)
        XCTAssertEqual(truth.video, "s21-c00004.mp4")
        let json = try String(contentsOfFile: dir + "/s21-c00004.json", encoding: .utf8)
        XCTAssertEqual(json, truth.json())
        XCTAssertEqual(json, Synth.groundTruth(options: options, seed: 21, clip: 4).json())
        XCTAssertEqual(try GroundTruth.load(dir + "/s21-c00004.json"), truth)
        let decoder = try VideoDecoder(dir + "/s21-c00004.mp4")
        var times = [Double]()
        while let frame = try decoder.nextFrame() {
            XCTAssertEqual(frame.width, 160)
            XCTAssertEqual(frame.height, 120)
            times.append(frame.time)
        }
        XCTAssertEqual(times.count, 30)
        XCTAssertEqual(truth.frames, 30)
        for (i, t) in times.enumerated() { XCTAssertEqual(t, Double(i) / 12, accuracy: 1e-3) }
    }

    func testPersonIsWhereTheBoxSays() throws {
        let dir = try directory()
        let options = SynthOptions(width: 192, height: 144, fps: 10, seconds: 2, quality: 23)
        for seed in [1, 2, 3, 4, 5, 6] as [UInt64] {
            let truth = try Synth.renderClip(options: options, seed: seed, clip: 0, directory: dir)
            let scene = ClipScene(options: options, seed: seed, clip: 0)
            let decoder = try VideoDecoder(dir + "/" + truth.video)
            let scaler = try Scaler(width: options.width, height: options.height)
            var inside = (sum: 0.0, count: 0), outside = (sum: 0.0, count: 0)
            var index = 0
            while let frame = try decoder.nextFrame() {
                let picture = try scaler.convert(frame).pixels
                let empty = scene.renderFrame(index, drawPeople: false).pixels
                guard let box = truth.people[0].frames.first(where: { $0.index == index })?.box else {
                    index += 1
                    continue
                }
                // Differences averaged over 4x4 blocks: sensor noise (which H.264 partly removes, so the
                // decoded picture and the noisy empty render differ by it everywhere) averages out, while a
                // person differs from the background consistently.
                for by in 0..<(options.height / 4) {
                    for bx in 0..<(options.width / 4) {
                        var d = SIMD3<Double>(0, 0, 0)
                        for y in (by * 4)..<(by * 4 + 4) {
                            for x in (bx * 4)..<(bx * 4 + 4) {
                                let i = (y * options.width + x) * 3
                                d += SIMD3(Double(picture[i]) - Double(empty[i]),
                                           Double(picture[i + 1]) - Double(empty[i + 1]),
                                           Double(picture[i + 2]) - Double(empty[i + 2]))
                            }
                        }
                        let value = (abs(d.x) + abs(d.y) + abs(d.z)) / 48
                        let x0 = Double(bx * 4), y0 = Double(by * 4)
                        if x0 + 2 >= box[0], x0 + 2 < box[0] + box[2], y0 + 2 >= box[1], y0 + 2 < box[1] + box[3] {
                            inside.sum += value; inside.count += 1
                        } else if x0 + 4 < box[0] - 4 || x0 > box[0] + box[2] + 4 || y0 + 4 < box[1] - 4
                                    || y0 > box[1] + box[3] + 4 {
                            // A few pixels' margin: H.264 blocks smear the person's edges a little.
                            outside.sum += value; outside.count += 1
                        }
                    }
                }
                index += 1
            }
            XCTAssertEqual(index, truth.frames)
            let meanInside = inside.sum / Double(inside.count), meanOutside = outside.sum / Double(outside.count)
            XCTAssertGreaterThan(meanInside, 8, "seed \(seed)")
            XCTAssertGreaterThan(meanInside, 5 * meanOutside,
                                 "seed \(seed): inside \(meanInside), outside \(meanOutside)")
        }
    }

    func testBatchRendersEveryClipInParallelLikeOneByOne() throws {
        let dir = try directory()
        let options = SynthOptions(width: 96, height: 64, fps: 8, seconds: 1)
        let done = Counter()
        try Synth.renderClips(options: options, seed: 5, clips: 2..<7, directory: dir, jobs: 2) { _ in done.add() }
        XCTAssertEqual(done.value, 5)
        for clip in 2..<7 {
            let json = try String(contentsOfFile: dir + "/" + Synth.clipName(seed: 5, clip: clip) + ".json",
                                  encoding: .utf8)
            XCTAssertEqual(json, Synth.groundTruth(options: options, seed: 5, clip: clip).json())
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/s5-c00001.json"))
    }

    func testUnwritableDirectoryIsATypedError() {
        let options = SynthOptions(width: 64, height: 48, fps: 5, seconds: 1)
        XCTAssertThrowsError(try Synth.renderClip(options: options, seed: 1, clip: 0,
                                                  directory: "/nonexistent-dir/x")) { error in
            guard let error = error as? SynthError else { return XCTFail("\(error)") }
            XCTAssert(error.description.contains("/nonexistent-dir/x/s1-c00000.mp4"), error.description)
        }
    }
}

private final class Counter: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
