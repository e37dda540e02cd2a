// The stage kinds of the `pipeline:` list, their options with defaults, and the streams each takes and gives.
// Each options type's doc comment shows its YAML with every default, so the docs and the code cannot drift.
import Foundation
@_exported import Vocabulary

/// A named stream of timestamped values flowing down the pipeline. Stages declare which streams they take
/// and give; the config is rejected before any frame is decoded if a stage takes a stream no earlier stage gives.
public enum StreamKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Decoded, sampled, resized frames.
    case frames
    /// Person boxes per frame.
    case detections
    /// Boxes with stable track ids across frames.
    case tracks
    /// Keypoints per person per frame.
    case poses
    /// Dense optical flow between consecutive frames.
    case flow
    /// One score vector per classified clip (per track in per-track mode).
    case clipScores
    /// Smoothed action segments: label, score, start, end.
    case segments

    public var description: String { rawValue }

    /// The stage kind that gives this stream (used in "add a `flow` stage" hints).
    public var producer: StageKind {
        switch self {
        case .frames: return .decode
        case .detections: return .detect
        case .tracks: return .track
        case .poses: return .pose
        case .flow: return .flow
        case .clipScores: return .classify
        case .segments: return .smooth
        }
    }
}

/// What a stage takes and gives, as stream kinds (the config-level view of its ports).
public struct StagePorts: Sendable, Equatable {
    public var takes: [StreamKind]
    public var gives: [StreamKind]
    public init(takes: [StreamKind], gives: [StreamKind]) {
        self.takes = takes
        self.gives = gives
    }
}

public enum StageKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case decode, detect, track, pose, flow, classify, smooth
    public var description: String { rawValue }
}

/// One entry of `pipeline:`, e.g. `- classify: { model: actions }`.
public struct StageConfig: Sendable, Equatable {
    public var options: StageOptions
    /// Where the entry is written, for errors raised later while the stage runs.
    public var location: ConfigLocation

    public var kind: StageKind { options.kind }
    public var ports: StagePorts { options.ports }
}

public enum StageOptions: Sendable, Equatable {
    case decode(DecodeOptions)
    case detect(DetectOptions)
    case track(TrackOptions)
    case pose(PoseOptions)
    case flow(FlowOptions)
    case classify(ClassifyOptions)
    case smooth(SmoothOptions)

    public var kind: StageKind {
        switch self {
        case .decode: return .decode
        case .detect: return .detect
        case .track: return .track
        case .pose: return .pose
        case .flow: return .flow
        case .classify: return .classify
        case .smooth: return .smooth
        }
    }

    public var ports: StagePorts {
        switch self {
        case .decode: return StagePorts(takes: [], gives: [.frames])
        case .detect: return StagePorts(takes: [.frames], gives: [.detections])
        case .track: return StagePorts(takes: [.frames, .detections], gives: [.tracks])
        case .pose: return StagePorts(takes: [.frames, .detections], gives: [.poses])
        case .flow: return StagePorts(takes: [.frames], gives: [.flow])
        case let .classify(options): return options.ports
        case .smooth: return StagePorts(takes: [.clipScores], gives: [.segments])
        }
    }

    /// The model name the stage uses, if it uses one.
    public var modelName: String? {
        switch self {
        case let .detect(options): return options.model
        case let .track(options): return options.model
        case let .pose(options): return options.model
        case let .classify(options): return options.model
        case .decode, .flow, .smooth: return nil
        }
    }
}

/// Decodes the source and samples frames at a fixed rate and size. Must be the first stage.
///
/// ```yaml
/// - decode:
///     fps: 15            # frames per second taken from the source (0 < fps <= 240); default 15
///     size: 320x240      # working size of frames for every later stage; default 320x240
///     resize: letterbox  # stretch | crop | letterbox; default letterbox (keeps the whole picture)
/// ```
/// Takes nothing; gives `frames`.
public struct DecodeOptions: Sendable, Equatable {
    public var fps: Double = 15
    public var size = PixelSize(width: 320, height: 240)
    public var resize: ResizeMode = .letterbox
    public init() {}
}

