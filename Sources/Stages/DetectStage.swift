// The `detect` and `pose` stages: a detector card's graph run on every frame (letterboxed or stretched as the
// card says), its rows decoded and suppressed as Ultralytics does (Vision), and the boxes and keypoints mapped
// back through the model's input geometry and the decoder's resize transform into source-video pixels.
// A pose-format detector gives keypoints with its boxes; the `pose` stage then hands them on (nothing runs twice).
import Foundation
import Media
import ONNX
import Pipeline
import Tensor
import Vision

/// A detector card's graph, compiled once for the card's input and checked against its declared row format.
public final class CompiledDetector: Sendable {
    public let card: ModelCard
    public let model: String
    public let format: HeadFormat
    /// Candidate boxes per frame (the output's last axis).
    public let anchors: Int
    let graph: CompiledGraph

    /// Compiles (or takes from `store`) the card's graph for one [3, H, W] frame and checks that its output has
    /// the shape `output.format` promises; throws `StagesError.card` naming the card when it does not.
    public init(card: ModelCard, model: String? = nil, store: ModelStore = ModelStore()) throws {
        self.card = card
        self.model = model ?? card.name
        guard let onnx = card.onnx, let declared = card.output.format else {
            throw StagesError.card(card.path, "a detector card needs `onnx` and `output.format`")
        }
        let size = card.input.size
        graph = try store.graph(model: self.model, path: onnx, input: card.input.name, output: card.output.name,
                                shape: [3, size.height, size.width])
        let classes = card.labels.count
        do {
            format = declared == .ultralyticsPose
                ? try HeadFormat.pose(keypoints: card.output.keypoints, dimensions: card.output.keypointValues,
                                      classes: classes)
                : try HeadFormat.detect(classes: classes)
        } catch {
            throw StagesError.card(card.path, "\(error)")
        }
        // The output's shape is known once the graph has run: one run on a grey frame.
        let shape = try graph.makeRunner().run(Tensor(zeros: [3, size.height, size.width])).shape
        do {
            anchors = try format.anchorCount(ofShape: shape)
        } catch {
            throw StagesError.card(card.path, "output `\(graph.output)` of \(onnx) does not fit `format: "
                                   + "\(declared.rawValue)` with \(classes) class\(classes == 1 ? "" : "es") "
                                   + "(labels file) : \(error)")
        }
    }

    /// The class indices of `names` in the card's labels (names the config check already found there).
    func classIndices(_ names: [String]) -> [Int] { names.compactMap { card.labels.firstIndex(of: $0) } }
}

/// Finds people on every frame: one run of the detector per frame, boxes (and keypoints) in source pixels.
public struct DetectStage: Stage {
    public typealias Input = Image
    public typealias Output = [Detection]
    public let name = "detect"
    public let detector: CompiledDetector
    let runner: GraphRunner
    var decoder: DetectionDecoder

    public init(_ detector: CompiledDetector, options: DetectOptions) {
        self.detector = detector
        runner = detector.graph.makeRunner()
        decoder = DetectionDecoder(format: detector.format, settings: NMSSettings(
            confidence: Float(options.threshold), iou: options.iou, agnostic: options.agnostic,
            classes: detector.classIndices(options.classes), maxDetections: options.maxDetections))
    }

    public mutating func process(_ input: Timestamped<Image>, emit: Emit<[Detection]>) async throws {
        try await emit(Timestamped(try detect(input.value), at: input.time, duration: input.duration))
    }

    /// The people on one frame, best first, in source-video pixels.
    public mutating func detect(_ image: Image) throws -> [Detection] {
        let card = detector.card
        let planes = Preprocess.frame(image, card: card)
        let output = try runner.run(Tensor(shape: [3, planes.height, planes.width], floats: planes.values))
        let geometry = InputGeometry.fitting(card.input.resize == .letterbox ? .letterbox : .stretch,
                                             source: PixelSize(width: image.width, height: image.height),
                                             input: card.input.size)
        let found = try decoder.decode(output.floatValues, shape: output.shape, geometry: geometry)
        return Self.toSource(found, transform: image.transform)
    }

    /// Detections in decoded-frame pixels (where the decoder's input geometry put them) → source-video pixels,
    /// through the frame's resize transform (crop, letterbox or stretch, after the display rotation).
    public static func toSource(_ detections: [Detection], transform: ResizeTransform) -> [Detection] {
        detections.map { detection in
            var d = detection
            let (x0, y0) = transform.toSource(x: d.box.x, y: d.box.y)
            let (x1, y1) = transform.toSource(x: d.box.x + d.box.width, y: d.box.y + d.box.height)
            d.box = PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
            d.keypoints = d.keypoints.map { k in
                let (x, y) = transform.toSource(x: k.x, y: k.y)
                return Keypoint(x: x, y: y, score: k.score)
            }
            return d
        }
    }
}

/// Hands on the keypoints a pose-format detector found with its boxes (the `pose` stage's model is the detect
/// stage's own): takes frames and detections, gives the same people as poses.
public struct PoseFromDetectorStage: GraphStage {
    public let name = "pose"
    public let inputs = [StreamPorts.frames.erased, StreamPorts.detections.erased]
    public let outputs = [StreamPorts.poses.erased]

    public init() {}

    public mutating func process(_ input: PortInputs, emit: PortEmitter) async throws {
        try await emit.emit(StreamPorts.poses, input.timestamped(try input.value(StreamPorts.detections)))
    }
}
