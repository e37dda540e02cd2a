// The renderer's random numbers: a piece byte-stable ground truth rests on (its number format is
// TextFormat's, tested in TextFormatTests).
import Foundation
@testable import Synth
import TestSupport
import XCTest

final class RandomAndFormatTests: XCTestCase {
    /// First outputs of Vigna's reference splitmix64.c for seed 1234567 (the values its authors publish).
    func testSplitMix64MatchesTheReferenceSequence() {
        var rng = SplitMix64(seed: 1_234_567)
        let expected: [UInt64] = [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
                                  4_593_380_528_125_082_431, 16_408_922_859_458_223_821]
        XCTAssertEqual((0..<5).map { _ in rng.next() }, expected)
    }

    func testHelpersStayInRangeAndLookUniform() {
        var rng = SplitMix64(seed: 99)
        var sum = 0.0, counts = [Int](repeating: 0, count: 5), normals = [Double]()
        for _ in 0..<20_000 {
            let u = rng.uniform(2, 3)
            XCTAssert(u >= 2 && u < 3)
            sum += u
            counts[rng.int(0...4)] += 1
            normals.append(rng.normal())
        }
        XCTAssertEqual(sum / 20_000, 2.5, accuracy: 0.01)
        for c in counts { XCTAssertEqual(Double(c) / 20_000, 0.2, accuracy: 0.015) }
        let mean = normals.reduce(0, +) / Double(normals.count)
        let variance = normals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(normals.count)
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(variance, 1, accuracy: 0.05)
    }

    func testDerivedSeedsDifferPerIndexAndSeed() {
        let seeds = Set((0..<1000).map { SplitMix64.derive(7, UInt64($0)) }
                        + (0..<1000).map { SplitMix64.derive(8, UInt64($0)) })
        XCTAssertEqual(seeds.count, 2000)
    }
}

final class NoiseTests: XCTestCase {
    /// The row-at-a-time background noise against the per-point definition, including the wrap-around column.
    func testNoiseRowsMatchPointValues() {
        var rng = SplitMix64(seed: 4)
        for (width, height, cell, octaves) in [(200, 60, 17.3, 4), (64, 40, 3.0, 1), (320, 90, 70.0, 4)] {
            let noise = FractalNoise(width: width, height: height, cell: cell, octaves: octaves, rng: &rng)
            var row = [Float](repeating: 0, count: width)
            for y in [0, 1, height / 2, height - 1] {
                noise.row(y, into: &row)
                for x in 0..<width {
                    let reference = noise.value(Double(x), Double(y))
                    XCTAssertEqual(Double(row[x]), reference, accuracy: 1e-5, "x \(x) y \(y)")
                    XCTAssert((0...1).contains(reference))
                }
            }
            // Seamless wrap: column width continues column 0.
            XCTAssertEqual(noise.value(Double(width), 7), noise.value(0, 7), accuracy: 1e-6)
        }
    }
}

final class BackgroundTests: XCTestCase {
    /// The vectorised background copy against the per-pixel bilinear reference, over pans and shakes that
    /// cross the wrap-around seam.
    func testFastBackgroundCopyMatchesPerPixelReference() {
        for seed in 0..<12 {
            var options = SynthOptions(width: 96, height: 64, fps: 10, seconds: 6, actions: [.run])
            options.width = seed % 2 == 0 ? 96 : 70
            let scene = ClipScene(options: options, seed: UInt64(seed), clip: 0)
            var fast = Canvas(width: options.width, height: options.height), slow = fast
            for frame in stride(from: 0, to: scene.frameCount, by: 3) where scene.zoom[frame] == 1 {
                scene.drawBackground(into: &fast, frame: frame)
                scene.drawBackgroundPerPixel(into: &slow, frame: frame)
                let worst = zip(fast.rgb, slow.rgb).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(worst, 1e-4, "seed \(seed) frame \(frame)")
            }
        }
    }

    func testSomeClipsZoomAndZoomedFramesStayConsistent() {
        var zoomed = 0
        for seed in 0..<20 {
            let options = SynthOptions(width: 96, height: 64, fps: 10, seconds: 2, people: 2)
            let scene = ClipScene(options: options, seed: UInt64(seed), clip: 0)
            XCTAssert(scene.zoom.allSatisfy { (1...1.15).contains($0) })
            if scene.zoom.contains(where: { $0 != 1 }) { zoomed += 1 }
        }
        XCTAssert((2...14).contains(zoomed), "\(zoomed) of 20 clips zoom")
    }
}
