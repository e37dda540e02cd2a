// What a probe reports about a media source, and counters of what decoding met on the way.

/// Container and best video stream of a source, as read from its headers.
public struct MediaInfo: Sendable, Codable, Equatable {
    public var source: String
    /// Demuxer name(s), e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi".
    public var container: String
    public var codec: String
    public var streamIndex: Int
    /// Coded size, as stored.
    public var width: Int
    public var height: Int
    /// Clockwise rotation (0, 90, 180, 270) the display matrix asks for; decoded images are turned by it.
    public var rotation: Int
    public var pixelFormat: String
    /// Average frame rate (frames per second) if the container states one.
    public var fps: Double?
    /// Duration in seconds of the video stream (or the container, when the stream has none).
    public var duration: Double?
    /// Frame count stated by the container (not decoded; `--count` decodes).
    public var statedFrameCount: Int?
    public var bitRate: Int?
    /// "full" (yuvj*, JPEG range) or "limited" (TV range) or "unknown".
    public var colorRange: String

    /// True when FFmpeg read the source with one of its still-image demuxers (`png_pipe`, `jpeg_pipe`, `image2`, …):
    /// a picture, not a video, whatever its file name says.
    public var isStillImage: Bool { Self.isStillImageContainer(container) }

    static func isStillImageContainer(_ name: String) -> Bool {
        name == "image2" || name == "image2pipe" || name.hasSuffix("_pipe")
    }

    /// Size as displayed, after rotation.
    public var displayWidth: Int { rotation % 180 == 0 ? width : height }
    public var displayHeight: Int { rotation % 180 == 0 ? height : width }
}

/// What the decoder met. Damage is counted, not fatal: what can be decoded is decoded.
public struct DecodeStats: Sendable, Codable, Equatable {
    public var packetsRead = 0
    public var framesDecoded = 0
    /// Packets the decoder rejected (corrupt data); their pictures are lost.
    public var skippedPackets = 0
    /// Frames the decoder produced but flagged as damaged (concealed errors).
    public var corruptFrames = 0
    /// Timestamps that went backwards or were missing and were replaced to keep time monotonic.
    public var repairedTimestamps = 0
    /// Size changes met mid-stream.
    public var resolutionChanges = 0
    /// The input ended before its container said it would (or a read failed near the end).
    public var truncated = false
    /// The read error that ended the stream early, if any (FFmpeg's message).
    public var readError: String?

    public init() {}

    public var isClean: Bool { skippedPackets == 0 && corruptFrames == 0 && !truncated && readError == nil }
}
