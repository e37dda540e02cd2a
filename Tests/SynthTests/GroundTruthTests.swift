// Ground truth: byte-identical for a seed, different across seeds, and self-consistent (boxes, keypoints,
// visibility, segments) over many random clips, including crowded ones with action changes.
import Foundation
@testable import Synth
import XCTest

final class GroundTruthTests: XCTestCase {
    let small = SynthOptions(width: 160, height: 120, fps: 10, seconds: 3)

    func testSameSeedGivesIdenticalBytesDifferentSeedsDiffer() {
        var options = small
        options.people = 3
        options.switching = true
        let a = Synth.groundTruth(options: options, seed: 42, clip: 3).json()
        let b = Synth.groundTruth(options: options, seed: 42, clip: 3).json()
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, Synth.groundTruth(options: options, seed: 43, clip: 3).json())
        XCTAssertNotEqual(a, Synth.groundTruth(options: options, seed: 42, clip: 4).json())
    }

    /// Adding people or fixing the CRF keeps the rest of the scene: the performer moves exactly as before
    /// (only visibility may change where someone walks in front).
    func testOptionsChangeOnlyWhatTheyAreAbout() {
        var one = small
        one.switching = true
        var crowd = one
        crowd.people = 3
        var fixedQuality = one
        fixedQuality.quality = 30
        let a = Synth.groundTruth(options: one, seed: 31, clip: 2)
        let b = Synth.groundTruth(options: crowd, seed: 31, clip: 2)
        XCTAssertEqual(a.json(), Synth.groundTruth(options: fixedQuality, seed: 31, clip: 2).json())
        XCTAssertEqual(a.people[0].segments, b.people[0].segments)
        XCTAssertEqual(a.people[0].frames.map(\.box), b.people[0].frames.map(\.box))
        XCTAssertEqual(a.people[0].frames.map { $0.keypoints.map(\.x) },
                       b.people[0].frames.map { $0.keypoints.map(\.x) })
        let scene1 = ClipScene(options: one, seed: 31, clip: 2), scene3 = ClipScene(options: crowd, seed: 31, clip: 2)
        XCTAssertEqual(scene1.renderFrame(0, drawPeople: false).pixels, scene3.renderFrame(0, drawPeople: false).pixels)
    }

    /// Frames are independent of drawing order (what lets clips and frames be rendered in any order).
    func testFramesDoNotDependOnRenderOrder() {
        var options = small
        options.people = 3
        let scene = ClipScene(options: options, seed: 11, clip: 0)
        let forward = (0..<scene.frameCount).map { scene.renderFrame($0) }
        var canvas = Canvas(width: options.width, height: options.height)  // reused, as in a clip loop
        for i in (0..<scene.frameCount).reversed() {
            let again = i % 2 == 0 ? scene.renderFrame(i) : scene.renderFrame(i, reusing: &canvas)
            XCTAssertEqual(again.pixels, forward[i].pixels, "frame \(i)")
            XCTAssertEqual(again.people, forward[i].people, "frame \(i)")
        }
    }

    /// The people-only path used for ground truth gives what the full render gives.
    func testTruthWithoutCompositingMatchesFullRender() {
        var options = small
        options.people = 2
        let scene = ClipScene(options: options, seed: 5, clip: 1)
        for i in stride(from: 0, to: scene.frameCount, by: 7) {
            XCTAssertEqual(scene.renderFrame(i, composite: false).people, scene.renderFrame(i).people)
        }
    }

    /// Pixel-exact check before encoding: visible keypoints lie on drawn pixels (the picture differs from the
    /// empty scene there) and every box edge touches the drawn body (boxes are tight).
    func testKeypointsAndBoxesMatchTheDrawing() {
        var visible = 0, onBody = 0, edges = 0, touching = 0
        for seed in 0..<6 {
            var options = small
            options.people = 1 + seed % 3
            let scene = ClipScene(options: options, seed: UInt64(seed), clip: 0)
            let w = options.width, h = options.height
            for i in stride(from: 0, to: scene.frameCount, by: 5) {
                let full = scene.renderFrame(i), empty = scene.renderFrame(i, drawPeople: false).pixels
                func differs(_ x: Int, _ y: Int) -> Bool {
                    guard x >= 0, y >= 0, x < w, y < h else { return false }
                    let j = (y * w + x) * 3
                    return full.pixels[j] != empty[j] || full.pixels[j + 1] != empty[j + 1]
                        || full.pixels[j + 2] != empty[j + 2]
                }
                for (_, frame) in full.people {
                    for kp in frame.keypoints where kp.visibility == .visible {
                        visible += 1
                        if differs(Int(kp.x), Int(kp.y)) { onBody += 1 }
                    }
                    guard full.people.count == 1 else { continue }  // others' bodies would touch edges too
                    let b = frame.box
                    let x0 = Int(b[0]), y0 = Int(b[1]), x1 = Int((b[0] + b[2]).rounded(.up)) - 1
                    let y1 = Int((b[1] + b[3]).rounded(.up)) - 1
                    let left = (y0...y1).contains { differs(x0, $0) }, right = (y0...y1).contains { differs(x1, $0) }
                    let top = (x0...x1).contains { differs($0, y0) }, bottom = (x0...x1).contains { differs($0, y1) }
                    edges += 4
                    touching += [left, right, top, bottom].filter { $0 }.count
                }
            }
        }
        XCTAssertGreaterThan(visible, 500)
        XCTAssertGreaterThan(Double(onBody) / Double(visible), 0.99, "\(onBody) of \(visible)")
        XCTAssertGreaterThan(edges, 40)
        XCTAssertGreaterThan(Double(touching) / Double(edges), 0.97, "\(touching) of \(edges) box edges touch the body")
    }

    func testJSONRoundTrips() throws {
        var options = small
        options.people = 2
        options.switching = true
        let truth = Synth.groundTruth(options: options, seed: 9, clip: 2)
        let decoded = try JSONDecoder().decode(GroundTruth.self, from: Data(truth.json().utf8))
        XCTAssertEqual(decoded, truth)
        XCTAssertEqual(decoded.json(), truth.json())
        XCTAssertEqual(decoded.people.count, 2)
        XCTAssertEqual(decoded.frames, 30)
        // Top-level keys, sorted, exactly as documented.
        let object = try JSONSerialization.jsonObject(with: Data(truth.json().utf8)) as! [String: Any]
        XCTAssertEqual(object.keys.sorted(), ["clip", "fps", "frames", "height", "people", "seconds", "seed",
                                              "version", "video", "width"])
    }

    /// Every person frame says how visible the person is; files written before that (version 1) still read.
    func testVisibleFractionAndVersionOneFiles() throws {
        let truth = Synth.groundTruth(options: small, seed: 9, clip: 2)
        XCTAssertEqual(truth.version, 2)
        XCTAssert(truth.people.allSatisfy { $0.frames.allSatisfy { $0.visible != nil } })
        let object = try JSONSerialization.jsonObject(with: Data(truth.json().utf8)) as! [String: Any]
        let people = object["people"] as! [[String: Any]], frame = (people[0]["frames"] as! [[String: Any]])[0]
        XCTAssertEqual(frame.keys.sorted(), ["box", "index", "keypoints", "t", "visible"])
        XCTAssertEqual(frame["visible"] as? Double, truth.people[0].frames[0].visible)
        let old = """
            {"clip":0,"fps":10,"frames":1,"height":120,"people":[
            {"frames":[
            {"box":[1.00,2.00,30.00,60.00],"index":0,"keypoints":[\(Array(repeating: "[5.00,6.00,2]", count: 17)
                .joined(separator: ","))],"t":0.0000}],"id":0,"segments":[{"end":0.1000,"label":"idle","start":0.0000,\
            "transition":0.0000}]}],"seconds":0.1000,"seed":1,"version":1,"video":"s1-c00000.mp4","width":160}
            """
        let decoded = try JSONDecoder().decode(GroundTruth.self, from: Data(old.utf8))
        XCTAssertEqual(decoded.version, 1)
        XCTAssertNil(decoded.people[0].frames[0].visible)
        XCTAssertEqual(decoded.people[0].frames[0].box, [1, 2, 30, 60])
    }

    /// Box strictly inside the picture (touching no edge).
    private func inside(_ frame: PersonFrameTruth, width: Int, height: Int) -> Bool {
        let b = frame.box
        return b[0] > 0.5 && b[1] > 0.5 && b[0] + b[2] < Double(width) - 0.5 && b[1] + b[3] < Double(height) - 0.5
    }

    /// Drawn alone and wholly inside the picture, a person is visible 1.00 (the silhouette and the picture count
    /// the same pixels); partly outside, less.
    func testLonePersonInsideThePictureIsFullyVisible() {
        var insideFrames = 0, leaving = 0
        for seed in 0..<12 {
            let options = SynthOptions(width: 160, height: 120, fps: 10, seconds: 3, actions: [.walk, .run, .wave],
                                       switching: seed % 2 == 0)
            let truth = Synth.groundTruth(options: options, seed: UInt64(seed), clip: 0)
            for frame in truth.people[0].frames where inside(frame, width: truth.width, height: truth.height) {
                insideFrames += 1
                XCTAssertEqual(frame.visible, 1, "seed \(seed) frame \(frame.index)")
            }
        }
        // People crossing leave the picture (being hidden as well can only lower the fraction further).
        for seed in 0..<6 {
            let options = SynthOptions(width: 160, height: 120, fps: 10, seconds: 3, people: 3)
            for person in Synth.groundTruth(options: options, seed: UInt64(seed), clip: 0).people {
                for frame in person.frames where frame.keypoints.filter({ $0.visibility == .outside }).count >= 6 {
                    leaving += 1
                    XCTAssertLessThan(frame.visible!, 0.95, "seed \(seed) person \(person.id) frame \(frame.index)")
                }
            }
        }
        XCTAssertGreaterThan(insideFrames, 100)
        XCTAssertGreaterThan(leaving, 5)
    }

    func testConsistencyOverManyClips() {
        let vocabulary = Set(Action.allCases.map(\.rawValue))
        var counts = [0, 0, 0]  // keypoint visibility 0, 1, 2 over everything
        var labels = Set<String>()
        for seed in 0..<24 {
            var options = small
            options.people = 1 + seed % 4
            options.switching = seed % 2 == 0
            options.seconds = seed % 3 == 0 ? 5 : 3
            options.segmentSeconds = 1...2
            if seed % 5 == 0 { options.width = 96; options.height = 160 }
            let truth = Synth.groundTruth(options: options, seed: UInt64(seed), clip: seed)
            XCTAssertEqual(truth.people.count, options.people)
            XCTAssertEqual(truth.frames, options.frameCount)
            let w = Double(truth.width), h = Double(truth.height), eps = 0.011
            for person in truth.people {
                // Segments cover [0, seconds] with no gaps or overlaps, labels from the vocabulary.
                XCTAssertEqual(person.segments.first?.start, 0)
                XCTAssertEqual(person.segments.last!.end, truth.seconds, accuracy: 1e-9)
                for (a, b) in zip(person.segments, person.segments.dropFirst()) {
                    XCTAssertEqual(a.end, b.start, accuracy: 1e-9)
                    XCTAssertNotEqual(a.label, b.label)
                    XCTAssertGreaterThan(b.transition, 0)
                    XCTAssertLessThan(b.transition, min(a.end - a.start, b.end - b.start))
                }
                for s in person.segments {
                    XCTAssert(vocabulary.contains(s.label), s.label)
                    XCTAssertGreaterThan(s.end, s.start)
                    labels.insert(s.label)
                }
                if person.id == 0 { XCTAssertGreaterThan(person.frames.count, truth.frames / 2) }
                var lastIndex = -1
                for frame in person.frames {
                    XCTAssertGreaterThan(frame.index, lastIndex)
                    lastIndex = frame.index
                    XCTAssertEqual(frame.t, Double(frame.index) / Double(truth.fps), accuracy: 5e-5)
                    let b = frame.box
                    XCTAssertEqual(b.count, 4)
                    XCTAssert(b[0] >= 0 && b[1] >= 0 && b[2] > 0 && b[3] > 0, "\(b)")
                    XCTAssert(b[0] + b[2] <= w + eps && b[1] + b[3] <= h + eps, "box \(b) outside \(w)x\(h)")
                    XCTAssertEqual(frame.keypoints.count, 17)
                    for kp in frame.keypoints {
                        counts[kp.visibility.rawValue] += 1
                        let inside = kp.x >= 0 && kp.y >= 0 && kp.x < w && kp.y < h
                        XCTAssertEqual(inside, kp.visibility != .outside, "seed \(seed) person \(person.id)")
                        if kp.visibility != .outside {
                            XCTAssert(kp.x >= b[0] - eps && kp.x <= b[0] + b[2] + eps
                                          && kp.y >= b[1] - eps && kp.y <= b[1] + b[3] + eps,
                                      "keypoint \(kp) outside box \(b), seed \(seed)")
                        }
                    }
                }
            }
        }
        // Crowds occlude and leave the picture; most keypoints are still plainly visible.
        XCTAssertGreaterThan(counts[0], 0)
        XCTAssertGreaterThan(counts[1], 0)
        XCTAssertGreaterThan(Double(counts[2]) / Double(counts.reduce(0, +)), 0.6)
        XCTAssertGreaterThan(labels.count, 6)
    }

    /// A person walking behind the performer is marked occluded where the performer covers them.
    func testCrossingPeopleOccludeEachOther() {
        var found = false
        for seed in 0..<40 where !found {
            var options = small
            options.people = 4
            let truth = Synth.groundTruth(options: options, seed: UInt64(seed), clip: 0)
            for person in truth.people where person.id != 0 {
                for frame in person.frames where frame.keypoints.filter({ $0.visibility == .occluded }).count >= 6 {
                    found = true
                }
            }
        }
        XCTAssert(found, "no clip in 40 had a crossing person with six or more occluded keypoints")
    }

    func testBalancedCyclesThroughTheActions() {
        var options = small
        options.balanced = true
        options.actions = [.walk, .run, .sitDown]
        let labels = (0..<6).map { Synth.groundTruth(options: options, seed: 3, clip: $0).people[0].segments[0].label }
        XCTAssertEqual(labels, ["walk", "run", "sit_down", "walk", "run", "sit_down"])
        options.actions = Action.allCases
        let all = Set((0..<12).map {
            Synth.groundTruth(options: options, seed: 4, clip: $0).people[0].segments[0].label
        })
        XCTAssertEqual(all.count, 12)
    }

    func testActionsOptionRestrictsLabels() {
        var options = small
        options.actions = [.clap, .kick]
        options.switching = true
        options.seconds = 8
        for seed in 0..<6 {
            for s in Synth.groundTruth(options: options, seed: UInt64(seed), clip: 0).people[0].segments {
                XCTAssert(["clap", "kick"].contains(s.label))
            }
        }
    }

    /// After sit_down only stand_up makes sense: the sequencer keeps postures consistent.
    func testSwitchingKeepsPosturesConsistent() {
        var options = small
        options.switching = true
        options.seconds = 20
        options.segmentSeconds = 1...2
        for seed in 0..<10 {
            let segments = ClipScene(options: options, seed: UInt64(seed), clip: 0).performers[0].timeline.segments
            for (a, b) in zip(segments, segments.dropFirst()) {
                XCTAssertEqual(a.action == .sitDown, b.action == .standUp, "\(a.action) then \(b.action)")
            }
        }
    }
}
