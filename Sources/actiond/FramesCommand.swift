// `actiond frames`: the sampled, scaled frames of a video as PNG files, to look at what a model will see.
import ArgumentParser
import Foundation
import Media

struct Frames: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write sampled, scaled frames of a video as PNG files.",
        discussion: "Files are named frame-NNNNNN.png in output order; the media time of each is printed.")

    @Argument(help: "Video file or URL.")
    var source: String

    @Option(help: "Output frames per second (sampled by timestamp: frames are dropped or repeated). Default: every frame.")
    var fps: Double?

    @Option(help: "Output size WxH. Default: the displayed source size.")
    var size: Size?

    @Option(help: "How to fit the frame to --size: stretch, crop (shorter side, centre), letterbox.")
    var mode: ResizeMode = .stretch

    @Option(help: "Start of the window in seconds.")
    var start: Double = 0

    @Option(help: "Length of the window in seconds. Default: to the end.")
    var duration: Double?

    @Flag(help: "Write gray instead of RGB.")
    var gray = false

    @Option(help: "Output directory (created if missing).")
    var out: String

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    func validate() throws {
        if let fps, !(fps > 0 && fps <= 1000) { throw ValidationError("--fps must be in (0, 1000]") }
        if start < 0 { throw ValidationError("--start must be ≥ 0") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be > 0") }
    }

    func run() async throws {
        let decoder = try VideoDecoder(source)
        let reader = try FrameReader(decoder: decoder, fps: fps, start: start, duration: duration)
        let target = size ?? Size(width: decoder.info.displayWidth, height: decoder.info.displayHeight)
        let scaler = try Scaler(width: target.width, height: target.height, format: gray ? .gray8 : .rgb24, mode: mode)
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            throw MediaError(.io, source: out, operation: "create directory", reason: error.localizedDescription)
        }
        var written = 0
        while let (frame, time) = try reader.next() {
            let image = try scaler.convert(frame)
            let path = (out as NSString).appendingPathComponent(String(format: "frame-%06d.png", written))
            let png = try PNGWriter.encode(image)
            guard FileManager.default.createFile(atPath: path, contents: Data(png)) else {
                throw MediaError(.io, source: path, operation: "write", reason: "cannot create the file")
            }
            if !quiet { print(String(format: "%@  t=%.3f  (source frame %d at %.3f s)", path, time, frame.index, frame.time)) }
            written += 1
        }
        if !quiet { print("wrote \(written) frames of \(target) to \(out)") }
        let stats = decoder.stats
        if !stats.isClean {
            writeStderr("warning: '\(source)': \(stats.skippedPackets) packets skipped, \(stats.corruptFrames) damaged "
                + "frames\(stats.truncated ? ", truncated" : "")")
        }
    }
}