/// Finds people: boxes (and, from a pose-format detector, keypoints) per frame, in source-video pixels.
///
/// ```yaml
/// - detect:
///     model: person      # required: a name under `models:` whose card has kind detector
///     threshold: 0.5     # minimum class score of a box, 0...1; default 0.5
///     iou: 0.6           # non-maximum suppression: a box overlapping a better one by more is dropped, 0...1;
///                        # default 0.6
///     max: 100           # most boxes kept per frame (>= 1); default 100
///     classes: [person]  # detector labels kept (names from the card's labels file); default [person]
///     agnostic: false    # suppress overlapping boxes across classes too; default false (per class)
/// ```
/// Takes `frames`; gives `detections`.
public struct DetectOptions: Sendable, Equatable {
    public var model: String
    public var threshold: Double = 0.5
    public var iou: Double = 0.6
    public var maxDetections = 100
    public var classes = ["person"]
    public var agnostic = false
    public init(model: String) { self.model = model }
}

/// Follows people across frames, giving each a stable track id.
///
/// ```yaml
/// - track:
///     kind: siamese      # siamese (boxes + appearance, needs a tracker model) | iou (boxes only); default siamese
///     model: tracker     # required for siamese: a name under `models:` whose card has kind tracker
///     high: 0.5          # detections at or above this score are matched first and may start tracks; default 0.5
///     low: 0.1           # detections from `low` up to `high` only extend confirmed tracks; default 0.1
///     start: 0.6         # score a detection needs to start a track (>= high); default 0.6
///     iou: 0.3           # box overlap that lets a track and a detection match on boxes alone, 0...1; default 0.3
///     confirm: 2         # matched frames in a row before a new track is confirmed (>= 1); default 2
///     max_lost: 30       # frames a track lives without a detection before it is removed (>= 0); default 30
///     appearance: 0.5    # siamese: weight of the appearance response in the matching score, 0...1; default 0.5
///     refind: 0.8        # siamese: response probability that re-finds a lost track away from its predicted box,
///                        # or follows a person the detector missed, 0...1; default 0.8
/// ```
/// Takes `frames`, `detections`; gives `tracks`.
public struct TrackOptions: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case siamese, iou
    }
    public var kind: Kind = .siamese
    public var model: String?
    public var high: Double = 0.5
    public var low: Double = 0.1
    public var start: Double = 0.6
    public var iou: Double = 0.3
    public var confirm = 2
    public var maxLost = 30
    public var appearance: Double = 0.5
    public var refind: Double = 0.8
    public init() {}
}

/// Keypoints for each detected person. The model is the `detect` stage's own when its card has
/// `format: ultralytics-pose` (the keypoints come with the boxes, nothing runs twice); top-down pose models
/// (card `kind: pose`, on person crops) are parsed and checked but not run by this build.
///
/// ```yaml
/// - pose:
///     model: pose        # required: a name under `models:` (a pose-format detector, or a card of kind pose)
///     threshold: 0.3     # minimum keypoint score to count as visible, 0...1; default 0.3
/// ```
/// Takes `frames`, `detections`; gives `poses`.
public struct PoseOptions: Sendable, Equatable {
    public var model: String
    public var threshold: Double = 0.3
    public init(model: String) { self.model = model }
}

/// Dense optical flow between consecutive sampled frames, for two-stream classifiers.
///
/// ```yaml
/// - flow:
///     method: dis        # dis | farneback; default dis
///     preset: fast       # DIS only: ultrafast | fast | medium; default fast. Must equal a two-stream card's
///                        # `flow.preset` when the card names one (the flow its net was trained on)
///     size: 160x120      # size flow is computed at; default: the decode size
///     bound: 20          # optional: must equal the flow bound of every two-stream model card if given
/// ```
/// Takes `frames`; gives `flow`.
public struct FlowOptions: Sendable, Equatable {
    public typealias Method = FlowMethod
    public typealias Preset = DISPreset
    public var method: Method = .dis
    public var preset: Preset = .fast
    public var size: PixelSize?
    public var bound: Double?
    public init() {}
}

