// `actiond testclip`: writes a clip of the frame-indexed test pattern with VideoEncoder (demo, tests, benchmarks).
import ArgumentParser
import Foundation
import Media

struct TestClip: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "testclip",
        abstract: "Encode a test-pattern clip whose frames show their own index (for demos, tests and benchmarks).")

    @Argument(help: "Output file; the extension picks the container (.mp4, .mkv, .avi, .mov).")
    var output: String

    @Option(help: "Frame size WxH (width ≥ 64, height ≥ 32).")
    var size: Size = Size(width: 320, height: 240)

    @Option(help: "Frames per second.")
    var fps: Int = 25

    @Option(help: "Length in seconds.")
    var seconds: Double = 4

    @Option(help: "Codec: h264 (libx264, falls back to mpeg4), mpeg4, mjpeg, vp9.")
    var codec: VideoCodec = .h264

    @Option(help: "Clockwise display rotation to record in the container (0, 90, 180, 270).")
    var rotation: Int = 0

    @Flag(help: "Variable frame rate: frame intervals alternate between 1× and 2× the nominal interval.")
    var vfr = false

    func validate() throws {
        guard size.width >= 64, size.height >= 32 else { throw ValidationError("--size must be at least 64x32") }
        guard fps > 0, fps <= 240 else { throw ValidationError("--fps must be in 1…240") }
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be in (0, 3600]") }
        guard [0, 90, 180, 270].contains(rotation) else { throw ValidationError("--rotation must be 0, 90, 180 or 270") }
    }

    func run() async throws {
        let settings = EncoderSettings(width: size.width, height: size.height, frameRate: FrameRate(fps), codec: codec,
                                       rotation: rotation, variableFrameRate: vfr)
        let encoder = try VideoEncoder(path: output, settings: settings)
        var time = 0.0, index = 0
        while time < seconds - 1e-9 {
            try encoder.append(TestPattern.frame(index, width: size.width, height: size.height), time: time)
            // VFR: every other gap is doubled, so frame times are 0, 1, 3, 4, 6, … intervals.
            time += (vfr && index % 2 == 1 ? 2.0 : 1.0) / Double(fps)
            index += 1
        }
        try encoder.finish()
        print("wrote \(output): \(index) frames, \(size), \(fps) fps\(vfr ? " (VFR)" : ""), encoder \(encoder.encoderName)")
    }
}
