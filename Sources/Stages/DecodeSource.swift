// The `decode` stage: a file decoded with FFmpeg, sampled on the configured fps grid and fitted to the
// configured working size, as timestamped RGB frames. It is the graph's source (DESIGN.md: decode is first).
import Foundation
import Media
import Pipeline

/// Decodes one file into `FrameRecord`s at `options.fps` and `options.size`.
public struct DecodeSource: PacketSource {
    public let name = "decode"
    public let path: String
    public let options: DecodeOptions
    /// Called with each frame's media time (progress bars).
    public let progress: (@Sendable (Double) -> Void)?

    public init(path: String, options: DecodeOptions, progress: (@Sendable (Double) -> Void)? = nil) {
        self.path = path
        self.options = options
        self.progress = progress
    }

    /// The media's duration in seconds, if the container states it.
    public static func duration(of path: String) -> Double? {
        (try? VideoDecoder(path))?.info.duration
    }

    public func run(emit: Emit<FrameRecord>) async throws {
        let reader = try FrameReader(decoder: VideoDecoder(path), fps: options.fps)
        let scaler = try Scaler(width: options.size.width, height: options.size.height, format: .rgb24,
                                mode: Preprocess.mediaMode(options.resize))
        let spacing = 1 / options.fps
        while let (frame, time) = try reader.next() {
            try Task.checkCancellation()
            var image = try scaler.convert(frame)
            image.time = time
            progress?(time)
            try await emit(Timestamped(FrameRecord(image: image), at: time, duration: spacing))
        }
    }

    /// Every frame of the file in order, synchronously (dataset building; the same frames `run` emits).
    public func frames() throws -> [Timestamped<FrameRecord>] {
        let reader = try FrameReader(decoder: VideoDecoder(path), fps: options.fps)
        let scaler = try Scaler(width: options.size.width, height: options.size.height, format: .rgb24,
                                mode: Preprocess.mediaMode(options.resize))
        var result: [Timestamped<FrameRecord>] = []
        while let (frame, time) = try reader.next() {
            var image = try scaler.convert(frame)
            image.time = time
            result.append(Timestamped(FrameRecord(image: image), at: time, duration: 1 / options.fps))
        }
        return result
    }
}
