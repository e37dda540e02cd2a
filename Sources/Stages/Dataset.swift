// `actiond dataset`: the exact network inputs of labelled windows of rendered clips, as .npy files, for
// training (contract: docs/stages.md). Windows are cut, decoded, flowed and preprocessed by the same code the
// classify stage runs, so a model trained on these files sees at serving time what it saw in training.
import Flow
import Foundation
import Media
import Pipeline
import Synth
import Tensor
import TextFormat

/// The fields of a synth ground-truth file that dataset building reads.
extension GroundTruth {
    /// The ground truth beside a synth clip, read with Synth's own type (the one `synth` writes), errors blamed
    /// on the file.
    static func read(_ path: String) throws -> GroundTruth {
        guard FileManager.default.fileExists(atPath: path) else { throw DatasetError.read(path, "cannot read the file") }
        do {
            return try GroundTruth.load(path)
        } catch {
            throw DatasetError.read(path, "not a synth ground-truth file: \(error)")
        }
    }
}

public enum DatasetError: Error, Sendable, CustomStringConvertible {
    case read(String, String)
    case write(String, String)

    public var description: String {
        switch self {
        case let .read(path, reason): return "\(path): \(reason)"
        case let .write(path, reason): return "cannot write \(path): \(reason)"
        }
    }
}

/// Where windows come from: whole frames, or a square crop around the performer.
public enum DatasetCrop: String, Sendable, CaseIterable {
    case whole, person
}

/// What a dataset run did.
public struct DatasetSummary: Sendable, Equatable {
    public var clips = 0
    public var samples: [String: Int] = [:]
    /// Windows straddling more than half of a transition between two actions.
    public var skippedTransition = 0
    /// Windows whose label is not in the card's vocabulary.
    public var skippedUnknownLabel = 0
    /// `--crop person` windows in which the performer is never in the picture.
    public var skippedNoPerson = 0
}

/// The serving configuration a dataset reproduces: decode, flow and clip options.
public struct DatasetServing: Sendable {
    public var decode: DecodeOptions
    public var flow: FlowOptions
    public var classify: ClassifyOptions

    /// The defaults of a pipeline for this card: decode at the card's fps × stride (15 if unstated) and the
    /// default size; DIS flow at the card's `flow.preset` (`fast` if unstated); clips of the card's frames
    /// (two-stream, 2d: max(16, frames)), stride clip/2, partial clips dropped (a padded window is a poor training
    /// sample).
    public init(card: ModelCard) {
        decode = DecodeOptions()
        if let fps = card.input.fps { decode.fps = fps * Double(card.input.stride) }
        flow = FlowOptions()
        flow.bound = card.flow?.bound
        if let preset = card.flow?.preset { flow.preset = preset }
        classify = ClassifyOptions(model: card.name)
        classify.kind = card.kind.classifierKind ?? .threeD
        classify.clip = card.kind == .twoStream || card.kind == .twoD ? max(16, card.input.frames)
            : card.input.frames
        classify.stride = max(1, classify.clip / 2)
        classify.partial = .drop
    }

    /// The options of a pipeline config whose classifier uses this card.
    public init(config: PipelineConfig) throws {
        guard let decode = config.decode else { throw StagesError.unsupported("the pipeline has no `decode` stage") }
        self.decode = decode
        flow = FlowOptions()
        var classify: ClassifyOptions?
        for stage in config.stages {
            if case let .flow(options) = stage.options { flow = options }
            if case let .classify(options) = stage.options { classify = options }
        }
        guard let classify else { throw StagesError.unsupported("the pipeline has no `classify` stage") }
        self.classify = classify
    }
}

/// Writes one dataset directory.
public struct DatasetWriter {
    public let card: ModelCard
    public let serving: DatasetServing
    public let out: String
    public var crop: DatasetCrop = .whole
    public var every = 1
    public private(set) var summary = DatasetSummary()
    private var index: FileHandle?

    public init(card: ModelCard, serving: DatasetServing, out: String) {
        self.card = card
        self.serving = serving
        self.out = out
    }

