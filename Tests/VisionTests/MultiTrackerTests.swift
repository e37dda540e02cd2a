// Track lifecycle on scripted detections (boxes only): confirmation, a miss, an occlusion, a crossing, leaving
// and re-entering, low-score boxes, removal, determinism; and the box Kalman filter on constant motion.
import Vision
import Vocabulary
import XCTest

final class MultiTrackerTests: XCTestCase {
    /// A person at frame `t` moving from (x0, y0) at (vx, vy) pixels per frame, 40×100.
    private func person(_ t: Int, x0: Double, y0: Double = 50, vx: Double, vy: Double = 0, score: Float = 0.9)
        -> Detection
    {
        Detection(box: PixelRect(x: x0 + vx * Double(t), y: y0 + vy * Double(t), width: 40, height: 100), score: score,
                  classIndex: 0)
    }

    private func run(_ frames: [[Detection]], settings: TrackerSettings = TrackerSettings(),
                     frame: PixelRect? = PixelRect(x: 0, y: 0, width: 640, height: 480)) throws -> [[TrackedPerson]] {
        var tracker = MultiTracker(settings: settings)
        return try frames.map { try tracker.step($0, frame: frame) }
    }

    private func confirmed(_ reports: [TrackedPerson]) -> [TrackedPerson] { reports.filter { $0.phase == .confirmed } }

    func testKalmanFollowsConstantMotion() {
        var kalman = BoxKalman(PixelRect(x: 0, y: 0, width: 40, height: 100))
        for t in 1...15 {
            kalman.predict()
            kalman.update(PixelRect(x: 3 * Double(t), y: -1 * Double(t), width: 40, height: 100))
        }
        kalman.predict()
        XCTAssertEqual(kalman.box.x, 48, accuracy: 0.5)
        XCTAssertEqual(kalman.box.y, -16, accuracy: 0.5)
        XCTAssertEqual(kalman.velocity.x, 3, accuracy: 0.1)
        XCTAssertEqual(kalman.box.width, 40, accuracy: 0.5)
        // A weak measurement moves the state less than a sure one.
        var sure = kalman, weak = kalman
        let moved = PixelRect(x: kalman.box.x + 20, y: kalman.box.y, width: 40, height: 100)
        sure.update(moved)
        weak.update(moved, confidence: 0.2)
        XCTAssertGreaterThan(sure.box.x, weak.box.x + 2)
    }

    func testTracksAreConfirmedAfterConfirmFramesAndFalseStartsNeverShow() throws {
        var frames: [[Detection]] = (0..<6).map { [person($0, x0: 100, vx: 2)] }
        frames[1].append(Detection(box: PixelRect(x: 400, y: 300, width: 30, height: 60), score: 0.95, classIndex: 0))
        var three = TrackerSettings()
        three.confirm = 3
        let out = try run(frames, settings: three)
        XCTAssertTrue(out[0].isEmpty && out[1].isEmpty, "not yet confirmed: \(out[0]) \(out[1])")
        XCTAssertEqual(out[2].map(\.id), [1])
        XCTAssertEqual(out[2][0].evidence, .detection)
        XCTAssertEqual(out[2][0].detection, 0)
        XCTAssertEqual(out[5].map(\.id), [1], "the one-frame box never became a track")
        var immediate = TrackerSettings()
        immediate.confirm = 1
        XCTAssertEqual(try run(frames, settings: immediate)[0].map(\.id), [1])
    }

