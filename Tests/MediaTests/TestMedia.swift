// Builds the real media files the tests decode, with VideoEncoder, in a temporary directory.
import Foundation
import Media
import TestSupport
import XCTest

enum TestMedia {
    /// A fresh temporary directory for one test case.
    static func directory(_ name: String = #function) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("actiond-tests-\(getpid())")
            .appendingPathComponent(name.filter { $0.isLetter || $0.isNumber })
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Encodes `frames` test-pattern frames; `times` overrides the 1/fps spacing (VFR).
    @discardableResult
    static func clip(_ path: URL, frames: Int, width: Int = 320, height: Int = 240, fps: Int = 25,
                     codec: VideoCodec = .h264, rotation: Int = 0, times: [Double]? = nil,
                     quality: Int? = nil, firstIndex: Int = 0) throws -> VideoEncoder {
        let encoder = try VideoEncoder(
            path: path.path,
            settings: EncoderSettings(width: width, height: height, frameRate: FrameRate(fps), codec: codec,
                                      quality: quality, rotation: rotation, variableFrameRate: times != nil))
        for i in 0..<frames {
            try encoder.append(TestPattern.frame(firstIndex + i, width: width, height: height), time: times?[i])
        }
        try encoder.finish()
        return encoder
    }

    /// Every frame of a file: (time, pattern index read back from the pixels).
    static func decodeAll(_ path: String, width: Int = 320, height: Int = 240) throws
        -> (frames: [(time: Double, index: Int?)], stats: DecodeStats)
    {
        let decoder = try VideoDecoder(path)
        let scaler = try Scaler(width: width, height: height)
        var out: [(Double, Int?)] = []
        while let frame = try decoder.nextFrame() {
            out.append((frame.time, TestPattern.index(in: try scaler.convert(frame))))
        }
        return (out, decoder.stats)
    }

    /// `ffprobe -count_frames` of the best video stream, or nil when ffprobe is not installed.
    static func ffprobeFrameCount(_ path: String) -> Int? {
        let arguments = ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                         "stream=nb_read_frames", "-of", "csv=p=0", path]
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ffprobe"),
              let result = try? runProcess("/usr/bin/ffprobe", arguments)
        else { return nil }
        let text = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return Int(text.split(separator: ",").first ?? "")
    }

    /// Asserts that `body` throws a MediaError with `code`, and returns it.
    @discardableResult
    static func expectError<T>(_ code: MediaError.Code, file: StaticString = #filePath, line: UInt = #line,
                               _ body: () throws -> T) -> MediaError? {
        do {
            _ = try body()
            XCTFail("expected a \(code) error, got success", file: file, line: line)
        } catch let error as MediaError {
            XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
            return error
        } catch {
            XCTFail("expected MediaError \(code), got \(error)", file: file, line: line)
        }
        return nil
    }
}
