// Frame counts, timestamps and pixel content of real encoded files, per container/codec, checked against the
// frames we wrote and against ffprobe.
import Foundation
@testable import Media
import XCTest

final class DecoderTests: XCTestCase {
    /// CFR files of every supported codec/container: every frame comes back once, in order, at i/fps exactly.
    func testCFRCountsAndTimestampsPerCodec() throws {
        let dir = try TestMedia.directory()
        let cases: [(String, VideoCodec)] = [("h264.mp4", .h264), ("mpeg4.avi", .mpeg4), ("mjpeg.avi", .mjpeg),
                                             ("vp9.mkv", .vp9), ("h264.mkv", .h264)]
        for (name, codec) in cases {
            let path = dir.appendingPathComponent(name)
            try TestMedia.clip(path, frames: 40, codec: codec)
            let (frames, stats) = try TestMedia.decodeAll(path.path)
            XCTAssertEqual(frames.count, 40, name)
            XCTAssertTrue(stats.isClean, "\(name): \(stats)")
            for (i, frame) in frames.enumerated() {
                XCTAssertEqual(frame.time, Double(i) / 25, accuracy: 1e-6, "\(name) frame \(i) time")
                XCTAssertEqual(frame.index, i, "\(name): frame \(i) shows pattern \(String(describing: frame.index))")
            }
            if let reference = TestMedia.ffprobeFrameCount(path.path) {
                XCTAssertEqual(frames.count, reference, "\(name): ffprobe -count_frames disagrees")
            }
            let info = try VideoDecoder(path.path).info
            XCTAssertEqual(info.width, 320)
            XCTAssertEqual(info.height, 240)
            XCTAssertEqual(info.fps ?? 0, 25, accuracy: 1e-3, name)
            XCTAssertEqual(info.duration ?? 0, 1.6, accuracy: 0.05, name)
        }
    }

    /// H.264 with B-frames: decode order differs from display order, presentation times must not.
    func testBFramesComeOutInPresentationOrder() throws {
        let path = try TestMedia.directory().appendingPathComponent("bframes.mp4")
        let encoder = try VideoEncoder(path: path.path, settings: EncoderSettings(width: 320, height: 240,
                                                                                  gopSize: 12, bFrames: 3))
        for i in 0..<60 { try encoder.append(TestPattern.frame(i, width: 320, height: 240)) }
        try encoder.finish()
        let (frames, _) = try TestMedia.decodeAll(path.path)
        XCTAssertEqual(frames.map { $0.index }, (0..<60).map { $0 })
        XCTAssertEqual(zip(frames, frames.dropFirst()).filter { $0.time >= $1.time }.count, 0, "times not increasing")
    }

    func testVariableFrameRateTimes() throws {
        let dir = try TestMedia.directory()
        // Intervals alternate 40 ms / 80 ms, with one 500 ms gap.
        var times: [Double] = [], t = 0.0
        for i in 0..<30 {
            times.append(t)
            t += i == 15 ? 0.5 : (i % 2 == 0 ? 0.04 : 0.08)
        }
        for name in ["vfr.mp4", "vfr.mkv"] {
            let path = dir.appendingPathComponent(name)
            try TestMedia.clip(path, frames: 30, times: times)
            let (frames, _) = try TestMedia.decodeAll(path.path)
            XCTAssertEqual(frames.count, 30, name)
            for (i, frame) in frames.enumerated() {
                XCTAssertEqual(frame.time, times[i], accuracy: 1e-6, "\(name) frame \(i)")
                XCTAssertEqual(frame.index, i)
            }
            if let reference = TestMedia.ffprobeFrameCount(path.path) { XCTAssertEqual(reference, 30) }
        }
    }

    /// A file with a 90° display matrix is reported as such and comes out upright: the displayed image is the
    /// stored one turned clockwise, pixel for pixel.
    func testRotationMetadata() throws {
        let dir = try TestMedia.directory()
        for rotation in [90, 180, 270] {
            let path = dir.appendingPathComponent("rot\(rotation).mp4")
            try TestMedia.clip(path, frames: 5, rotation: rotation)
            let decoder = try VideoDecoder(path.path)
            XCTAssertEqual(decoder.info.rotation, rotation)
            let frame = try XCTUnwrap(try decoder.nextFrame())
            let stored = try Scaler(width: 320, height: 240, autorotate: false).convert(frame)
            let (dw, dh) = rotation == 180 ? (320, 240) : (240, 320)
            XCTAssertEqual(decoder.info.displayWidth, dw)
            let shown = try Scaler(width: dw, height: dh).convert(frame)
            var mismatches = 0
            for y in 0..<dh {
                for x in 0..<dw {
                    let (sx, sy): (Int, Int)
                    switch rotation {
                    case 90: (sx, sy) = (y, 239 - x)
                    case 180: (sx, sy) = (319 - x, 239 - y)
                    default: (sx, sy) = (319 - y, x)
                    }
                    if shown.pixels[(y * dw + x) * 3] != stored.pixels[(sy * 320 + sx) * 3] { mismatches += 1 }
                }
            }
            XCTAssertEqual(mismatches, 0, "rotation \(rotation)")
            if let reference = TestMedia.ffprobeFrameCount(path.path) { XCTAssertEqual(reference, 5) }
        }
    }

