// The `classify` stage (whole-frame mode): cuts frames into clips and scores each with the card's classifier
// kind — a 3D-CNN, a two-stream pair with late fusion and TSN consensus, or a CNN+RNN (one graph, or an
// encoder run once per frame with cached features and a recurrent head).
import Foundation
import Inference
import ONNX
import Pipeline
import Tensor

/// One compiled graph with the input and output the card names (or the graph's only ones).
public final class GraphRunner: @unchecked Sendable {
    public let path: String
    public let session: Session
    public let input: String
    public let output: String

    /// Compiles `path` for one sample of `shape` (batch 1 prepended) on input `inputName` (nil: the only one).
    public init(path: String, inputName: String?, outputName: String?, shape: [Int]) throws {
        let model = try ONNXModel(contentsOf: path)
        let inputs = model.graph.inputs.filter { model.graph.initializers[$0.name] == nil }.map(\.name)
        guard let input = inputName ?? (inputs.count == 1 ? inputs[0] : nil), inputs.contains(input) else {
            throw StagesError.card(path, "cannot tell which input to feed (inputs: \(inputs.joined(separator: ", ")))")
        }
        let outputs = model.graph.outputs.map(\.name)
        guard let output = outputName ?? (outputs.count == 1 ? outputs[0] : nil), outputs.contains(output) else {
            throw StagesError.card(path, "cannot tell which output to read (outputs: "
                                   + "\(outputs.joined(separator: ", ")))")
        }
        self.path = path
        self.input = input
        self.output = output
        session = try model.makeSession(options: SessionOptions(inputShapes: [input: [1] + shape], modelPath: path))
    }

    /// Runs one sample (no batch dimension) and returns the output's values.
    public func run(_ sample: Tensor) throws -> Tensor {
        let results = try session.run([input: Preprocess.batched(sample)])
        return results[output]!
    }
}

/// Scores clips with the card's classifier kind. Holds the compiled graphs and the cnn-rnn feature cache.
public final class ClipClassifier: @unchecked Sendable {
    public let card: ModelCard
    public let kind: ClassifierKind
    public let segments: Int
    private var main: GraphRunner?
    private var flowNet: GraphRunner?
    private var encoder: GraphRunner?
    private var head: GraphRunner?
    /// Encoder features by frame time: overlapping clips share frames, so each frame is encoded once.
    private var featureCache: [Double: [Float]] = [:]
    /// Preprocessed frames by frame time, for the same reason (3d and one-graph cnn-rnn).
    private var frameCache: [Double: Planes] = [:]
    public private(set) var encoderRuns = 0
    /// Every tensor fed to a graph in the last `scores` call, by role (tests compare them with `dataset`'s).
    public private(set) var lastFeeds: [(role: GraphRole, tensor: Tensor)] = []

    public init(card: ModelCard, kind: ClassifierKind? = nil, segments: Int = 1) throws {
        self.card = card
        self.kind = kind ?? card.kind.classifierKind ?? .threeD
        self.segments = segments
        let input = card.input, size = [input.size.height, input.size.width]
        switch self.kind {
        case .threeD, .cnnRNN:
            if let encoderCard = card.encoder, let headCard = card.head {
                encoder = try GraphRunner(path: encoderCard.onnx, inputName: input.name,
                                          outputName: encoderCard.output, shape: [3] + size)
                let probe = try encoder!.run(Tensor(zeros: [3] + size))
                let features = probe.count
                head = try GraphRunner(path: headCard.onnx, inputName: headCard.input, outputName: card.output.name,
                                       shape: [input.frames, features])
            } else {
                guard let onnx = card.onnx else { throw StagesError.card(card.path, "no `onnx` graph") }
                let shape = input.layout == .ncthw ? [3, input.frames] + size : [input.frames, 3] + size
                main = try GraphRunner(path: onnx, inputName: input.name, outputName: card.output.name, shape: shape)
            }
        case .twoStream:
            guard let onnx = card.onnx, let flow = card.flow else {
                throw StagesError.card(card.path, "a two-stream card needs `onnx` and `flow`")
            }
            main = try GraphRunner(path: onnx, inputName: input.name, outputName: card.output.name,
                                   shape: [3] + size)
            flowNet = try GraphRunner(path: flow.onnx, inputName: flow.input, outputName: card.output.name,
                                      shape: [2 * flow.stack] + size)
        case .twoD:
            guard let onnx = card.onnx else { throw StagesError.card(card.path, "no `onnx` graph") }
            main = try GraphRunner(path: onnx, inputName: input.name, outputName: card.output.name,
                                   shape: [3] + size)
        }
    }

    /// The graph output as probabilities, checked against the labels.
    private func probabilities(_ output: Tensor, model: String) throws -> [Float] {
        let values = output.floats
        guard values.count == card.labels.count else {
            throw StagesError.output(model: model, expected: card.labels.count, got: values.count)
        }
        return Preprocess.probabilities(values, kind: card.output.kind)
    }

