// Clips rendered with a given seed and options never change: trained models and other tests were made from
// them. Hashes of a few frames' pixels (before encoding) and of the boxes, keypoints and segments are stored
// here; a change to the renderer that moves them breaks existing data sets.
import Foundation
@testable import Synth
import XCTest

final class StabilityTests: XCTestCase {
    /// FNV-1a, 64 bits.
    private struct Hash {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        mutating func add<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
            for b in bytes {
                value ^= UInt64(b)
                value = value &* 0x0000_0100_0000_01b3
            }
        }
        mutating func add(_ text: String) { add(text.utf8) }
    }

    private struct Case {
        var options: SynthOptions
        var seed: UInt64
        var clips: [Int]
    }

    private let cases: [Case] = [
        Case(options: SynthOptions(width: 160, height: 120, fps: 10, seconds: 3, people: 3, switching: true,
                                   segmentSeconds: 1...2),
             seed: 42, clips: [3]),
        Case(options: SynthOptions(), seed: 7, clips: [0]),
        // Seats, several people, a tall frame and, among these clips, zooming cameras.
        Case(options: SynthOptions(width: 96, height: 160, fps: 8, seconds: 2, people: 2,
                                   actions: [.sitDown, .standUp, .walk]),
             seed: 3, clips: [0, 1, 2, 3, 4, 5]),
    ]

    /// Pixels of the first, middle and last frame of every case's clips.
    private func pixelHash() -> UInt64 {
        var hash = Hash()
        for c in cases {
            for clip in c.clips {
                let scene = ClipScene(options: c.options, seed: c.seed, clip: clip)
                let n = scene.frameCount
                for i in [0, n / 2, n - 1] { hash.add(scene.renderFrame(i).pixels) }
            }
        }
        return hash.value
    }

    /// Boxes, keypoints and segments of every frame of every case's clips, as the JSON writes them.
    private func truthHash() -> UInt64 {
        var hash = Hash()
        for c in cases {
            for clip in c.clips {
                let truth = Synth.groundTruth(options: c.options, seed: c.seed, clip: clip)
                for person in truth.people {
                    hash.add("\(person.id) \(person.segments)")
                    for frame in person.frames {
                        hash.add("\(frame.index) \(frame.box) ")
                        for kp in frame.keypoints { hash.add("\(kp.x),\(kp.y),\(kp.visibility.rawValue) ") }
                    }
                }
            }
        }
        return hash.value
    }

    func testRenderedPixelsAreUnchanged() {
        let scenes = cases.flatMap { c in c.clips.map { ClipScene(options: c.options, seed: c.seed, clip: $0) } }
        XCTAssert(scenes.contains { !$0.seats.isEmpty } && scenes.contains { $0.zoom.contains { $0 != 1 } },
                  "the cases should include a seat and a zooming camera")
        let hash = pixelHash()
        XCTAssertEqual(hash, 0x3d48_7dbd_bb94_b0, "pixels changed: hash 0x\(String(hash, radix: 16))")
    }

    func testGroundTruthIsUnchanged() {
        let hash = truthHash()
        XCTAssertEqual(hash, 0xcd24_ad2e_7ab9_26dd,
                       "boxes, keypoints or segments changed: hash 0x\(String(hash, radix: 16))")
    }
}
