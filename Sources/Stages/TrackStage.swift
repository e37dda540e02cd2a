// The `track` stage: people followed across frames with stable ids. Association and the motion model are
// Vision's (`MultiTracker`); this file gives it the pixels: a Siamese tracker card's backbone compiled for the
// exemplar and the search crop, crops cut from the working frame with SiamFC's context margin, the correlation
// of each track's template over its search crop, and CFNet's slow template update. Boxes are tracked in
// working-frame pixels (where the crops are cut) and reported in both working and source pixels.
import Foundation
import Media
import ONNX
import Pipeline
import Tensor
import Vision

/// A tracker card's backbone compiled at the exemplar and the search size, with its output shapes checked.
public final class CompiledTracker: Sendable {
    public let card: ModelCard
    public let geometry: SiameseGeometry
    public let scale: Float
    public let bias: Float
    /// Response map rows and columns: (search − exemplar) / stride + 1.
    public let responseSide: Int
    let exemplarGraph: CompiledGraph
    let searchGraph: CompiledGraph

    /// Compiles (or takes from `store`) the card's graph twice and checks that the features of the two crops
    /// correlate into the response the card's `stride` promises; throws `StagesError.card` naming the card.
    public init(card: ModelCard, model: String? = nil, store: ModelStore = ModelStore()) throws {
        self.card = card
        guard let onnx = card.onnx, let siamese = card.siamese, card.input.size.width == card.input.size.height else {
            throw StagesError.card(card.path, "a tracker card needs `onnx`, a square `input.size` and `siamese`")
        }
        let e = card.input.size.width, s = siamese.search
        geometry = SiameseGeometry(exemplar: e, search: s, stride: siamese.stride, context: siamese.context)
        scale = Float(siamese.scale)
        bias = Float(siamese.bias)
        let name = model ?? card.name
        do {
            exemplarGraph = try store.graph(model: name, path: onnx, input: card.input.name, output: card.output.name,
                                            shape: [3, e, e])
            searchGraph = try store.graph(model: name, path: onnx, input: card.input.name, output: card.output.name,
                                          shape: [3, s, s])
        } catch {
            throw StagesError.card(card.path, "the backbone \(onnx) cannot run on \(e)×\(e) and \(s)×\(s) crops "
                                   + "(its H and W must be symbolic or match): \(error)")
        }
        let z = try exemplarGraph.makeRunner().run(Tensor(zeros: [3, e, e])).shape
        let x = try searchGraph.makeRunner().run(Tensor(zeros: [3, s, s])).shape
        let expected = (s - e) / siamese.stride + 1
        guard z.count == 4, x.count == 4, z[1] == x[1], z[2] <= x[2], z[3] <= x[3],
              x[2] - z[2] + 1 == expected, x[3] - z[3] + 1 == expected
        else {
            throw StagesError.card(card.path, "the backbone's features of a \(e)×\(e) exemplar (\(z)) and a \(s)×\(s) "
                                   + "search crop (\(x)) do not correlate into the \(expected)×\(expected) response "
                                   + "that `search: \(s)` and `stride: \(siamese.stride)` promise: expected "
                                   + "[1, C, h, w] features whose sizes differ by \(expected - 1)")
        }
        responseSide = expected
    }

    var graphs: [CompiledGraph] { [exemplarGraph, searchGraph] }
}

/// SiamFC's crops: squares cut from a frame around a point, resized to the network's size.
public enum SiameseCrop {
    /// The square of side `side` frame pixels centred on (`cx`, `cy`), resized to `size`×`size`: RGB planes
    /// (3 × size × size) with values 0...1. Output pixel u samples frame x = cx − side/2 + (u + 0.5)·side/size
    /// − 0.5 (pixel centres, OpenCV INTER_LINEAR without antialiasing), bilinear between the four nearest pixels;
    /// pixels outside the frame take `fill` (the frame's mean colour).
    public static func cut(_ image: Image, cx: Double, cy: Double, side: Double, size: Int, fill: [Float]) -> [Float] {
        cut(FramePlanes(image), cx: cx, cy: cy, side: side, size: size, fill: fill)
    }