    func testAMissedPersonIsLostThenRefoundWithTheSameID() throws {
        var frames: [[Detection]] = (0..<30).map { [person($0, x0: 100, vx: 3), person($0, x0: 400, vx: -1)] }
        for t in 10..<18 { frames[t].removeFirst() }  // person 1 hidden for 8 frames
        let out = try run(frames)
        XCTAssertEqual(confirmed(out[9]).map(\.id), [1, 2])
        for t in 10..<18 {
            XCTAssertEqual(out[t].first { $0.id == 1 }?.phase, .lost, "frame \(t)")
            XCTAssertEqual(out[t].first { $0.id == 1 }?.evidence, .prediction)
        }
        XCTAssertEqual(confirmed(out[18]).map(\.id), [1, 2], "re-found with its id")
        XCTAssertEqual(confirmed(out[29]).map(\.id), [1, 2])
        // The prediction carried the box along while it was hidden.
        let predicted = out[17].first { $0.id == 1 }!.box
        XCTAssertEqual(predicted.x, person(17, x0: 100, vx: 3).box.x, accuracy: 4)
    }

    func testTwoPeopleCrossingKeepTheirIDs() throws {
        // Left to right and right to left on slightly different rows, crossing around frame 25.
        let frames: [[Detection]] = (0..<50).map { t in
            [person(t, x0: 100, y0: 60, vx: 6), person(t, x0: 400, y0: 70, vx: -6)]
        }
        let out = try run(frames)
        for t in [10, 24, 25, 26, 40, 49] {
            let c = confirmed(out[t])
            XCTAssertEqual(c.map(\.id), [1, 2], "frame \(t)")
            XCTAssertEqual(c.first { $0.id == 1 }?.detection, 0, "frame \(t): id 1 stays the one moving right")
        }
    }

    func testLowScoreBoxesExtendTracksButNeverStartThem() throws {
        var frames: [[Detection]] = (0..<12).map { [person($0, x0: 100, vx: 2)] }
        for t in 6..<12 { frames[t] = [person(t, x0: 100, vx: 2, score: 0.3)] }  // occluded: weak boxes
        for t in 0..<12 { frames[t].append(person(t, x0: 300, vx: 0, score: 0.3)) }  // never strong
        let out = try run(frames)
        for t in 6..<12 { XCTAssertEqual(confirmed(out[t]).map(\.id), [1], "frame \(t)") }
        XCTAssertEqual(out[11].count, 1)
    }

    func testALongLossRemovesTheTrackOnceAndAReturnGetsANewID() throws {
        var settings = TrackerSettings()
        settings.maxLost = 5
        var frames: [[Detection]] = (0..<6).map { [person($0, x0: 100, vx: 0)] }
        frames += Array(repeating: [], count: 8)
        frames += (0..<4).map { [person($0, x0: 100, vx: 0)] }
        let out = try run(frames, settings: settings)
        let phases = (6..<14).map { t in out[t].first { $0.id == 1 }?.phase }
        XCTAssertEqual(phases, [.lost, .lost, .lost, .lost, .lost, .removed, nil, nil])
        XCTAssertEqual(confirmed(out[16]).map(\.id), [2])
    }

    func testATrackWhosePredictionLeavesTheFrameIsRemoved() throws {
        // Walks out at the right edge at 20 px/frame; its predicted box leaves the 640-wide frame.
        var frames: [[Detection]] = (0..<29).map { [person($0, x0: 40, vx: 20)] }
        frames += Array(repeating: [], count: 10)
        let out = try run(frames)
        let removedAt = out.firstIndex { $0.contains { $0.id == 1 && $0.phase == .removed } }
        XCTAssertNotNil(removedAt)
        XCTAssertLessThan(removedAt!, 29 + 5, "removed as soon as its box is outside, not after max_lost")
    }

    func testTheSameDetectionsGiveTheSameTracks() throws {
        var frames: [[Detection]] = []
        for t in 0..<40 {
            var people: [Detection] = []
            for k in 0..<4 where t % 7 != 3 || k == 0 {
                let x0 = 50 + 120 * Double(k), y0 = 40 + 30 * Double(k)
                people.append(person(t, x0: x0, y0: y0, vx: k % 2 == 0 ? 3 : -3))
            }
            frames.append(people)
        }
        XCTAssertEqual(try run(frames), try run(frames))
    }
}
