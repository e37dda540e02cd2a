// Bad input gets a typed error (or a partial decode with the damage counted), never a crash, and the
// process keeps decoding the next file.
import Foundation
import Media
import XCTest

final class BadInputTests: XCTestCase {
    var dir: URL!
    var good: URL!

    override func setUpWithError() throws {
        dir = try TestMedia.directory(name)
        good = dir.appendingPathComponent("good.mp4")
        try TestMedia.clip(good, frames: 100)
    }

    /// After each failure a good file must still decode completely.
    func assertStillUsable(file: StaticString = #filePath, line: UInt = #line) throws {
        let (frames, stats) = try TestMedia.decodeAll(good.path)
        XCTAssertEqual(frames.count, 100, file: file, line: line)
        XCTAssertTrue(stats.isClean, file: file, line: line)
    }

    func testEmptyFile() throws {
        let path = dir.appendingPathComponent("empty.mp4")
        XCTAssertTrue(FileManager.default.createFile(atPath: path.path, contents: Data()))
        let error = TestMedia.expectError(.emptyFile) { try VideoDecoder(path.path) }
        XCTAssertEqual(error?.summary, "cannot open '\(path.path)': the file is empty (0 bytes)")
        try assertStillUsable()
    }

    func testRandomBytesNamedMP4() throws {
        let path = dir.appendingPathComponent("random.mp4")
        var generator = SystemRandomNumberGenerator()
        try Data((0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: path)
        TestMedia.expectError(.notAVideo) { try VideoDecoder(path.path) }
        let text = dir.appendingPathComponent("notes.mp4")
        try Data(String(repeating: "not a video\n", count: 100).utf8).write(to: text)
        TestMedia.expectError(.notAVideo) { try VideoDecoder(text.path) }
        // Named like a picture, FFmpeg's image reader takes it and finds no image: refused, not 0 frames.
        let picture = dir.appendingPathComponent("notes.png")
        try Data("not a picture\n".utf8).write(to: picture)
        let error = TestMedia.expectError(.notAVideo) {
            try VideoDecoder(picture.path, options: DecoderOptions(stillImages: true))
        }
        XCTAssertTrue(error?.summary.contains("it is not a picture") == true, error?.summary ?? "")
        try assertStillUsable()
    }

    /// MP4 cut at 50%: the index (moov, written last) is gone: recognised as MP4 but incomplete.
    /// MKV and MPEG-TS cut at 50%: the first half decodes. Matroska states its duration, so the loss is
    /// reported as truncation; an MPEG-TS file states nothing (its duration is estimated from its own size), so
    /// a cut one is indistinguishable from a short one.
    func testTruncatedAtHalf() throws {
        let data = try Data(contentsOf: good)
        let cutMP4 = dir.appendingPathComponent("cut.mp4")
        try data.prefix(data.count / 2).write(to: cutMP4)
        TestMedia.expectError(.truncated) { try VideoDecoder(cutMP4.path) }

        for ext in ["mkv", "ts"] {
            let full = dir.appendingPathComponent("full.\(ext)")
            try TestMedia.clip(full, frames: 100)
            let bytes = try Data(contentsOf: full)
            let cut = dir.appendingPathComponent("cut.\(ext)")
            try bytes.prefix(bytes.count / 2).write(to: cut)
            let (frames, stats) = try TestMedia.decodeAll(cut.path)
            XCTAssertGreaterThan(frames.count, 10, ext)
            XCTAssertLessThan(frames.count, 90, ext)
            if ext == "mkv" { XCTAssertTrue(stats.truncated, "\(ext): \(stats)") }
            let legible = frames.compactMap { $0.index }
            XCTAssertEqual(legible.first, 0, ext)
            XCTAssertEqual(legible, legible.sorted(), "\(ext): frames come out in order")
            XCTAssertGreaterThanOrEqual(legible.count, frames.count - 2, "\(ext): the frames that decode are intact")
            if let reference = TestMedia.ffprobeFrameCount(cut.path) { XCTAssertEqual(frames.count, reference, ext) }
        }
        try assertStillUsable()
    }

    /// Garbage written over packets in the middle: what can be decoded is, the rest is counted.
    func testCorruptPacketsInTheMiddle() throws {
        var bytes = [UInt8](try Data(contentsOf: good))
        var generator = SystemRandomNumberGenerator()
        for start in [bytes.count * 2 / 5, bytes.count * 3 / 5] {
            for i in start..<(start + 1500) { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        }
        let path = dir.appendingPathComponent("corrupt.mp4")
        try Data(bytes).write(to: path)
        let (frames, stats) = try TestMedia.decodeAll(path.path)
        XCTAssertGreaterThan(frames.count, 30, "the undamaged parts decode")
        XCTAssertFalse(stats.isClean, "damage must be reported: \(stats)")
        XCTAssertGreaterThan(stats.skippedPackets + stats.corruptFrames, 0)
        if let reference = TestMedia.ffprobeFrameCount(path.path) { XCTAssertEqual(frames.count, reference) }
        try assertStillUsable()
    }

    func testDirectoryMissingFileAndUnreadable() throws {
        TestMedia.expectError(.isDirectory) { try VideoDecoder(dir.path) }
        let missing = TestMedia.expectError(.notFound) { try VideoDecoder(dir.appendingPathComponent("nope.mp4").path) }
        XCTAssertTrue(missing?.summary.contains("nope.mp4") ?? false)
        if getuid() != 0 {  // root reads everything
            let locked = dir.appendingPathComponent("locked.mp4")
            try FileManager.default.copyItem(at: good, to: locked)
            chmod(locked.path, 0)
            TestMedia.expectError(.permissionDenied) { try VideoDecoder(locked.path) }
        }
        try assertStillUsable()
    }

    /// Connection refused on localhost, and a listener that never answers: both fail within the timeout.
    func testUnreachableURLs() throws {
        let refused = TestMedia.expectError(.network) {
            try VideoDecoder("tcp://127.0.0.1:9", options: DecoderOptions(timeout: 2))
        }
        XCTAssertNotNil(refused?.ffmpegMessage)

        // A socket that accepts but never sends: the open must give up after the timeout, not hang.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        listen(listener, 4)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = UInt16(bigEndian: address.sin_port)
        let started = Date()
        TestMedia.expectError(.network) {
            try VideoDecoder("http://127.0.0.1:\(port)/stream.mp4", options: DecoderOptions(timeout: 1))
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "the timeout must bound the wait")
        try assertStillUsable()
    }

    func testAudioOnlyHasNoVideoStream() throws {
        // A WAV file written by hand: a container FFmpeg opens that holds no video.
        var wav = Data("RIFF".utf8)
        let samples = 8000
        func le32(_ v: Int) -> Data { withUnsafeBytes(of: UInt32(v).littleEndian) { Data($0) } }
        func le16(_ v: Int) -> Data { withUnsafeBytes(of: UInt16(v).littleEndian) { Data($0) } }
        wav += le32(36 + samples * 2) + Data("WAVEfmt ".utf8) + le32(16) + le16(1) + le16(1) + le32(8000)
            + le32(16000) + le16(2) + le16(16) + Data("data".utf8) + le32(samples * 2) + Data(count: samples * 2)
        let path = dir.appendingPathComponent("audio.wav")
        try wav.write(to: path)
        TestMedia.expectError(.noVideoStream) { try VideoDecoder(path.path) }
    }
}