    /// The ground-truth files among `sources` (files, or directories of `*.json`), sorted by path.
    public static func groundTruthFiles(_ sources: [String]) throws -> [String] {
        var files: [String] = []
        for source in sources {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
                throw DatasetError.read(source, "no such file or directory")
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: source)
                files += names.filter { $0.hasSuffix(".json") }.sorted()
                    .map { (source as NSString).appendingPathComponent($0) }
            } else {
                files.append(source)
            }
        }
        return files
    }

    /// Creates DIR, DIR/tensors and DIR/labels.txt, and opens DIR/index.jsonl.
    public mutating func begin() throws {
        let tensors = (out as NSString).appendingPathComponent("tensors")
        do {
            try FileManager.default.createDirectory(atPath: tensors, withIntermediateDirectories: true)
            try (card.labels.joined(separator: "\n") + "\n")
                .write(toFile: (out as NSString).appendingPathComponent("labels.txt"), atomically: true,
                       encoding: .utf8)
            let indexPath = (out as NSString).appendingPathComponent("index.jsonl")
            _ = FileManager.default.createFile(atPath: indexPath, contents: nil)
            index = try FileHandle(forWritingTo: URL(fileURLWithPath: indexPath))
        } catch {
            throw DatasetError.write(out, "\(error)")
        }
    }

    public mutating func end() throws { try index?.close() }

    /// The label of a window: the performer's segment covering its centre, or nil when the window overlaps
    /// more than half of a transition between two segments.
    static func label(start: Double, end: Double, segments: [ActionSegmentTruth]) -> (String?, skipped: Bool) {
        for segment in segments {
            let transition = segment.transition
            guard transition > 0 else { continue }
            let from = segment.start - transition / 2, to = segment.start + transition / 2
            let overlap = min(end, to) - max(start, from)
            if overlap > transition / 2 { return (nil, true) }
        }
        let centre = (start + end) / 2
        let covering = segments.first { centre >= $0.start && centre < $0.end } ?? segments.last
        return (covering?.label, false)
    }

    /// The square crop around the performer over a window: the union of its boxes, the larger side × 1.25,
    /// centred, clipped to the image; in the decoded image's pixels.
    static func personRegion(frames: [PersonFrameTruth], start: Double, end: Double, image: Image)
        -> PixelRect? {
        let inside = frames.filter { $0.t >= start - 1e-6 && $0.t < end - 1e-6 && $0.box.count == 4 }
        let boxes = inside.map { frame -> PixelRect in
            let a = image.transform.toTarget(x: frame.box[0], y: frame.box[1])
            let b = image.transform.toTarget(x: frame.box[0] + frame.box[2], y: frame.box[1] + frame.box[3])
            return PixelRect(x: a.x, y: a.y, width: b.x - a.x, height: b.y - a.y)
        }
        return PixelRect.personSquare(around: boxes, width: image.width, height: image.height)
    }

    /// Adds every window of one ground-truth file's clip. Returns the number of samples written.
    @discardableResult
    public mutating func add(groundTruth path: String) throws -> Int {
        let truth = try GroundTruth.read(path)
        let folder = (path as NSString).deletingLastPathComponent
        let video = (folder as NSString).appendingPathComponent(truth.video)
        let clipName = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        guard let performer = truth.people.first(where: { $0.id == 0 }) else {
            throw DatasetError.read(path, "no performer (person id 0)")
        }
        // Frames are decoded, flowed and cut one at a time: only the frames of the open windows are held.
        var flow = card.kind == .twoStream ? FlowComputer(options: serving.flow) : nil
        var windower = ClipWindower<FrameRecord>(ClassifyStage.windowing(card: card, options: serving.classify))
        var written = 0
        try DecodeSource(path: video, options: serving.decode).forEachFrame { record in
            var record = record
            if flow != nil { record.value.flow = try flow!.next(record.value.image) }
            if let clip = windower.push(record) {
                written += try write(clip, clipName: clipName, performer: performer)
            }
        }
        if let clip = windower.finish() { written += try write(clip, clipName: clipName, performer: performer) }
        summary.clips += 1
        return written
    }

    /// Writes one window as a sample unless it is skipped; returns 1 when written.
    private mutating func write(_ clip: Clip<FrameRecord>, clipName: String, performer: PersonTruth)
        throws -> Int {
        guard clip.index % every == 0 else { return 0 }
        let (label, skipped) = Self.label(start: clip.start, end: clip.end, segments: performer.segments)
        if skipped {
            summary.skippedTransition += 1
            return 0
        }
        guard let label, let labelIndex = card.labels.firstIndex(of: label) else {
            summary.skippedUnknownLabel += 1
            return 0
        }
        var region: PixelRect?
        if crop == .person {
            region = Self.personRegion(frames: performer.frames, start: clip.start, end: clip.end,
                                       image: clip.items[0].value.image)
            if region == nil {
                summary.skippedNoPerson += 1
                return 0
            }
        }
        let feeds = try ClipInputs.feeds(clip.items, card: card, segments: 1, region: region)
        let sample = "\(clipName)-w" + String(format: "%03d", clip.index)
        var inputs: [String] = []
        for feed in feeds {
            let relative = "tensors/\(sample)-\(feed.input).npy"
            do {
                try feed.tensor.writeNPY(to: (out as NSString).appendingPathComponent(relative))
            } catch {
                throw DatasetError.write(relative, "\(error)")
            }
            inputs.append("\(jsonString(feed.input)):\(jsonString(relative))")
        }
        let line = "{\"sample\":\(jsonString(sample)),\"clip\":\(jsonString(clipName)),"
            + "\"label\":\(jsonString(label)),\"label_index\":\(labelIndex),"
            + "\"start\":\(decimal(clip.start, digits: 2)),\"end\":\(decimal(clip.end, digits: 2)),"
            + "\"inputs\":{\(inputs.joined(separator: ","))}}\n"
        index?.write(Data(line.utf8))
        summary.samples[label, default: 0] += 1
        return 1
    }
}
