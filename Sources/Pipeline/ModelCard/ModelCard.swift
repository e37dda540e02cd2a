// Model cards: the YAML beside each .onnx that says how to feed the network and read its output. The card,
// not the code, defines preprocessing, so one model runs the same way in training, `classify` and the daemon.
import Foundation

/// What a model is for. Classifier kinds match `ClassifierKind`; the rest serve detect/pose/track stages.
public enum ModelKind: String, Sendable, Equatable, CaseIterable {
    case threeD = "3d"
    case twoStream = "two-stream"
    case cnnRNN = "cnn-rnn"
    case twoD = "2d"
    case detector
    case pose
    case tracker

    public var classifierKind: ClassifierKind? { ClassifierKind(rawValue: rawValue) }
}

/// Memory order of a network's input tensor. N batch, C channels, T time, H height, W width.
public enum TensorLayout: String, Sendable, Equatable, CaseIterable {
    case nchw = "NCHW"
    case ncthw = "NCTHW"
    case ntchw = "NTCHW"

    public var rank: Int { self == .nchw ? 4 : 5 }
    /// Axis letters in order, e.g. ["N", "C", "T", "H", "W"].
    public var axes: [Character] { Array(rawValue) }
}

public enum ColourOrder: String, Sendable, Equatable, CaseIterable {
    case rgb, bgr
}

/// The range pixels are brought to before `(x - mean) / std`.
public enum PixelRange: String, Sendable, Equatable, CaseIterable {
    /// 0...1 (divide bytes by 255): torchvision-style mean/std such as 0.45.
    case unit
    /// 0...255 as decoded: MMAction2/OpenCV-style mean/std such as 123.675.
    case byte
}

/// How a detector's output rows are laid out (`output.format`).
public enum DetectionFormat: String, Sendable, Equatable, CaseIterable {
    /// Ultralytics YOLOv8 / YOLO11 detect export: `(1, 4 + C, N)` = cx, cy, w, h in input pixels, then C class
    /// scores (sigmoid applied, no objectness).
    case ultralyticsDetect = "ultralytics-detect"
    /// Ultralytics pose export: `(1, 4 + C + K × D, N)` = box, C class scores, then K keypoints × (x, y[, score]).
    case ultralyticsPose = "ultralytics-pose"

    public var hasKeypoints: Bool { self == .ultralyticsPose }
}

public enum OutputKind: String, Sendable, Equatable, CaseIterable {
    case logits, probabilities, detections, heatmaps, features

    /// Outputs that are one score per label and so need a labels file.
    public var isScores: Bool { self == .logits || self == .probabilities }
}

/// A validated model card.
///
/// ```yaml
/// # actions-r3d.yaml, beside actions-r3d.onnx
/// kind: 3d                     # 3d | two-stream | cnn-rnn | 2d | detector | pose | tracker (required)
/// name: actions-r3d            # default: the card's file name without .yaml
/// onnx: actions-r3d.onnx       # the graph, relative to the card (required unless cnn-rnn uses encoder + head)
/// input:
///   name: clip                 # graph input to feed; default: the graph's only input
///   layout: NCTHW              # NCHW | NCTHW | NTCHW (required)
///   frames: 16                 # frames per clip: required for 3d and cnn-rnn; default 1 otherwise
///   stride: 1                  # sampling stride: every stride-th decoded frame goes into the clip; default 1
///   fps: 15                    # optional: rate of the clip's frames in training; checked against decode fps / stride
///   size: 112x112              # WIDTHxHEIGHT (required)
///   resize: crop               # stretch | crop | letterbox; default crop
///   mean: [0.43216, 0.394666, 0.37645]   # per channel, in `pixels` units; default [0, 0, 0]
///   std: [0.22803, 0.22145, 0.216989]    # per channel, > 0; default [1, 1, 1]
///   colour: rgb                # rgb | bgr; default rgb
///   pixels: unit               # unit (0...1) | byte (0...255); default unit
///   fill: 114                  # letterbox bars, 0...255 in every channel (before scaling); default 114 for
///                              # detector and pose cards (as Ultralytics pads), 0 otherwise
/// output:
///   name: logits               # graph output to read; default: the graph's only output
///   kind: logits               # logits | probabilities | detections | heatmaps | features (required)
///   labels: labels.txt         # one label per line, relative to the card; required for logits/probabilities,
///                              # and for detections (the class names, in output order)
///   format: ultralytics-pose   # detections only (required there): ultralytics-detect | ultralytics-pose
///   keypoints: 17              # ultralytics-pose: keypoints per person (COCO order when 17); default 17
///   keypoint_values: 3         # ultralytics-pose: values per keypoint, 3 (x, y, score) or 2 (x, y); default 3
/// flow:                        # two-stream only (required there): the flow network
///   onnx: actions-flow.onnx    # required
///   input: flow                # graph input; default: the graph's only input
///   bound: 20                  # flow clipped to ±bound pixels before scaling to the network's range (> 0)
///   stack: 10                  # consecutive flow fields stacked: the net takes 2 × stack channels (>= 1)
///   weight: 0.5                # fusion: final = (1 - weight) × rgb + weight × flow, 0...1; default 0.5
/// encoder:                     # cnn-rnn split form (instead of `onnx`): per-frame CNN, run once per frame, cached
///   onnx: actions-encoder.onnx
///   output: features           # default: the graph's only output
/// head:                        # ... and the recurrent head over the cached features ([N, T, F] input)
///   onnx: actions-head.onnx
///   input: features            # default: the graph's only input
/// siamese:                     # tracker only (required there): one backbone for exemplar and search crops,
///                              # `input.size` is the exemplar crop (square); the graph's H and W are symbolic
///   search: 128                # search crop side in pixels (> exemplar side)
///   stride: 8                  # total stride of the backbone: response cells are this many search pixels apart
///   context: 0.5               # context margin p = context × (w + h) around the box; default 0.5
///   scale: 0.001               # response = scale × correlation + bias, a logit (sigmoid: probability)
///   bias: 0                    # default 0
/// ```
public struct ModelCard: Sendable, Equatable {
    /// The card file path as it was reached (config-relative paths joined to the config's folder).
    public var path: String
    public var name: String
    public var kind: ModelKind
    /// Resolved path of the main graph (the RGB net for two-stream); nil for split cnn-rnn.
    public var onnx: String?
    public var input: Input
    public var output: Output
    /// Labels from the labels file, in output order (empty for non-score outputs).
    public var labels: [String]
    public var flow: FlowStream?
    public var encoder: Encoder?
    public var head: Head?
    public var siamese: Siamese?
    /// Positions of the card's fields ("input.size", "output.kind", ...) for errors found later.
    public var locations: [String: ConfigLocation]