    /// Odd frame sizes (VP9 and MJPEG allow them) decode at their true size and scale anywhere.
    func testOddSizes() throws {
        let dir = try TestMedia.directory()
        for (name, codec) in [("odd.mkv", VideoCodec.vp9), ("odd.avi", .mjpeg)] {
            let path = dir.appendingPathComponent(name)
            try TestMedia.clip(path, frames: 6, width: 97, height: 67, codec: codec)
            let decoder = try VideoDecoder(path.path)
            XCTAssertEqual(decoder.info.width, 97, name)
            XCTAssertEqual(decoder.info.height, 67, name)
            var count = 0
            let scaler = try Scaler(width: 33, height: 17, mode: .letterbox)
            while let frame = try decoder.nextFrame() {
                XCTAssertEqual(frame.width, 97)
                XCTAssertEqual(try scaler.convert(frame).pixels.count, 33 * 17 * 3)
                count += 1
            }
            XCTAssertEqual(count, 6, name)
        }
    }

    /// An MPEG-TS stream whose resolution changes mid-way (two segments concatenated, as a camera that
    /// switches profile would send): every frame decodes, the change is counted, the scaler follows.
    func testMidStreamResolutionChange() throws {
        let dir = try TestMedia.directory()
        let first = dir.appendingPathComponent("a.ts"), second = dir.appendingPathComponent("b.ts")
        try TestMedia.clip(first, frames: 20, width: 320, height: 240)
        try TestMedia.clip(second, frames: 20, width: 192, height: 128, firstIndex: 20)
        let joined = dir.appendingPathComponent("joined.ts")
        try (Data(contentsOf: first) + Data(contentsOf: second)).write(to: joined)
        let decoder = try VideoDecoder(joined.path)
        let scaler = try Scaler(width: 160, height: 120)
        var sizes: [Int] = [], indices: [Int?] = []
        while let frame = try decoder.nextFrame() {
            sizes.append(frame.width)
            indices.append(TestPattern.index(in: try scaler.convert(frame)))
        }
        XCTAssertEqual(sizes.count, 40)
        XCTAssertEqual(Set(sizes), [320, 192])
        XCTAssertEqual(decoder.stats.resolutionChanges, 1)
        XCTAssertEqual(indices.compactMap { $0 }, Array(0..<40))
    }

    /// Seeking to a window start lands on the right frame even between keyframes.
    func testSeekThenDecode() throws {
        let path = try TestMedia.directory().appendingPathComponent("seek.mp4")
        try TestMedia.clip(path, frames: 100)
        let decoder = try VideoDecoder(path.path)
        try decoder.seek(to: 2.52)
        let frame = try XCTUnwrap(try decoder.nextFrame())
        XCTAssertEqual(frame.time, 2.52, accuracy: 1e-6)
        XCTAssertEqual(TestPattern.index(in: try Scaler(width: 320, height: 240).convert(frame)), 63)
    }
}

final class EncoderFallbackTests: XCTestCase {
    /// With no libx264 in the FFmpeg build, H.264 requests are served by the MPEG-4 encoder and the file
    /// still decodes frame-exact.
    func testFallsBackToMPEG4WithoutLibx264() throws {
        let original = VideoEncoder.encoderLookup
        VideoEncoder.encoderLookup = { $0 == "libx264" ? nil : original($0) }
        defer { VideoEncoder.encoderLookup = original }
        let path = try TestMedia.directory().appendingPathComponent("fallback.mp4")
        let encoder = try TestMedia.clip(path, frames: 20, codec: .h264)
        XCTAssertEqual(encoder.encoderName, "mpeg4")
        let decoder = try VideoDecoder(path.path)
        XCTAssertEqual(decoder.info.codec, "mpeg4")
        let (frames, _) = try TestMedia.decodeAll(path.path)
        XCTAssertEqual(frames.compactMap { $0.index }, Array(0..<20))
    }
}
