// Inputs that look like video and are not, or claim more than they hold: a still image named .mp4, a header that
// states a 30000×30000 frame, an MP4 with its index first (faststart) cut at half. Each gets a typed error or a
// flagged truncation, never a misleading FFmpeg message or a silent partial decode.
import Foundation
import Media
import XCTest

final class HostileInputTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try TestMedia.directory(name) }

    /// A PNG named `.mp4` is read by FFmpeg's image demuxer: tools that read pictures still may; a video decoder
    /// that asks for video only says what the file is.
    func testStillImageNamedMP4IsNamedForWhatItIs() throws {
        let picture = dir.appendingPathComponent("holiday.mp4")
        try Data(PNGWriter.encode(TestPattern.frame(3, width: 64, height: 48))).write(to: picture)
        let image = try VideoDecoder(picture.path)
        XCTAssertTrue(image.info.isStillImage, image.info.container)
        let error = TestMedia.expectError(.notAVideo) {
            try VideoDecoder(picture.path, options: DecoderOptions(stillImages: false))
        }
        XCTAssertEqual(error?.summary, "cannot open '\(picture.path)': it is a still image (PNG), not a video")

        let video = dir.appendingPathComponent("clip.mp4")
        try TestMedia.clip(video, frames: 10, width: 64, height: 48)
        let decoder = try VideoDecoder(video.path, options: DecoderOptions(stillImages: false))
        XCTAssertFalse(decoder.info.isStillImage)
        // MJPEG in AVI is a video of JPEG pictures, not a still image.
        let mjpeg = dir.appendingPathComponent("clip.avi")
        try TestMedia.clip(mjpeg, frames: 10, width: 64, height: 48, codec: .mjpeg)
        XCTAssertFalse(try VideoDecoder(mjpeg.path, options: DecoderOptions(stillImages: false)).info.isStillImage)
    }

    /// A YUV4MPEG header stating 30000×30000: FFmpeg refuses it with "Device or resource busy"; the error says
    /// what the header states and the limit.
    func testHeaderStatingAHugeFrameSaysSo() throws {
        let huge = dir.appendingPathComponent("huge.y4m")
        try (Data("YUV4MPEG2 W30000 H30000 F25:1 Ip A1:1 C420jpeg\nFRAME\n".utf8) + Data(repeating: 0x80, count: 4096))
            .write(to: huge)
        let error = try XCTUnwrap(TestMedia.expectError(.tooLarge) { try VideoDecoder(huge.path) })
        XCTAssertTrue(error.summary.hasPrefix("cannot open '\(huge.path)': its header states frames of 30000×30000"),
                      error.summary)
        XCTAssertTrue(error.summary.contains("\(VideoDecoder.maxFrameSide) pixels a side"), error.summary)
        XCTAssertFalse(error.description.contains("busy"), error.description)
        // The same file named .mp4 (the extension does not matter to the probe).
        let renamed = dir.appendingPathComponent("huge.mp4")
        try FileManager.default.copyItem(at: huge, to: renamed)
        TestMedia.expectError(.tooLarge) { try VideoDecoder(renamed.path) }
        // A sane y4m still opens.
        let small = dir.appendingPathComponent("small.y4m")
        try (Data("YUV4MPEG2 W16 H16 F25:1 Ip A1:1 C420jpeg\nFRAME\n".utf8) + Data(repeating: 0x80, count: 384))
            .write(to: small)
        XCTAssertEqual(try VideoDecoder(small.path).info.width, 16)
    }

    /// An MP4 with its index first (`-movflags +faststart`) cut at half opens (the index is whole) and decodes its
    /// first half; the end of the stream is flagged as truncated, by the decoder and by a packet scan alone.
    func testFaststartMP4CutAtHalfIsFlaggedTruncated() throws {
        let plain = dir.appendingPathComponent("plain.mp4")
        try TestMedia.clip(plain, frames: 100)
        let faststart = dir.appendingPathComponent("faststart.mp4")
        let ffmpeg = Process()
        ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        ffmpeg.arguments = ["-v", "error", "-y", "-i", plain.path, "-c", "copy", "-movflags", "+faststart",
                            faststart.path]
        try ffmpeg.run()
        ffmpeg.waitUntilExit()
        XCTAssertEqual(ffmpeg.terminationStatus, 0)
        let bytes = try Data(contentsOf: faststart)
        XCTAssertNotNil(bytes.prefix(4096).range(of: Data("moov".utf8)), "the index comes first")

        let whole = try VideoDecoder(faststart.path).scanToEnd()
        XCTAssertFalse(whole.truncated, "\(whole)")
        XCTAssertEqual(whole.packetsRead, 100)

        let cut = dir.appendingPathComponent("cut.mp4")
        try bytes.prefix(bytes.count / 2).write(to: cut)
        let (frames, stats) = try TestMedia.decodeAll(cut.path)
        XCTAssertGreaterThan(frames.count, 10)
        XCTAssertLessThan(frames.count, 100)
        XCTAssertTrue(stats.truncated, "\(stats)")
        let scanned = try VideoDecoder(cut.path).scanToEnd()
        XCTAssertTrue(scanned.truncated, "\(scanned)")
        XCTAssertLessThan(scanned.packetsRead, 100)
        XCTAssertNotNil(scanned.readError)
    }

    /// A file cut in place while it is being decoded (MP4 with its index at the end, already read; Matroska): the
    /// decoder meets the end early and flags it as truncated.
    func testFileCutWhileBeingReadIsFlaggedTruncated() throws {
        for ext in ["mp4", "mkv"] {
            let file = dir.appendingPathComponent("cut-while-read.\(ext)")
            // Large enough (near-lossless) that the reader is far from the end when the file is cut.
            try TestMedia.clip(file, frames: 200, width: 640, height: 480, quality: 2)
            let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int)
            XCTAssertGreaterThan(size, 256 << 10, ext)
            let decoder = try VideoDecoder(file.path, options: DecoderOptions(threads: 1))
            for _ in 0..<20 { XCTAssertNotNil(try decoder.nextFrame(), ext) }
            XCTAssertEqual(truncate(file.path, off_t(size / 2)), 0)
            var frames = 20
            while try decoder.nextFrame() != nil { frames += 1 }
            XCTAssertLessThan(frames, 200, ext)
            XCTAssertTrue(decoder.stats.truncated, "\(ext): \(decoder.stats)")
        }
    }
}
