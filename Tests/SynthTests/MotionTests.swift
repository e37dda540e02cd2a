// The temporal pairs differ the way the vocabulary claims: stand_up is sit_down backwards (hips fall in one
// and rise in the other), run is the walk gait faster; and every action actually moves the body.
import Foundation
@testable import Synth
import TestSupport
import XCTest

final class MotionTests: XCTestCase {
    let options = SynthOptions(width: 160, height: 120, fps: 10, seconds: 4)

    private func hipY(_ frame: PersonFrameTruth) -> Double {
        (frame.keypoints[Keypoint.leftHip.rawValue].y + frame.keypoints[Keypoint.rightHip.rawValue].y) / 2
    }

    func testHipsFallInSitDownAndRiseInStandUp() {
        for (action, sign) in [(Action.sitDown, 1.0), (.standUp, -1.0)] {
            var o = options
            o.actions = [action]
            for seed in 0..<8 {
                let frames = Synth.groundTruth(options: o, seed: UInt64(seed), clip: 0).people[0].frames
                XCTAssertEqual(frames.count, o.frameCount)
                let height = frames.map { $0.box[3] }.max()!
                let drop = hipY(frames.last!) - hipY(frames.first!)  // image y grows downwards
                XCTAssertGreaterThan(sign * drop, 0.12 * height, "\(action) seed \(seed): hip moved \(drop) px")
            }
        }
    }

    /// Same random draws → stand_up's pose at t is sit_down's at duration − t (exact time reversal).
    func testStandUpIsSitDownReversed() {
        let shape = { () -> BodyShape in var rng = SplitMix64(seed: 1); return BodyShape.sample(&rng) }()
        for seed in 0..<5 {
            var r1 = SplitMix64(seed: UInt64(seed)), r2 = r1
            let duration = 4.0
            let down = sampleMotion(.sitDown, duration: duration, rng: &r1)
            let up = sampleMotion(.standUp, duration: duration, rng: &r2)
            for step in 0...40 {
                let t = duration * Double(step) / 40
                let a = Kinematics.pose(down.pose(at: t), shape: shape).keypoints
                let b = Kinematics.pose(up.pose(at: duration - t), shape: shape).keypoints
                for (p, q) in zip(a, b) {
                    XCTAssertLessThan(((p - q) * (p - q)).sum().squareRoot(), 1e-9, "seed \(seed) t \(t)")
                }
            }
            // …and the motion is not trivially constant.
            let start = Kinematics.pose(down.pose(at: 0), shape: shape)
            let end = Kinematics.pose(down.pose(at: 4), shape: shape)
            XCTAssertGreaterThan(start.pelvis.y - end.pelvis.y, 0.15)
        }
    }

    /// Ankle speed relative to the hips, in leg lengths per second: running is much faster than walking.
    func testAnklesMoveFasterInRunThanWalk() {
        func ankleSpeed(_ action: Action, seed: Int) -> Double {
            var o = options
            o.actions = [action]
            let frames = Synth.groundTruth(options: o, seed: UInt64(seed), clip: 0).people[0].frames
            var travelled = 0.0, leg = 0.0
            for (a, b) in zip(frames, frames.dropFirst()) where b.index == a.index + 1 {
                for (hip, knee, ankle) in [(11, 13, 15), (12, 14, 16)] {
                    let ra = SIMD2(a.keypoints[ankle].x - a.keypoints[hip].x, a.keypoints[ankle].y - a.keypoints[hip].y)
                    let rb = SIMD2(b.keypoints[ankle].x - b.keypoints[hip].x, b.keypoints[ankle].y - b.keypoints[hip].y)
                    travelled += ((rb - ra) * (rb - ra)).sum().squareRoot()
                    let k = b.keypoints
                    leg += hypot(k[hip].x - k[knee].x, k[hip].y - k[knee].y)
                        + hypot(k[knee].x - k[ankle].x, k[knee].y - k[ankle].y)
                }
            }
            let pairs = Double(frames.count - 1) * 2
            return travelled / pairs * Double(o.fps) / (leg / pairs)
        }
        let walk = (0..<10).map { ankleSpeed(.walk, seed: $0) }
        let run = (0..<10).map { ankleSpeed(.run, seed: $0 + 100) }
        let meanWalk = walk.reduce(0, +) / 10, meanRun = run.reduce(0, +) / 10
        XCTAssertGreaterThan(meanRun, 1.6 * meanWalk, "walk \(walk), run \(run)")
        XCTAssertGreaterThan(walk.min()!, 0.3, "walking legs barely move: \(walk)")
    }

    /// Walking and running move the person through the world; running covers more ground.
    func testGaitSpeedFollowsStrideAndCadence() {
        var walk = [Double](), run = [Double]()
        for seed in 0..<20 {
            var rng = SplitMix64(seed: UInt64(seed))
            walk.append(sampleMotion(.walk, duration: 4, rng: &rng).speed(at: 0))
            run.append(sampleMotion(.run, duration: 4, rng: &rng).speed(at: 0))
        }
        XCTAssertGreaterThan(run.min()!, walk.max()!)
        // Human-like: stride × cadence gives 0.46–0.93 body heights per second walking, 1.27–2.39 running.
        XCTAssert(walk.allSatisfy { (0.45...0.95).contains($0) }, "\(walk)")
        XCTAssert(run.allSatisfy { (1.25...2.4).contains($0) }, "\(run)")
    }

    /// Every action other than idle moves the limbs clearly more than idle does.
    func testEveryActionMoves() {
        var rng = SplitMix64(seed: 3)
        let shape = BodyShape.sample(&rng)
        func motionAmount(_ action: Action) -> Double {
            var r = SplitMix64(seed: 77)
            let m = sampleMotion(action, duration: 4, rng: &r)
            var total = 0.0
            var previous = Kinematics.pose(m.pose(at: 0), shape: shape).keypoints
            for step in 1...80 {
                let now = Kinematics.pose(m.pose(at: 4 * Double(step) / 80), shape: shape).keypoints
                for (p, q) in zip(now, previous) { total += ((p - q) * (p - q)).sum().squareRoot() }
                previous = now
            }
            return total
        }
        let idle = motionAmount(.idle)
        for action in Action.allCases where action != .idle {
            XCTAssertGreaterThan(motionAmount(action), 3 * idle, "\(action)")
        }
    }

    func testVocabulary() {
        XCTAssertGreaterThanOrEqual(Action.allCases.count, 11)
        XCTAssert(Action.allCases.contains(.idle))
        for action in Action.allCases {
            XCTAssertEqual(Action(rawValue: action.rawValue), action)
            XCTAssertFalse(action.summary.isEmpty)
            XCTAssert(action.rawValue.allSatisfy { $0.isLowercase || $0 == "_" }, action.rawValue)
        }
        XCTAssertEqual(Keypoint.allCases.map(\.name).prefix(3), ["nose", "left_eye", "right_eye"])
        XCTAssertEqual(Keypoint.rightAnkle.rawValue, 16)
    }
}