    /// `cut` from a frame already in planes (one conversion per frame however many crops are cut from it).
    public static func cut(_ frame: FramePlanes, cx: Double, cy: Double, side: Double, size: Int, fill: [Float])
        -> [Float]
    {
        let w = frame.width, h = frame.height, plane = size * size
        var out = [Float](repeating: 0, count: 3 * plane)
        let step = side / Double(size)
        // Per output column (and row): the two source indices, clamped into the frame, whether each is really
        // inside, and the weight of the second.
        struct Tap { var a: Int, b: Int, inA: Bool, inB: Bool, weight: Float }
        func taps(_ origin: Double, _ count: Int) -> [Tap] {
            (0..<size).map { u in
                let x = origin + (Double(u) + 0.5) * step - 0.5
                let xf = x.rounded(.down), i = Int(xf)
                return Tap(a: min(max(i, 0), count - 1), b: min(max(i + 1, 0), count - 1), inA: i >= 0 && i < count,
                           inB: i + 1 >= 0 && i + 1 < count, weight: Float(x - xf))
            }
        }
        let columns = taps(cx - side / 2, w), rows = taps(cy - side / 2, h)
        let inside = columns.allSatisfy { $0.inA && $0.inB }
        let scale: Float = 1 / 255
        frame.values.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                for c in 0..<3 {
                    let f = fill[c] * scale, source = c * w * h, target = c * plane
                    for (v, row) in rows.enumerated() {
                        let ra = source + row.a * w, rb = source + row.b * w, fy = row.weight
                        let base = target + v * size
                        if inside && row.inA && row.inB {
                            for (u, col) in columns.enumerated() {
                                let top = p[ra + col.a] + (p[ra + col.b] - p[ra + col.a]) * col.weight
                                let bottom = p[rb + col.a] + (p[rb + col.b] - p[rb + col.a]) * col.weight
                                o[base + u] = top + (bottom - top) * fy
                            }
                        } else {
                            for (u, col) in columns.enumerated() {
                                let aa = row.inA && col.inA ? p[ra + col.a] : f
                                let ab = row.inA && col.inB ? p[ra + col.b] : f
                                let ba = row.inB && col.inA ? p[rb + col.a] : f
                                let bb = row.inB && col.inB ? p[rb + col.b] : f
                                let top = aa + (ab - aa) * col.weight, bottom = ba + (bb - ba) * col.weight
                                o[base + u] = top + (bottom - top) * fy
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// An RGB24 frame as three float planes with values 0...1, and its per-channel mean (0...255).
public struct FramePlanes: Sendable {
    public let width: Int
    public let height: Int
    public let values: [Float]
    public let mean: [Float]

    public init(_ image: Image) {
        precondition(image.format == .rgb24, "crops are cut from RGB24 frames")
        width = image.width
        height = image.height
        let n = image.width * image.height
        var planes = [Float](repeating: 0, count: 3 * n)
        var sums = [0, 0, 0]
        image.pixels.withUnsafeBufferPointer { p in
            planes.withUnsafeMutableBufferPointer { o in
                let scale: Float = 1 / 255
                var r = 0, g = 0, b = 0
                for i in 0..<n {
                    let (x, y, z) = (p[3 * i], p[3 * i + 1], p[3 * i + 2])
                    r &+= Int(x); g &+= Int(y); b &+= Int(z)
                    o[i] = Float(x) * scale
                    o[n + i] = Float(y) * scale
                    o[2 * n + i] = Float(z) * scale
                }
                sums = [r, g, b]
            }
        }
        values = planes
        let count = Float(max(n, 1))
        mean = sums.map { Float($0) / count }
    }
}

/// The appearance cue of the multi-person tracker: one template per confirmed track, searched around its
/// prediction on every frame. Used by one stage (one stream) at a time.
public final class SiameseCue: AppearanceCue, @unchecked Sendable {
    public let tracker: CompiledTracker
    public var settings = SiameseSearchSettings()
    /// CFNet-style running average: template ← (1 − rate)·template + rate·new, on confident frames only.
    public var updateRate: Float = 0.1
    /// Frames between template refreshes of one track.
    public var updateEvery = 5
    let exemplarRunner: GraphRunner
    let searchRunner: GraphRunner
    private var frame: FramePlanes?
    private var templates: [Int: (features: FeatureMap, age: Int)] = [:]
    /// Crops cut and backbone runs since the start (for the bench and the tests).
    public private(set) var searches = 0
    public private(set) var exemplars = 0

    public init(_ tracker: CompiledTracker) {
        self.tracker = tracker
        exemplarRunner = tracker.exemplarGraph.makeRunner()
        searchRunner = tracker.searchGraph.makeRunner()
    }

    /// The frame the next calls cut their crops from.
    public func show(_ image: Image) {
        frame = FramePlanes(image)
    }

    /// Templates held now.
    public var templateCount: Int { templates.count }

    func features(_ runner: GraphRunner, cx: Double, cy: Double, side: Double, size: Int) throws -> FeatureMap {
        guard let frame else { throw StagesError.unsupported("the tracker was asked to search before any frame") }
        let crop = SiameseCrop.cut(frame, cx: cx, cy: cy, side: side, size: size, fill: frame.mean)
        let out = try runner.run(Tensor(shape: [3, size, size], floats: crop))
        return FeatureMap(values: out.floatValues, channels: out.shape[1], height: out.shape[2], width: out.shape[3])
    }

    /// The exemplar features of a box on the current frame.
    public func exemplar(_ box: PixelRect) throws -> FeatureMap {
        exemplars += 1
        let g = tracker.geometry
        return try features(exemplarRunner, cx: box.centre.x, cy: box.centre.y,
                            side: g.exemplarSide(width: box.width, height: box.height), size: g.exemplar)
    }

    /// The located response of `template` over the search crop around `box` (side scaled by `scale`).
    public func response(_ template: FeatureMap, around box: PixelRect, scale: Double = 1) throws -> LocatedResponse {
        searches += 1
        let g = tracker.geometry
        let side = g.searchSide(width: box.width, height: box.height) * scale
        let x = try features(searchRunner, cx: box.centre.x, cy: box.centre.y, side: side, size: g.search)
        let logits = SiameseCorrelation.correlate(template, over: x, scale: tracker.scale, bias: tracker.bias)
        return LocatedResponse(logits: logits, rows: x.height - template.height + 1,
                               columns: x.width - template.width + 1, geometry: g, centreX: box.centre.x,
                               centreY: box.centre.y, side: side)
    }

    public func search(_ tracks: [(id: Int, box: PixelRect)]) throws -> [Int: AppearanceResponse] {
        var found: [Int: AppearanceResponse] = [:]
        for (id, box) in tracks {
            guard let template = templates[id]?.features else { continue }
            let located = try response(template, around: box)
            let peak = SiamesePeak.locate(located, settings: settings)
            let peakBox = PixelRect(x: peak.x - box.width / 2, y: peak.y - box.height / 2, width: box.width,
                                    height: box.height)
            found[id] = located.appearance(peak: peakBox, confidence: peak.probability)
        }
        return found
    }

    public func observe(id: Int, box: PixelRect, fresh: Bool, confident: Bool) throws {
        if fresh || templates[id] == nil {
            templates[id] = (try exemplar(box), 0)
            return
        }
        guard var entry = templates[id] else { return }
        entry.age += 1
        if confident, entry.age >= updateEvery {
            entry.features = entry.features.blended(with: try exemplar(box), rate: updateRate)
            entry.age = 0
        }
        templates[id] = entry
    }

    public func forget(id: Int) { templates[id] = nil }
}

/// SiamFC proper: one target from a given box, no detector; the response peak over a pyramid of scales, the
/// size change damped, the template kept from the first frame.
public struct SingleTargetTracker {
    public let cue: SiameseCue
    var template: FeatureMap
    public private(set) var box: PixelRect

    /// Starts on `frame` at `box` (working-frame pixels).
    public init(_ tracker: CompiledTracker, frame: Image, box: PixelRect) throws {
        cue = SiameseCue(tracker)
        cue.show(frame)
        template = try cue.exemplar(box)
        self.box = box
    }

    /// The target on the next frame and the probability at the peak.
    public mutating func track(_ frame: Image) throws -> (box: PixelRect, confidence: Double) {
        cue.show(frame)
        let s = cue.settings
        var best: (x: Double, y: Double, score: Double, probability: Double, scale: Double)?
        for scale in [1 / s.scaleStep, 1, s.scaleStep] {
            let located = try cue.response(template, around: box, scale: scale)
            var peak = SiamesePeak.locate(located, settings: s)
            if scale != 1 { peak.score *= s.scalePenalty }
            if best == nil || peak.score > best!.score {
                best = (peak.x, peak.y, peak.score, peak.probability, scale)
            }
        }
        let b = best!
        let factor = 1 - s.scaleRate + s.scaleRate * b.scale
        let w = max(box.width * factor, 2), h = max(box.height * factor, 2)
        // The centre stays inside the frame: a target leaving the picture is held at its edge.
        let cx = min(max(b.x, 0), Double(frame.width)), cy = min(max(b.y, 0), Double(frame.height))
        box = PixelRect(x: cx - w / 2, y: cy - h / 2, width: w, height: h)
        return (box, b.probability)
    }
}

/// One track on one frame, as the `track` stage gives it.
public typealias TrackState = TrackPhase

/// The people of one stream followed across frames: frames and detections in, every reported track out.
public struct TrackStage: GraphStage {
    public let name = "track"
    public let inputs = [StreamPorts.frames.erased, StreamPorts.detections.erased]
    public let outputs = [StreamPorts.tracks.erased]
    var tracker: MultiTracker
    let cue: SiameseCue?

    /// `compiled` is required for `kind: siamese` and ignored for `kind: iou`.
    public init(options: TrackOptions, compiled: CompiledTracker?) throws {
        var settings = TrackerSettings()
        settings.high = options.high
        settings.low = options.low
        settings.start = options.start
        settings.iou = options.iou
        settings.confirm = options.confirm
        settings.maxLost = options.maxLost
        settings.appearance = options.kind == .siamese ? options.appearance : 0
        settings.refind = options.refind
        tracker = MultiTracker(settings: settings)
        if options.kind == .siamese {
            guard let compiled else { throw StagesError.unsupported("a siamese tracker needs its compiled model") }
            cue = SiameseCue(compiled)
        } else {
            cue = nil
        }
    }

    public mutating func process(_ input: PortInputs, emit: PortEmitter) async throws {
        let frame = try input.value(StreamPorts.frames)
        let detections = try input.value(StreamPorts.detections)
        try await emit.emit(StreamPorts.tracks, input.timestamped(try step(frame, detections)))
    }

    /// Search crops run so far (0 for `kind: iou`).
    public var searchCount: Int { cue?.searches ?? 0 }
    /// Tracks alive (tentative, confirmed or lost) and appearance templates held: templates never outlive tracks.
    public var liveTracks: Int { tracker.count }
    public var templateCount: Int { cue?.templateCount ?? 0 }

    /// One frame: detections in source pixels → tracks (working and source pixels).
    public mutating func step(_ frame: Image, _ detections: [Detection]) throws -> [TrackBox] {
        let transform = frame.transform
        let working = detections.map { detection -> Detection in
            var d = detection
            let a = transform.toTarget(x: d.box.x, y: d.box.y)
            let b = transform.toTarget(x: d.box.x + d.box.width, y: d.box.y + d.box.height)
            d.box = PixelRect(x: a.x, y: a.y, width: b.x - a.x, height: b.y - a.y)
            return d
        }
        cue?.show(frame)
        let picture = PixelRect(x: 0, y: 0, width: Double(frame.width), height: Double(frame.height))
        return try tracker.step(working, cue: cue, frame: picture).map { person in
            TrackBox(id: person.id, box: person.box, state: person.phase, score: person.score,
                     evidence: person.evidence, source: transform.sourceBox(person.box),
                     keypoints: person.detection.map { detections[$0].keypoints } ?? [])
        }
    }
}
