// Typed errors of the media layer. Every error names the source (path or URL) and, where known,
// the stream and the media time, so a message can say what failed, where and why.
import Foundation

public struct MediaError: Error, LocalizedError, CustomStringConvertible, Sendable {
    /// Opaque error code: new codes can be added without breaking callers that switch on them.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        public static let notFound = Code("not-found")
        public static let permissionDenied = Code("permission-denied")
        public static let isDirectory = Code("is-a-directory")
        public static let emptyFile = Code("empty-file")
        /// The container could not be recognised (random bytes, a text file, ...).
        public static let notAVideo = Code("not-a-video")
        /// The container opened but holds no video stream (audio only, data only).
        public static let noVideoStream = Code("no-video-stream")
        public static let unsupportedCodec = Code("unsupported-codec")
        /// The stream states a frame size beyond `VideoDecoder.maxFrameSide` / `maxFramePixels`.
        public static let tooLarge = Code("too-large")
        /// The file ends before its container says it should (cut-off download, interrupted copy).
        public static let truncated = Code("truncated")
        /// Packets that could not be decoded; `skippedPackets` counts them.
        public static let corrupt = Code("corrupt")
        public static let network = Code("network")
        public static let invalidArgument = Code("invalid-argument")
        public static let encoder = Code("encoder")
        public static let io = Code("io")
    }

    public var code: Code
    /// Path or URL of the media.
    public var source: String
    /// What could not be done, in the user's words ("open", "decode", "seek", "encode").
    public var operation: String
    /// Why, in one short phrase.
    public var reason: String
    public var stream: Int?
    public var mediaTime: Double?
    /// FFmpeg's own message for the failing call, if any.
    public var ffmpegMessage: String?
    public var skippedPackets: Int = 0
    public var file: String
    public var line: Int

    public init(
        _ code: Code, source: String, operation: String, reason: String, stream: Int? = nil,
        mediaTime: Double? = nil, ffmpegMessage: String? = nil, skippedPackets: Int = 0,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.source = source
        self.operation = operation
        self.reason = reason
        self.stream = stream
        self.mediaTime = mediaTime
        self.ffmpegMessage = ffmpegMessage
        self.skippedPackets = skippedPackets
        self.file = file
        self.line = line
    }

    /// One line: what, which file, why.
    public var summary: String {
        var where_ = "'\(source)'"
        if let stream { where_ += " (stream \(stream)" + (mediaTime.map { String(format: ", t=%.3fs", $0) } ?? "") + ")" }
        else if let mediaTime { where_ += String(format: " (t=%.3fs)", mediaTime) }
        return "cannot \(operation) \(where_): \(reason)"
    }

    /// Further lines: the error code, FFmpeg's message, counts.
    public var details: [String] {
        var lines = ["code: \(code)"]
        if let ffmpegMessage { lines.append("ffmpeg: \(ffmpegMessage)") }
        if skippedPackets > 0 { lines.append("skipped packets: \(skippedPackets)") }
        return lines
    }

    public var description: String { ([summary] + details).joined(separator: "\n  ") }
    public var errorDescription: String? { summary }
}