    /// Scores (probabilities, one per label) of one clip of exactly `card.input.frames` frames (3d, cnn-rnn) or
    /// of any length (two-stream).
    public func scores(_ items: [Timestamped<FrameRecord>]) throws -> [Float] {
        lastFeeds = []
        switch kind {
        case .twoStream:
            let weight = Float(card.flow?.weight ?? 0.5)
            var sum = [Float](repeating: 0, count: card.labels.count)
            let pairs = try ClipInputs.twoStream(items, card: card, segments: segments)
            for pair in pairs {
                lastFeeds += [(.main, pair.rgb), (.flow, pair.flow)]
                let rgb = try probabilities(main!.run(pair.rgb), model: main!.path)
                let flow = try probabilities(flowNet!.run(pair.flow), model: flowNet!.path)
                for i in sum.indices { sum[i] += (1 - weight) * rgb[i] + weight * flow[i] }
            }
            // TSN consensus: the average over segments.
            return sum.map { $0 / Float(pairs.count) }
        case .threeD, .cnnRNN:
            if let encoder, let head {
                let oldest = items.first?.time ?? 0
                featureCache = featureCache.filter { $0.key >= oldest }
                var features: [Float] = []
                var width = 0
                for item in items {
                    if let cached = featureCache[item.time] {
                        features += cached
                        width = cached.count
                        continue
                    }
                    let frame = Preprocess.clipTensor([Preprocess.frame(item.value.image, card: card)],
                                                      layout: .nchw)
                    lastFeeds.append((.encoder, frame))
                    let output = try encoder.run(frame).floats
                    encoderRuns += 1
                    featureCache[item.time] = output
                    features += output
                    width = output.count
                }
                let sequence = Tensor(shape: [items.count, width], floats: features)
                lastFeeds.append((.head, sequence))
                return try probabilities(head.run(sequence), model: head.path)
            }
            // The same frames `ClipInputs.clip` preprocesses, each once per stream instead of once per clip.
            let oldest = items.first?.time ?? 0
            frameCache = frameCache.filter { $0.key >= oldest }
            let frames = items.map { item -> Planes in
                if let cached = frameCache[item.time] { return cached }
                let planes = Preprocess.frame(item.value.image, card: card)
                frameCache[item.time] = planes
                return planes
            }
            let clip = Preprocess.clipTensor(frames, layout: card.input.layout)
            lastFeeds.append((.main, clip))
            return try probabilities(main!.run(clip), model: main!.path)
        case .twoD:
            // The single-frame baseline: every frame's probabilities (each frame run once per stream), averaged.
            let oldest = items.first?.time ?? 0
            featureCache = featureCache.filter { $0.key >= oldest }
            var sum = [Float](repeating: 0, count: card.labels.count)
            for item in items {
                let probabilities: [Float]
                if let cached = featureCache[item.time] {
                    probabilities = cached
                } else {
                    let frame = Preprocess.clipTensor([Preprocess.frame(item.value.image, card: card)],
                                                      layout: .nchw)
                    lastFeeds.append((.main, frame))
                    probabilities = try self.probabilities(main!.run(frame), model: main!.path)
                    featureCache[item.time] = probabilities
                }
                for i in sum.indices { sum[i] += probabilities[i] }
            }
            return sum.map { $0 / Float(items.count) }
        }
    }
}

/// The classify stage: frames in, per-clip scores out.
public struct ClassifyStage: Stage {
    public typealias Input = FrameRecord
    public typealias Output = ClipScores
    public let name = "classify"
    public let classifier: ClipClassifier
    private var windower: ClipWindower<FrameRecord>

    /// The clip cut for a card and the stage's options (dataset windows are cut the same way).
    public static func windowing(card: ModelCard, options: ClassifyOptions) -> ClipWindowing {
        ClipWindowing(length: options.clip, sampling: card.input.stride, stride: options.stride,
                      partial: options.partial)
    }

    public init(card: ModelCard, options: ClassifyOptions) throws {
        guard options.segments == 1 || options.kind == .twoStream else {
            throw StagesError.unsupported("`segments: \(options.segments)` (TSN consensus) applies to two-stream "
                                          + "classifiers only; remove it for kind `\(options.kind.rawValue)`")
        }
        guard options.per == .frame else {
            throw StagesError.unsupported("`classify` with `per: track` is not supported: this build has no person "
                                          + "detection or tracking; use `per: frame` for whole-frame clips")
        }
        classifier = try ClipClassifier(card: card, kind: options.kind, segments: options.segments)
        windower = ClipWindower(Self.windowing(card: card, options: options))
    }

    public mutating func process(_ input: Timestamped<FrameRecord>, emit: Emit<ClipScores>) async throws {
        if let clip = windower.push(input) { try await emit(score(clip)) }
    }

    public mutating func finish(emit: Emit<ClipScores>) async throws {
        if let clip = windower.finish() { try await emit(score(clip)) }
    }

    private func score(_ clip: Clip<FrameRecord>) throws -> Timestamped<ClipScores> {
        let scores = try classifier.scores(clip.items)
        return Timestamped(ClipScores(start: clip.start, end: clip.end, scores: scores), at: clip.start,
                           duration: clip.end - clip.start)
    }
}
