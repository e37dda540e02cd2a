// Busy scenes: deterministic, 1...people people whose apparent heights span 15–90 % of the frame, who enter
// and leave, hide each other and are hidden by props; and the visible fraction that says how much of each
// person the picture shows.
import Foundation
@testable import Synth
import XCTest

final class BusySceneTests: XCTestCase {
    let small = SynthOptions(width: 160, height: 128, fps: 10, seconds: 3, people: 6, busy: true)

    private func truths(_ options: SynthOptions, seed: UInt64 = 1, clips: Range<Int>) -> [GroundTruth] {
        clips.map { Synth.groundTruth(options: options, seed: seed, clip: $0) }
    }

    /// Box strictly inside the picture (touching no edge).
    private func inside(_ frame: PersonFrameTruth, width: Int, height: Int) -> Bool {
        let b = frame.box
        return b[0] > 0.5 && b[1] > 0.5 && b[0] + b[2] < Double(width) - 0.5 && b[1] + b[3] < Double(height) - 0.5
    }

    func testSameSeedGivesIdenticalClipsInAnyOrder() {
        var options = small
        options.switching = true
        let a = Synth.groundTruth(options: options, seed: 42, clip: 3).json()
        XCTAssertEqual(a, Synth.groundTruth(options: options, seed: 42, clip: 3).json())
        XCTAssertNotEqual(a, Synth.groundTruth(options: options, seed: 42, clip: 4).json())
        XCTAssertNotEqual(a, Synth.groundTruth(options: options, seed: 43, clip: 3).json())
        // Pixels too, whatever order the frames are drawn in and whichever scene object draws them.
        let first = ClipScene(options: options, seed: 42, clip: 3)
        let second = ClipScene(options: options, seed: 42, clip: 3)
        let frames = [first.frameCount - 1, 0, first.frameCount / 2]
        let forward = frames.map { first.renderFrame($0) }
        for (i, frame) in frames.enumerated().reversed() {
            let again = second.renderFrame(frame)
            XCTAssertEqual(again.pixels, forward[i].pixels, "frame \(frame)")
            XCTAssertEqual(again.people, forward[i].people, "frame \(frame)")
        }
    }

    func testPeopleCountIsUniformUpToTheLimit() {
        var seen = [Int: Int]()
        for clip in 0..<60 {
            let scene = ClipScene(options: small, seed: 2, clip: clip)
            seen[scene.personCount, default: 0] += 1
        }
        XCTAssertEqual(Set(seen.keys), Set(1...6), "\(seen)")
        XCTAssert(seen.values.allSatisfy { $0 >= 4 }, "\(seen)")
        var three = small
        three.people = 3
        for truth in truths(three, clips: 0..<12) {
            XCTAssert((1...3).contains(truth.people.count))
            XCTAssertEqual(truth.people.map(\.id), Array(0..<truth.people.count))
        }
    }

    /// Standing height in pixels (zoom included) over frame height: within 15–90 % always, and spread over the
    /// whole range across clips and widely within some clips.
    func testApparentHeightsSpanFifteenToNinetyPercent() {
        var lowest = 1.0, highest = 0.0, widestWithinClip = 1.0
        for clip in 0..<40 {
            let scene = ClipScene(options: small, seed: 3, clip: clip)
            var clipLow = 1.0, clipHigh = 0.0
            for person in scene.performers {
                for i in 0..<scene.frameCount {
                    let height = person.scale[i] * scene.zoom[i] / Double(small.height)
                    XCTAssert(height >= 0.15 - 1e-9 && height <= 0.9 + 1e-9, "clip \(clip): \(height)")
                    clipLow = min(clipLow, height)
                    clipHigh = max(clipHigh, height)
                }
            }
            lowest = min(lowest, clipLow)
            highest = max(highest, clipHigh)
            widestWithinClip = max(widestWithinClip, clipHigh / clipLow)
        }
        XCTAssertLessThan(lowest, 0.18)
        XCTAssertGreaterThan(highest, 0.8)
        XCTAssertGreaterThan(widestWithinClip, 3)
    }

    /// The ground truth keeps its documented meaning in busy scenes, and `visible` is a fraction.
    func testGroundTruthIsConsistent() {
        let vocabulary = Set(Action.allCases.map(\.rawValue))
        var labels = Set<String>()
        for truth in truths(small, seed: 4, clips: 0..<16) {
            let w = Double(truth.width), h = Double(truth.height), eps = 0.011
            XCTAssertEqual(truth.version, 2)
            for person in truth.people {
                XCTAssertEqual(person.segments.first?.start, 0)
                XCTAssertEqual(person.segments.last!.end, truth.seconds, accuracy: 1e-9)
                for (a, b) in zip(person.segments, person.segments.dropFirst()) {
                    XCTAssertEqual(a.end, b.start, accuracy: 1e-9)
                    XCTAssertNotEqual(a.label, b.label)
                }
                for s in person.segments {
                    XCTAssert(vocabulary.contains(s.label), s.label)
                    labels.insert(s.label)
                }
                XCTAssertEqual(person.frames.map(\.index), person.frames.map(\.index).sorted())
                for frame in person.frames {
                    let b = frame.box
                    XCTAssert(b[0] >= 0 && b[1] >= 0 && b[2] > 0 && b[3] > 0 && b[0] + b[2] <= w + eps
                                  && b[1] + b[3] <= h + eps, "box \(b)")
                    let visible = try! XCTUnwrap(frame.visible)
                    XCTAssert(visible >= 0 && visible <= 1, "\(visible)")
                    for kp in frame.keypoints {
                        let inPicture = kp.x >= 0 && kp.y >= 0 && kp.x < w && kp.y < h
                        XCTAssertEqual(inPicture, kp.visibility != .outside)
                        if inPicture {
                            XCTAssert(kp.x >= b[0] - eps && kp.x <= b[0] + b[2] + eps && kp.y >= b[1] - eps
                                          && kp.y <= b[1] + b[3] + eps, "keypoint \(kp) outside box \(b)")
                        }
                    }
                }
            }
        }
        // Gaits and actions done in place.
        XCTAssert(labels.isSuperset(of: ["walk", "run"]), "\(labels)")
        XCTAssertGreaterThan(labels.count, 8, "\(labels)")
    }