/// Classifier family. Usually taken from the model card; writing it in the config documents (and checks) it.
public enum ClassifierKind: String, Sendable, Equatable, CaseIterable {
    /// One 3D-CNN on a T×H×W clip (NCTHW or NTCHW input).
    case threeD = "3d"
    /// An RGB 2D CNN on sampled frames plus a flow 2D CNN on stacked flow, late fusion.
    case twoStream = "two-stream"
    /// A per-frame CNN feature and a recurrent head over the sequence (one graph, or encoder + head).
    case cnnRNN = "cnn-rnn"
    /// A single-frame 2D CNN, scores averaged over the clip (a baseline).
    case twoD = "2d"
}

/// What a classifier's clips are cut from.
public enum ClassifyScope: String, Sendable, Equatable, CaseIterable {
    /// The whole frame (no detector needed).
    case frame
    /// Each track's person-centred crops; events carry the track id.
    case track
}

/// What happens to the frames left over at the end of a stream (or of a lost track) that do not fill a clip.
public enum PartialClipRule: String, Sendable, Equatable, CaseIterable {
    /// Pad the clip by repeating its last frame, and classify it.
    case pad
    /// Drop the leftover frames.
    case drop
}

/// Classifies clips of T frames (card `kind: 3d | two-stream | cnn-rnn | 2d`).
///
/// ```yaml
/// - classify:
///     model: actions     # required: a name under `models:` whose card is a classifier
///     kind: 3d           # 3d | two-stream | cnn-rnn | 2d; default: the card's kind (must match it if given)
///     per: frame         # frame (whole frame) | track (each tracked person); default frame
///     clip: 16           # frames per clip; default: the card's `input.frames` (must match it if given)
///     stride: 8          # frames between the starts of consecutive clips (>= 1); default: half the clip
///     partial: pad       # pad | drop: the last clip that does not fill; default pad
///     segments: 1        # TSN consensus (two-stream only): the clip is cut into this many equal runs, each
///                        # classified, their scores averaged (>= 1); default 1
/// ```
/// Takes `frames` (+ `flow` for two-stream, + `tracks` with `per: track`); gives `clipScores`.
public struct ClassifyOptions: Sendable, Equatable {
    public var model: String
    /// Effective kind: the config's if written, else the card's (filled in by the loader).
    public var kind: ClassifierKind = .threeD
    public var per: ClassifyScope = .frame
    /// Effective clip length: the config's if written, else the card's `input.frames`.
    public var clip = 16
    public var stride = 8
    public var partial: PartialClipRule = .pad
    public var segments = 1
    public init(model: String) { self.model = model }

    public var ports: StagePorts {
        var takes: [StreamKind] = [.frames]
        if kind == .twoStream { takes.append(.flow) }
        if per == .track { takes.append(.tracks) }
        return StagePorts(takes: takes, gives: [.clipScores])
    }
}

/// Turns per-clip scores into action segments: moving average, enter/exit hysteresis, minimum length.
///
/// ```yaml
/// - smooth:
///     window: 3          # clips in the moving average of scores (>= 1); default 3
///     enter: 0.6         # smoothed score at which a segment opens, 0...1; default 0.6
///     exit: 0.4          # smoothed score below which it closes, 0...enter; default 0.4
///     min_length: 0      # seconds; shorter segments are dropped (>= 0); default 0
///     ignore: [idle]     # labels never reported (e.g. a background class); default none
/// ```
/// Takes `clipScores`; gives `segments`.
public struct SmoothOptions: Sendable, Equatable {
    public var window = 3
    public var enter: Double = 0.6
    public var exit: Double = 0.4
    public var minLength: Double = 0
    public var ignore: [String] = []
    public init() {}
}
