// The `decode` stage: a file decoded with FFmpeg, sampled on the configured fps grid and fitted to the
// configured working size, as timestamped RGB frames. It is the graph's source (DESIGN.md: decode is first).
import Foundation
import Media
import Pipeline

/// Decodes one file or stream into frames at `options.fps` and `options.size` (the graph's `frames` port).
public struct DecodeSource: PacketSource {
    public let name = "decode"
    public let path: String
    public let options: DecodeOptions
    /// FFmpeg-level options: threads, and for live streams the read timeout that detects a stall.
    public let decoder: DecoderOptions
    /// Called with each frame's media time (progress bars).
    public let progress: (@Sendable (Double) -> Void)?
    /// Called after each frame with the decoder's running counters (frames, corrupt packets: metrics).
    public let onStats: (@Sendable (DecodeStats) -> Void)?

    public init(path: String, options: DecodeOptions, decoder: DecoderOptions = DecoderOptions(),
                progress: (@Sendable (Double) -> Void)? = nil, onStats: (@Sendable (DecodeStats) -> Void)? = nil) {
        self.path = path
        self.options = options
        self.decoder = decoder
        self.progress = progress
        self.onStats = onStats
    }

    /// The media's duration in seconds, if the container states it.
    public static func duration(of path: String) -> Double? {
        (try? VideoDecoder(path))?.info.duration
    }

    public func run(emit: Emit<Image>) async throws {
        // Opening and reading block in FFmpeg (a network stream waits for packets): on a thread of their own.
        let worker = BlockingWorker(name: "decode")
        defer { worker.stop() }
        let (path, options, decoder) = (self.path, self.options, self.decoder)
        let frames = try await worker.run { try FrameDecoder(path: path, options: options, decoder: decoder) }
        while let record = try await worker.run({ try frames.next() }) {
            try Task.checkCancellation()
            progress?(record.time)
            onStats?(frames.stats)
            try await emit(record)
        }
        // Truncation and damage found at the end of the stream are in the counters after the last frame.
        onStats?(frames.stats)
    }

    /// Every frame of the file in order, synchronously, one at a time, as clip items: the frames `run` emits
    /// (dataset).
    public func forEachFrame(_ body: (Timestamped<FrameRecord>) throws -> Void) throws {
        let frames = try FrameDecoder(path: path, options: options)
        while let frame = try frames.next() { try body(frame.map { FrameRecord(image: $0) }) }
    }

    /// Every frame of the file in order, in memory.
    public func frames() throws -> [Timestamped<FrameRecord>] {
        var result: [Timestamped<FrameRecord>] = []
        try forEachFrame { result.append($0) }
        return result
    }
}

/// The one decode loop behind `run` and `forEachFrame`: sampled on the fps grid, scaled to the working size,
/// stamped with the grid time and a duration of one grid step. Used by one task at a time (a source hands it
/// to its decode thread call by call).
final class FrameDecoder: @unchecked Sendable {
    private let reader: FrameReader
    private let scaler: Scaler
    private let spacing: Double

    init(path: String, options: DecodeOptions, decoder: DecoderOptions = DecoderOptions()) throws {
        reader = try FrameReader(decoder: VideoDecoder(path, options: decoder), fps: options.fps)
        scaler = try Scaler(width: options.size.width, height: options.size.height, format: .rgb24,
                            mode: options.resize)
        spacing = 1 / options.fps
    }

    var stats: DecodeStats { reader.decoder.stats }

    func next() throws -> Timestamped<Image>? {
        guard let (frame, time) = try reader.next() else { return nil }
        var image = try scaler.convert(frame)
        image.time = time
        return Timestamped(image, at: time, duration: spacing)
    }
}
