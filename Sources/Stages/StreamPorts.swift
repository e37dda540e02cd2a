// The typed ports of the stage graph: each stream kind of the config (`StreamKind`) with the Swift type its
// packets carry. The graph is wired by these, so the config's port check (a stage takes only streams an earlier
// stage gives) and the runtime's type check are one check over the same names.
import Flow
import Media
import Pipeline
import Vision

public enum StreamPorts {
    /// Decoded, sampled frames at the working size (RGB24).
    public static let frames = Port<Image>(.frames)
    /// Flow from the previous frame into this one, at the flow size.
    public static let flow = Port<FlowField>(.flow)
    /// The people found on one frame, best first, in source-video pixels (keypoints from a pose-format detector).
    public static let detections = Port<[Detection]>(.detections)
    /// The people on one frame with their keypoints, in source-video pixels.
    public static let poses = Port<[Detection]>(.poses)
    /// Every track's box and state on one frame.
    public static let tracks = Port<[TrackBox]>(.tracks)
    /// One score vector per classified clip (per track in per-track mode).
    public static let clipScores = Port<ClipScores>(.clipScores)
    /// Action segments: what every graph ends in.
    public static let segments = Port<ActionSegment>(.segments)

    /// The runtime port of a config stream, nil for streams no stage of this build gives yet.
    public static func port(_ stream: StreamKind) -> AnyPort? {
        switch stream {
        case .frames: return frames.erased
        case .flow: return flow.erased
        case .tracks: return tracks.erased
        case .clipScores: return clipScores.erased
        case .segments: return segments.erased
        case .detections: return detections.erased
        case .poses: return poses.erased
        }
    }
}

/// One track on one frame: its id (stable across frames), its box in working-frame pixels (where crops are cut)
/// and in source-video pixels, and its state. Only confirmed tracks have their frame added to their clip; a
/// removed track (reported once) has its partial clip flushed or dropped by the classify stage's `partial` rule.
public struct TrackBox: Sendable, Equatable {
    public var id: Int
    public var box: PixelRect
    public var state: TrackState
    /// The matched detection's score, the search peak's probability, or 0 when the box is only predicted.
    public var score: Double
    /// What placed the box on this frame.
    public var evidence: TrackEvidence
    /// `box` in source-video pixels.
    public var source: PixelRect
    /// The matched detection's keypoints in source-video pixels; empty without a match or a pose-format detector.
    public var keypoints: [Keypoint]

    public init(id: Int, box: PixelRect, state: TrackState = .confirmed, score: Double = 1,
                evidence: TrackEvidence = .detection, source: PixelRect? = nil, keypoints: [Keypoint] = []) {
        self.id = id
        self.box = box
        self.state = state
        self.score = score
        self.evidence = evidence
        self.source = source ?? box
        self.keypoints = keypoints
    }
}
