// The `classify` stage: cuts frames into clips (the whole frame, or per track the tube of the track's boxes) and
// scores each with the card's classifier kind — a 3D-CNN, a two-stream pair with late fusion and TSN consensus,
// or a CNN+RNN (one graph, or an encoder run once per frame with cached features and a recurrent head). The
// graphs are compiled once per process (`CompiledClassifier`); each run gets its own buffers and caches.
import Foundation
import Inference
import Media
import ONNX
import Pipeline
import Tensor

/// A card's classifier graphs, compiled once and shared by every run that uses them.
public final class CompiledClassifier: Sendable {
    public let card: ModelCard
    public let kind: ClassifierKind
    let main: CompiledGraph?
    let flowNet: CompiledGraph?
    let encoder: CompiledGraph?
    let head: CompiledGraph?

    /// Compiles (or takes from `store`) every graph the card's kind runs, each for the card's input size.
    /// `model` names the graphs in the store's compilation count.
    public init(card: ModelCard, kind: ClassifierKind? = nil, model: String? = nil, store: ModelStore = ModelStore())
        throws
    {
        self.card = card
        self.kind = kind ?? card.kind.classifierKind ?? .threeD
        let name = model ?? card.name
        let input = card.input, size = [input.size.height, input.size.width]
        func compile(_ path: String, _ inputName: String?, _ outputName: String?, _ shape: [Int]) throws
            -> CompiledGraph
        {
            try store.graph(model: name, path: path, input: inputName, output: outputName, shape: shape)
        }
        var main: CompiledGraph?, flowNet: CompiledGraph?, encoder: CompiledGraph?, head: CompiledGraph?
        switch self.kind {
        case .threeD, .cnnRNN:
            if let encoderCard = card.encoder, let headCard = card.head {
                let compiledEncoder = try compile(encoderCard.onnx, input.name, encoderCard.output, [3] + size)
                let features = try compiledEncoder.makeRunner().run(Tensor(zeros: [3] + size)).count
                encoder = compiledEncoder
                head = try compile(headCard.onnx, headCard.input, card.output.name, [input.frames, features])
            } else {
                guard let onnx = card.onnx else { throw StagesError.card(card.path, "no `onnx` graph") }
                let shape = input.layout == .ncthw ? [3, input.frames] + size : [input.frames, 3] + size
                main = try compile(onnx, input.name, card.output.name, shape)
            }
        case .twoStream:
            guard let onnx = card.onnx, let flow = card.flow else {
                throw StagesError.card(card.path, "a two-stream card needs `onnx` and `flow`")
            }
            main = try compile(onnx, input.name, card.output.name, [3] + size)
            flowNet = try compile(flow.onnx, flow.input, card.output.name, [2 * flow.stack] + size)
        case .twoD:
            guard let onnx = card.onnx else { throw StagesError.card(card.path, "no `onnx` graph") }
            main = try compile(onnx, input.name, card.output.name, [3] + size)
        }
        (self.main, self.flowNet, self.encoder, self.head) = (main, flowNet, encoder, head)
    }

    /// Every compiled graph (for the store: what a config still uses).
    public var graphs: [CompiledGraph] { [main, flowNet, encoder, head].compactMap { $0 } }
}

/// Scores clips with the card's classifier kind for one run: runners with their own buffers over the shared
/// compiled graphs, and the caches that let overlapping clips share work, keyed by (track, frame time, crop).
public final class ClipClassifier: @unchecked Sendable {
    public let compiled: CompiledClassifier
    public var card: ModelCard { compiled.card }
    public var kind: ClassifierKind { compiled.kind }
    public let segments: Int
    private let main: GraphRunner?
    private let flowNet: GraphRunner?
    private let encoder: GraphRunner?
    private let head: GraphRunner?

    /// One frame of one track (nil: the whole frame) as cut for one crop.
    private struct FrameKey: Hashable {
        var track: Int?
        var time: Double
        var region: PixelRect?
    }

    /// Encoder features (cnn-rnn split) or per-frame probabilities (2d): overlapping clips share frames, so each
    /// frame is run once.
    private var featureCache: [FrameKey: [Float]] = [:]
    /// Preprocessed frames, for the same reason (3d and one-graph cnn-rnn).
    private var frameCache: [FrameKey: Planes] = [:]
    public private(set) var encoderRuns = 0
    /// Every tensor fed to a graph in the last `scores` call, by role (tests compare them with `dataset`'s).
    public private(set) var lastFeeds: [(role: GraphRole, tensor: Tensor)] = []