    public struct Input: Sendable, Equatable {
        public var name: String?
        public var layout: TensorLayout
        public var frames: Int
        public var stride: Int = 1
        public var fps: Double?
        public var size: PixelSize
        public var resize: ResizeMode = .crop
        public var mean: [Double] = [0, 0, 0]
        public var std: [Double] = [1, 1, 1]
        public var colour: ColourOrder = .rgb
        public var pixels: PixelRange = .unit
        /// Value of letterbox bars in every channel, 0...255, before scaling and normalisation.
        public var fill: Double = 0
    }

    public struct Output: Sendable, Equatable {
        public var name: String?
        public var kind: OutputKind
        /// Resolved path of the labels file.
        public var labelsFile: String?
        /// Row layout of a `detections` output; nil for every other kind.
        public var format: DetectionFormat?
        /// Keypoints per detection and values per keypoint (`ultralytics-pose`); 0 keypoints otherwise.
        public var keypoints: Int = 0
        public var keypointValues: Int = 3
    }

    public struct FlowStream: Sendable, Equatable {
        public var onnx: String
        public var input: String?
        public var bound: Double
        public var stack: Int
        public var weight: Double = 0.5
        /// The DIS preset of the flow the net was trained on, when the card names one; the pipeline's `flow`
        /// stage must then compute the same (finer presets resolve thinner, smaller motions).
        public var preset: FlowOptions.Preset?
    }

    public struct Encoder: Sendable, Equatable {
        public var onnx: String
        public var output: String?
    }

    public struct Head: Sendable, Equatable {
        public var onnx: String
        public var input: String?
    }

    /// A Siamese tracker's crops and response (the exemplar side is `input.size`).
    public struct Siamese: Sendable, Equatable {
        public var search: Int
        public var stride: Int
        public var context: Double = 0.5
        public var scale: Double
        public var bias: Double = 0
    }

    /// Every ONNX file the card needs, with its role, in the order the stages load them.
    public var graphs: [(role: GraphRole, path: String)] {
        var result: [(GraphRole, String)] = []
        if let onnx { result.append((.main, onnx)) }
        if let flow { result.append((.flow, flow.onnx)) }
        if let encoder { result.append((.encoder, encoder.onnx)) }
        if let head { result.append((.head, head.onnx)) }
        return result
    }

    public static func == (a: ModelCard, b: ModelCard) -> Bool {
        a.path == b.path && a.name == b.name && a.kind == b.kind && a.onnx == b.onnx && a.input == b.input
            && a.output == b.output && a.labels == b.labels && a.flow == b.flow && a.encoder == b.encoder
            && a.head == b.head && a.siamese == b.siamese
    }
}

/// Which graph of a card: the main (or RGB) net, the flow net, or the cnn-rnn encoder / head.
public enum GraphRole: String, Sendable, Equatable {
    case main, flow, encoder, head
}
