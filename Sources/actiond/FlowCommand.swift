// `actiond flow`: dense optical flow between two images, or two frames of a video, written as .npy (H×W×2
// float32, forward flow) and optionally as a colour-wheel PNG.
import ArgumentParser
import Flow
import Foundation
import Media

/// A failure of `actiond flow` after the arguments were accepted; one line, exit status 1.
struct FlowCommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct FlowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "Dense optical flow from frame 1 to frame 2, written as .npy (HxWx2 float32).",
        discussion: """
            actiond flow IMG1 IMG2 --out flow.npy       two images (any still FFmpeg reads: PNG, JPEG, ...)
            actiond flow VIDEO --pair I,J --out flow.npy frames I and J (0-based, decode order) of a video
            The flow is forward: frame1(x, y) ≈ frame2(x + dx, y + dy); channel 0 is dx, channel 1 is dy.
            Frames are converted to 8-bit gray first.
            """)

    @Argument(help: "Two images, or one video with --pair.")
    var inputs: [String]

    @Option(help: ArgumentHelp("Frame indices I,J of the video (0-based).", valueName: "I,J"))
    var pair: String?

    @Option(help: "Output .npy path.")
    var out: String

    @Option(help: "Flow method: dis or farneback.")
    var method: FlowMethod = .dis

    @Option(help: "DIS preset: ultrafast, fast or medium.")
    var preset: DISPreset = .medium

    @Option(help: "Threads.")
    var threads: Int = 1

    @Option(help: ArgumentHelp("Also write a colour-wheel picture of the flow (hue = direction, saturation = speed).",
                               valueName: "vis.png"))
    var png: String?

    @Option(help: "Speed (px) drawn fully saturated in --png. Default: the largest speed in the field.")
    var pngMaxSpeed: Float?

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    func validate() throws {
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be in 1...64") }
        if let pngMaxSpeed, !(pngMaxSpeed > 0) { throw ValidationError("--png-max-speed must be > 0") }
        switch (inputs.count, pair) {
        case (2, nil): break
        case (1, .some(let p)):
            guard parsePair(p) != nil else { throw ValidationError("--pair must be I,J with 0 ≤ I, J (e.g. 10,11)") }
        case (2, .some): throw ValidationError("--pair takes one video, not two inputs")
        case (1, nil): throw ValidationError("give two images, or one video with --pair I,J")
        default: throw ValidationError("expected two images or one video, got \(inputs.count) inputs")
        }
    }

    private func parsePair(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let i = parts[0], let j = parts[1], i >= 0, j >= 0 else { return nil }
        return (i, j)
    }

    func run() async throws {
        let (first, second): (GrayImage, GrayImage)
        if let pair, let (i, j) = parsePair(pair) {
            (first, second) = try Self.videoFrames(inputs[0], i, j)
        } else {
            first = try Self.stillFrame(inputs[0])
            second = try Self.stillFrame(inputs[1])
        }
        guard first.width == second.width, first.height == second.height else {
            throw FlowCommandError("frames differ in size: \(first.width)x\(first.height) vs "
                                   + "\(second.width)x\(second.height); flow needs equal sizes")
        }
        let estimator = OpticalFlow(method: method, preset: preset, threads: threads)
        let start = DispatchTime.now().uptimeNanoseconds
        let field: FlowField
        do {
            field = try estimator.flow(from: first, to: second)
        } catch {
            throw FlowCommandError("flow: \(error.description)")
        }
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        try write(Data(field.npyData()), to: out)
        if let png {
            let rgb = FlowVisualization.rgb(field, maxMagnitude: pngMaxSpeed)
            let image = Image(width: field.width, height: field.height, format: .rgb24, pixels: rgb)
            try write(Data(try PNGWriter.encode(image)), to: png)
        }
        if !quiet {
            let label = method == .dis ? "dis-\(preset.rawValue)" : "farneback"
            let mean = FlowEncoding.meanMotion(field)
            print(String(format: "%dx%d %@ %.1f ms  mean motion (%.2f, %.2f) px  -> %@", field.width, field.height,
                         label, ms, mean.x, mean.y, out))
        }
    }

    private func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw FlowCommandError("cannot write \(path): \((error as NSError).localizedDescription)")
        }
    }

    /// The first frame of `path` as gray.
    static func stillFrame(_ path: String) throws -> GrayImage {
        let decoder = try VideoDecoder(path)
        guard let frame = try decoder.nextFrame() else {
            throw FlowCommandError("\(path): no decodable frame")
        }
        return try gray(frame)
    }

    /// Frames `i` and `j` (0-based, in presentation order) of a video, as gray.
    static func videoFrames(_ path: String, _ i: Int, _ j: Int) throws -> (GrayImage, GrayImage) {
        let decoder = try VideoDecoder(path)
        var found: [Int: GrayImage] = [:]
        var index = 0
        while found.count < (i == j ? 1 : 2), let frame = try decoder.nextFrame() {
            if index == i || index == j { found[index] = try gray(frame) }
            index += 1
        }
        guard let a = found[i], let b = found[j] else {
            throw FlowCommandError("\(path) has \(index) frames; --pair \(i),\(j) needs frame \(max(i, j))")
        }
        return (a, b)
    }

    private static func gray(_ frame: DecodedFrame) throws -> GrayImage {
        let (w, h) = frame.rotation % 180 == 0 ? (frame.width, frame.height) : (frame.height, frame.width)
        let image = try Scaler(width: w, height: h, format: .gray8).convert(frame)
        return GrayImage(width: image.width, height: image.height, bytes: image.pixels)
    }
}