    public init(_ compiled: CompiledClassifier, segments: Int = 1) {
        self.compiled = compiled
        self.segments = segments
        main = compiled.main?.makeRunner()
        flowNet = compiled.flowNet?.makeRunner()
        encoder = compiled.encoder?.makeRunner()
        head = compiled.head?.makeRunner()
    }

    /// Compiles the card's graphs for this classifier alone (tools and tests; pipelines share them).
    public convenience init(card: ModelCard, kind: ClassifierKind? = nil, segments: Int = 1) throws {
        self.init(try CompiledClassifier(card: card, kind: kind), segments: segments)
    }

    /// A track ended: its cached frames are released.
    public func forget(track: Int) {
        featureCache = featureCache.filter { $0.key.track != track }
        frameCache = frameCache.filter { $0.key.track != track }
    }

    /// Drops cached entries of `track` older than `oldest` (the clip's first frame: clips only move forward).
    private func prune(track: Int?, before oldest: Double) {
        featureCache = featureCache.filter { $0.key.track != track || $0.key.time >= oldest }
        frameCache = frameCache.filter { $0.key.track != track || $0.key.time >= oldest }
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
    /// of any length (two-stream). A track's clip is cut from `region` of each frame (its person square).
    public func scores(_ items: [Timestamped<FrameRecord>], track: Int? = nil, region: PixelRect? = nil) throws
        -> [Float]
    {
        lastFeeds = []
        prune(track: track, before: items.first?.time ?? 0)
        func key(_ item: Timestamped<FrameRecord>) -> FrameKey { FrameKey(track: track, time: item.time, region: region) }
        switch kind {
        case .twoStream:
            let weight = Float(card.flow?.weight ?? 0.5)
            var sum = [Float](repeating: 0, count: card.labels.count)
            let pairs = try ClipInputs.twoStream(items, card: card, segments: segments, region: region)
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
                var features: [Float] = []
                var width = 0
                for item in items {
                    if let cached = featureCache[key(item)] {
                        features += cached
                        width = cached.count
                        continue
                    }
                    let frame = Preprocess.clipTensor([Preprocess.frame(item.value.image, card: card,
                                                                        region: region)], layout: .nchw)
                    lastFeeds.append((.encoder, frame))
                    let output = try encoder.run(frame).floats
                    encoderRuns += 1
                    featureCache[key(item)] = output
                    features += output
                    width = output.count
                }
                let sequence = Tensor(shape: [items.count, width], floats: features)
                lastFeeds.append((.head, sequence))
                return try probabilities(head.run(sequence), model: head.path)
            }
            // The same frames `ClipInputs.clip` preprocesses, each once per stream instead of once per clip.
            let frames = items.map { item -> Planes in
                if let cached = frameCache[key(item)] { return cached }
                let planes = Preprocess.frame(item.value.image, card: card, region: region)
                frameCache[key(item)] = planes
                return planes
            }
            let clip = Preprocess.clipTensor(frames, layout: card.input.layout)
            lastFeeds.append((.main, clip))
            return try probabilities(main!.run(clip), model: main!.path)
        case .twoD:
            // The single-frame baseline: every frame's probabilities (each frame run once per stream), averaged.
            var sum = [Float](repeating: 0, count: card.labels.count)
            for item in items {
                let probabilities: [Float]
                if let cached = featureCache[key(item)] {
                    probabilities = cached
                } else {
                    let frame = Preprocess.clipTensor([Preprocess.frame(item.value.image, card: card,
                                                                        region: region)], layout: .nchw)
                    lastFeeds.append((.main, frame))
                    probabilities = try self.probabilities(main!.run(frame), model: main!.path)
                    featureCache[key(item)] = probabilities
                }
                for i in sum.indices { sum[i] += probabilities[i] }
            }
            return sum.map { $0 / Float(items.count) }
        }
    }
}

/// The classify stage: frames (and flow, and tracks) in, per-clip scores out. Whole-frame mode is one clip
/// stream without a box; per-track mode keeps one clip stream per track, cut from the track's person square.
public struct ClassifyStage: GraphStage {
    public let name = "classify"
    public let inputs: [AnyPort]
    public let outputs = [StreamPorts.clipScores.erased]
    public let classifier: ClipClassifier
    private let perTrack: Bool
    private let usesFlow: Bool
    private var whole: ClipWindower<FrameRecord>
    private var byTrack: TrackClipWindower<FrameRecord>