    /// Standing people act from --actions; only the walking in between is added.
    func testActionsOptionRestrictsWhatPeopleDo() {
        var options = small
        options.actions = [.wave, .clap]
        for truth in truths(options, seed: 5, clips: 0..<10) {
            for person in truth.people {
                XCTAssert(person.segments.allSatisfy { ["wave", "clap", "walk"].contains($0.label) },
                          "\(person.segments.map(\.label))")
            }
        }
    }

    func testPeopleEnterAndLeave() {
        var entering = 0, leaving = 0, throughout = 0
        for truth in truths(small, seed: 6, clips: 0..<20) {
            for person in truth.people {
                guard let first = person.frames.first?.index, let last = person.frames.last?.index else { continue }
                if first > 0 { entering += 1 }
                if last < truth.frames - 1 { leaving += 1 }
                if person.frames.count == truth.frames { throughout += 1 }
            }
        }
        XCTAssertGreaterThan(entering, 5)
        XCTAssertGreaterThan(leaving, 5)
        XCTAssertGreaterThan(throughout, 5)
    }

    /// People well inside the picture are often partly hidden (by each other or by props), and many keypoints
    /// are occluded; yet most person frames show most of the person.
    func testOcclusionsAreFrequent() {
        var insideFrames = 0, hidden = 0, fractions: [Double] = []
        for truth in truths(small, seed: 7, clips: 0..<20) {
            for person in truth.people {
                for frame in person.frames {
                    fractions.append(frame.visible!)
                    guard inside(frame, width: truth.width, height: truth.height) else { continue }
                    insideFrames += 1
                    if frame.visible! < 0.6 { hidden += 1 }
                }
            }
        }
        XCTAssertGreaterThan(insideFrames, 500)
        XCTAssertGreaterThan(Double(hidden) / Double(insideFrames), 0.05, "\(hidden) of \(insideFrames)")
        fractions.sort()
        XCTAssertGreaterThan(fractions[fractions.count / 2], 0.7)
    }

    /// Taking away what stands in front of a person raises their visible fraction: props in one case, other
    /// people in another; alone, the same person is fully visible.
    func testSomethingInFrontLowersTheVisibleFraction() {
        var byProp = false, byPerson = false
        search: for clip in 0..<40 {
            let scene = ClipScene(options: small, seed: 8, clip: clip)
            for i in stride(from: 0, to: scene.frameCount, by: 3) {
                let full = scene.renderFrame(i, composite: false).people
                for (slot, performer) in scene.performers.enumerated() {
                    guard let frame = full[performer.id], frame.visible! < 0.7,
                          inside(frame, width: small.width, height: small.height) else { continue }
                    var alone = scene
                    alone.performers = [scene.performers[slot]]
                    alone.props = []
                    XCTAssertEqual(alone.renderFrame(i, composite: false).people[performer.id]?.visible, 1)
                    var withoutProps = scene
                    withoutProps.props = []
                    var withoutPeople = scene
                    withoutPeople.performers = [scene.performers[slot]]
                    let noProps = withoutProps.renderFrame(i, composite: false).people[performer.id]!.visible!
                    let noPeople = withoutPeople.renderFrame(i, composite: false).people[performer.id]!.visible!
                    if noProps > frame.visible! + 0.2 { byProp = true }
                    if noPeople > frame.visible! + 0.2 { byPerson = true }
                    // Nothing taken away never lowers it.
                    XCTAssertGreaterThanOrEqual(noProps, frame.visible!)
                    XCTAssertGreaterThanOrEqual(noPeople, frame.visible!)
                    if byProp && byPerson { break search }
                }
            }
        }
        XCTAssert(byProp, "no person in 40 clips was hidden mostly by a prop")
        XCTAssert(byPerson, "no person in 40 clips was hidden mostly by another person")
    }

    /// Busy scenes keep everything else the world has: the seed's room, camera shake and zoom, light and noise.
    func testBusyScenesKeepTheRoomCameraAndLight() {
        let scene = ClipScene(options: small, seed: 9, clip: 0)
        var plain = small
        plain.busy = false
        let room = ClipScene(options: plain, seed: 9, clip: 0)
        XCTAssertEqual(scene.background.rgb, room.background.rgb)
        XCTAssertEqual(scene.cameraY, room.cameraY)
        XCTAssertEqual(scene.zoom, room.zoom)
        XCTAssertEqual(scene.gain, room.gain)
        XCTAssertEqual(scene.noiseSigma, room.noiseSigma)
        XCTAssertEqual(scene.quality, room.quality)
    }
}