    /// The clip cut for a card and the stage's options (dataset windows are cut the same way).
    public static func windowing(card: ModelCard, options: ClassifyOptions) -> ClipWindowing {
        ClipWindowing(length: options.clip, sampling: card.input.stride, stride: options.stride,
                      partial: options.partial)
    }

    /// Checks what the options ask of the card's classifier (TSN segments are for two-stream only).
    public static func check(_ options: ClassifyOptions) throws(StagesError) {
        guard options.segments == 1 || options.kind == .twoStream else {
            throw StagesError.unsupported("`segments: \(options.segments)` (TSN consensus) applies to two-stream "
                                          + "classifiers only; remove it for kind `\(options.kind.rawValue)`")
        }
    }

    /// The stage over `compiled`'s graphs with runners of its own. Its input ports are the config's (`frames`,
    /// `flow` for two-stream, `tracks` with `per: track`).
    public init(_ compiled: CompiledClassifier, options: ClassifyOptions) throws {
        try Self.check(options)
        classifier = ClipClassifier(compiled, segments: options.segments)
        perTrack = options.per == .track
        usesFlow = options.kind == .twoStream
        inputs = options.ports.takes.compactMap(StreamPorts.port)
        let windowing = Self.windowing(card: compiled.card, options: options)
        whole = ClipWindower(windowing)
        byTrack = TrackClipWindower(windowing)
    }

    /// Compiles the card for this stage alone (tests).
    public init(card: ModelCard, options: ClassifyOptions) throws {
        try self.init(CompiledClassifier(card: card, kind: options.kind), options: options)
    }

    public mutating func process(_ input: PortInputs, emit: PortEmitter) async throws {
        let image = try input.value(StreamPorts.frames)
        let flow = usesFlow ? try input.value(StreamPorts.flow) : nil
        guard perTrack else {
            let record = input.timestamped(FrameRecord(image: image, flow: flow))
            if let clip = whole.push(record) { try await emit.emit(StreamPorts.clipScores, score(clip, track: nil)) }
            return
        }
        for track in try input.value(StreamPorts.tracks).sorted(by: { $0.id < $1.id }) {
            switch track.state {
            case .confirmed:
                let record = input.timestamped(FrameRecord(image: image, flow: flow, box: track.box))
                if let clip = byTrack.push(record, track: track.id) {
                    try await emit.emit(StreamPorts.clipScores, score(clip, track: track.id))
                }
            case .removed:
                // The track ended: its partial clip follows the `partial` rule, its caches go.
                if let clip = byTrack.lose(track.id) {
                    try await emit.emit(StreamPorts.clipScores, score(clip, track: track.id))
                }
                classifier.forget(track: track.id)
            case .tentative, .lost:
                continue  // no confirmed box on this frame: the track's clip waits
            }
        }
    }

    public mutating func finish(emit: PortEmitter) async throws {
        if let clip = whole.finish() { try await emit.emit(StreamPorts.clipScores, score(clip, track: nil)) }
        for (track, clip) in byTrack.finish() {
            try await emit.emit(StreamPorts.clipScores, score(clip, track: track))
        }
    }

    private func score(_ clip: Clip<FrameRecord>, track: Int?) throws -> Timestamped<ClipScores> {
        var region: PixelRect?
        var box: PixelRect?
        if track != nil, let first = clip.items.first?.value.image {
            let boxes = clip.items.compactMap(\.value.box)
            region = PixelRect.personSquare(around: boxes, width: first.width, height: first.height)
            box = .mean(boxes.map { first.transform.sourceBox($0) })
        }
        let scores = try classifier.scores(clip.items, track: track, region: region)
        return Timestamped(ClipScores(start: clip.start, end: clip.end, scores: scores, track: track, box: box),
                           at: clip.start, duration: clip.end - clip.start)
    }
}

extension ResizeTransform {
    /// A working-frame box in source pixels.
    public func sourceBox(_ box: PixelRect) -> PixelRect {
        let a = toSource(x: box.x, y: box.y), b = toSource(x: box.x + box.width, y: box.y + box.height)
        return PixelRect(x: a.x, y: a.y, width: b.x - a.x, height: b.y - a.y)
    }
}
