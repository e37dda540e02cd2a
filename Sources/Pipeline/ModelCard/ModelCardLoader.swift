// Reads and validates model cards: types, ranges, cross-field rules (layout vs kind, labels for score outputs),
// and that the files the card names (graphs, labels) exist. ONNX graph checks are in ModelSignature.swift.
import Foundation
import Yams

public enum ModelCardLoader {
    /// Loads one card; throws `ConfigError` with every problem found.
    /// `requireGraphs: false` skips the existence check of the .onnx files (the labels file must still exist):
    /// `actiond dataset` reads the preprocessing of a card whose model is not trained yet.
    public static func load(path: String, requireGraphs: Bool = true) throws(ConfigError) -> ModelCard {
        let log = DiagnosticLog()
        let card = load(path: path, log: log, requireGraphs: requireGraphs)
        guard let card, log.isEmpty else { throw ConfigError(log.sorted) }
        return card
    }

    /// Loads one card, recording problems in `log`. Nil if the card is unusable.
    static func load(path: String, log: DiagnosticLog, requireGraphs: Bool = true) -> ModelCard? {
        let file = YAMLFile(path: path, log: log)
        guard let data = FileManager.default.contents(atPath: path) else {
            file.error("cannot read the model card", line: 1, column: 1)
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            file.error("the model card is not UTF-8 text", line: 1, column: 1)
            return nil
        }
        guard let root = file.parse(text) else { return nil }
        let parser = CardParser(file: file, directory: (path as NSString).deletingLastPathComponent)
        parser.requireGraphs = requireGraphs
        return parser.parse(root)
    }
}

/// One card being parsed. Collects field positions for errors raised later (e.g. against the ONNX graph).
private final class CardParser {
    let file: YAMLFile
    let directory: String
    var locations: [String: ConfigLocation] = [:]
    /// False: graph files are resolved but need not exist yet (labels files always must).
    var requireGraphs = true

    init(file: YAMLFile, directory: String) {
        self.file = file
        self.directory = directory
    }

    func note(_ key: String, _ node: Node?) {
        guard let node, let mark = node.mark else { return }
        locations[key] = ConfigLocation(file: file.path, line: mark.line, column: mark.column)
    }

    /// Resolves a path relative to the card and checks it exists as a file.
    func existingFile(_ reader: MappingReader, _ key: String, locationKey: String, what: String,
                      required: String? = nil) -> String? {
        guard let relative = reader.string(key, required: required) else { return nil }
        let node = reader.value(key)
        note(locationKey, node)
        let resolved = relative.hasPrefix("/") ? relative : (directory as NSString).appendingPathComponent(relative)
        var isDirectory: ObjCBool = false
        if !requireGraphs && what.hasSuffix("graph") { return resolved }
        if !FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) || isDirectory.boolValue {
            let folder = directory.isEmpty ? "." : directory
            file.error("\(what) `\(relative)` not found (looked for \(resolved)); paths in a model card are "
                       + "relative to the card's folder (\(folder))", at: node)
            return nil
        }
        return resolved
    }

    func parse(_ root: Node) -> ModelCard? {
        guard let card = MappingReader(file: file, node: root, what: "the model card") else { return nil }
        let kindNames = ModelKind.allCases.map(\.rawValue)
        let kind = card.choice("kind", of: kindNames, required: "what the model is: \(listing(kindNames))")
            .flatMap(ModelKind.init(rawValue:))
        note("kind", card.value("kind"))
        let stem = ((file.path as NSString).lastPathComponent as NSString).deletingPathExtension
        let name = card.string("name") ?? stem
        let isSplit = card.has("encoder") || card.has("head")
        let onnxHint = "the ONNX graph file beside the card, e.g. `onnx: \(stem).onnx`"
        let onnx = existingFile(card, "onnx", locationKey: "onnx", what: "graph", required: isSplit ? nil : onnxHint)

        let input = card.value("input").flatMap { parseInput($0, kind: kind) }
        if !card.has("input") { card.missing("input", "how to feed the network (layout, size, mean, std, ...)") }
        let outputResult = card.value("output").flatMap { parseOutput($0, kind: kind) }
        if !card.has("output") { card.missing("output", "what the network gives (`kind`, and `labels` for scores)") }

        var flow: ModelCard.FlowStream?
        if let node = card.value("flow") {
            note("flow", node)
            if kind != nil, kind != .twoStream {
                file.error("`flow` only applies to two-stream cards; this card has kind `\(kind!.rawValue)`", at: node)
            } else {
                flow = parseFlow(node)
            }
        } else if kind == .twoStream {
            card.missing("flow", "a two-stream card describes its flow network (`onnx`, `bound`, `stack`, `weight`)")
        }

        var encoder: ModelCard.Encoder?, head: ModelCard.Head?
        if isSplit {
            let anchor = card.value("encoder") ?? card.value("head")
            if kind != nil, kind != .cnnRNN {
                file.error("`encoder` and `head` only apply to cnn-rnn cards; this card has kind `\(kind!.rawValue)`",
                           at: anchor)
            } else if card.has("onnx") {
                file.error("a cnn-rnn card has either `onnx` (one graph) or `encoder` + `head` (two graphs), not both",
                           at: card.value("onnx"))
            } else if !card.has("encoder") {
                card.missing("encoder", "the per-frame CNN graph that goes with `head` (`encoder: { onnx: ... }`)")
            } else if !card.has("head") {
                card.missing("head", "the recurrent graph that goes with `encoder` (`head: { onnx: ... }`)")
            }
            if let node = card.value("encoder"), let reader = MappingReader(file: file, node: node, what: "`encoder`") {
                let path = existingFile(reader, "onnx", locationKey: "encoder.onnx", what: "encoder graph",
                                        required: "the encoder's ONNX graph")
                let output = reader.string("output")
                note("encoder.output", reader.value("output"))
                reader.finish()
                if let path { encoder = ModelCard.Encoder(onnx: path, output: output) }
            }
            if let node = card.value("head"), let reader = MappingReader(file: file, node: node, what: "`head`") {
                let path = existingFile(reader, "onnx", locationKey: "head.onnx", what: "head graph",
                                        required: "the recurrent head's ONNX graph")
                let headInput = reader.string("input")
                note("head.input", reader.value("input"))
                reader.finish()
                if let path { head = ModelCard.Head(onnx: path, input: headInput) }
            }
        } else {
            card.allow("encoder", "head")
        }
        var siamese: ModelCard.Siamese?
        if let node = card.value("siamese") {
            note("siamese", node)
            if kind != nil, kind != .tracker {
                file.error("`siamese` only applies to tracker cards; this card has kind `\(kind!.rawValue)`", at: node)
            } else {
                siamese = parseSiamese(node, exemplar: input?.size)
            }
        } else if kind == .tracker {
            card.missing("siamese", "a tracker card describes its crops and response (`search`, `stride`, `scale`)")
        }
        card.finish()

        guard let kind, let input, let (output, labels) = outputResult else { return nil }
        if kind == .twoStream, flow == nil { return nil }
        if kind == .tracker, siamese == nil { return nil }
        if isSplit, encoder == nil || head == nil { return nil }
        if !isSplit, onnx == nil { return nil }
        if isSplit, input.layout != .nchw {
            file.error("a split cnn-rnn card feeds its encoder one frame at a time: `layout` must be NCHW, got "
                       + "\(input.layout.rawValue)", at: nil, location: locations["input.layout"])
            return nil
        }
        return ModelCard(path: file.path, name: name, kind: kind, onnx: onnx, input: input, output: output,
                         labels: labels, flow: flow, encoder: encoder, head: head, siamese: siamese,
                         locations: locations)
    }

    func parseSiamese(_ node: Node, exemplar: PixelSize?) -> ModelCard.Siamese? {
        guard let reader = MappingReader(file: file, node: node, what: "`siamese`") else { return nil }
        defer { reader.finish() }
        let search = reader.int("search", in: .between(8, 4096),
                                required: "the search crop side in pixels, e.g. `search: 128`")
        note("siamese.search", reader.value("search"))
        let stride = reader.int("stride", in: .between(1, 64),
                                required: "the backbone's total stride, e.g. `stride: 8`")
        let context = reader.number("context", in: .between(0, 4))
        let scale = reader.number("scale", in: NumberRange(),
                                  required: "the response scale learned in training (response = scale × correlation "
                                  + "+ bias)")
        let bias = reader.number("bias", in: NumberRange())
        guard let search, let stride, let scale else { return nil }
        if let exemplar {
            if exemplar.width != exemplar.height {
                file.error("a tracker's exemplar crop is square: `input.size` must be N×N, got \(exemplar)", at: nil,
                           location: locations["input.size"])
                return nil
            }
            if search <= exemplar.width || (search - exemplar.width) % stride != 0 {
                file.error("`search` must exceed the exemplar side (\(exemplar.width)) by a multiple of `stride` "
                           + "(\(stride)), got \(search)", at: reader.value("search"))
                return nil
            }
        }
        return ModelCard.Siamese(search: search, stride: stride, context: context ?? 0.5, scale: scale,
                                 bias: bias ?? 0)
    }

    func parseInput(_ node: Node, kind: ModelKind?) -> ModelCard.Input? {
        note("input", node)
        guard let reader = MappingReader(file: file, node: node, what: "`input`") else { return nil }
        defer { reader.finish() }
        let name = reader.string("name")
        note("input.name", reader.value("name"))
        let layoutNames = TensorLayout.allCases.map(\.rawValue)
        let layout = reader.choice("layout", of: layoutNames, required: "the tensor layout, \(listing(layoutNames))")
            .flatMap(TensorLayout.init(rawValue:))
        note("input.layout", reader.value("layout"))
        let frames = reader.int("frames", in: .between(1, 1024))
        note("input.frames", reader.value("frames"))
        let stride = reader.int("stride", in: .between(1, 64))
        let fps = reader.number("fps", in: .between(0.1, 240))
        note("input.fps", reader.value("fps"))
        let size = reader.size("size")
        note("input.size", reader.value("size"))
        if !reader.has("size") { reader.missing("size", "the network's input size, WIDTHxHEIGHT such as 112x112") }
        let resize = reader.choice("resize", of: ResizeMode.allCases.map(\.rawValue)).flatMap(ResizeMode.init)
        let mean = reader.numbers("mean", count: 3, in: NumberRange())
        let std = reader.numbers("std", count: 3, in: .positive)
        let colour = reader.choice("colour", of: ColourOrder.allCases.map(\.rawValue)).flatMap(ColourOrder.init)
        let pixels = reader.choice("pixels", of: PixelRange.allCases.map(\.rawValue)).flatMap(PixelRange.init)
        let fill = reader.number("fill", in: .between(0, 255))

        // Layout follows from what the model is; say which layouts fit when it does not.
        if let kind, let layout, let layoutNode = reader.value("layout") {
            let fits: [TensorLayout]
            switch kind {
            case .threeD: fits = [.ncthw, .ntchw]
            case .cnnRNN: fits = [.ntchw, .ncthw, .nchw]  // NCHW: the split form, checked once encoder is known
            case .twoStream, .twoD, .detector, .pose, .tracker: fits = [.nchw]
            }
            if !fits.contains(layout) {
                file.error("a `\(kind.rawValue)` model takes \(fits.first == .nchw ? "one frame" : "a clip"): "
                           + "`layout` must be \(listing(fits.map(\.rawValue))), got \(layout.rawValue)",
                           at: layoutNode)
            }
        }
        var effectiveFrames = frames ?? 1
        if let kind, frames == nil, kind == .threeD || kind == .cnnRNN {
            reader.missing("frames", "the number of frames in one clip the network takes, e.g. `frames: 16`")
            return nil
        }
        if let kind, let frames, frames != 1, [.detector, .pose, .tracker].contains(kind) {
            file.error("a `\(kind.rawValue)` model looks at one frame at a time: `frames` must be 1, got \(frames)",
                       at: reader.value("frames"))
            effectiveFrames = 1
        }
        guard let layout, let size else { return nil }
        var input = ModelCard.Input(name: name, layout: layout, frames: effectiveFrames, size: size)
        input.stride = stride ?? 1
        input.fps = fps
        if let resize { input.resize = resize }
        if let mean { input.mean = mean }
        if let std { input.std = std }
        if let colour { input.colour = colour }
        if let pixels { input.pixels = pixels }
        input.fill = fill ?? (kind == .detector || kind == .pose ? 114 : 0)
        return input
    }

    func parseOutput(_ node: Node, kind: ModelKind?) -> (ModelCard.Output, [String])? {
        note("output", node)
        guard let reader = MappingReader(file: file, node: node, what: "`output`") else { return nil }
        defer { reader.finish() }
        let name = reader.string("name")
        note("output.name", reader.value("name"))
        let kindNames = OutputKind.allCases.map(\.rawValue)
        let outputKind = reader.choice("kind", of: kindNames, required: "what the graph gives, \(listing(kindNames))")
            .flatMap(OutputKind.init(rawValue:))
        note("output.kind", reader.value("kind"))
        if let kind, let outputKind, let kindNode = reader.value("kind") {
            let fits: [OutputKind]
            switch kind {
            case .threeD, .twoStream, .cnnRNN, .twoD: fits = [.logits, .probabilities]
            case .detector: fits = [.detections]
            case .pose: fits = [.heatmaps, .detections]
            case .tracker: fits = [.features]
            }
            if !fits.contains(outputKind) {
                file.error("a `\(kind.rawValue)` model gives \(listing(fits.map(\.rawValue))), not "
                           + "`\(outputKind.rawValue)`", at: kindNode)
            }
        }
        // A detector's (or pose model's) detections: class names and row format. Other kinds with a
        // `detections` output are already reported above.
        let detections = outputKind == .detections && (kind == .detector || kind == .pose)
        var labels: [String] = []
        var labelsFile: String?
        if reader.has("labels") {
            labelsFile = existingFile(reader, "labels", locationKey: "output.labels", what: "labels file")
            if let labelsFile { labels = readLabels(labelsFile, node: reader.value("labels")) ?? [] }
            if labelsFile == nil { return nil }
        } else if outputKind?.isScores == true {
            reader.missing("labels", "a labels file (one label per line, in output order) for a "
                           + "`\(outputKind!.rawValue)` output, e.g. `labels: labels.txt`")
            return nil
        } else if detections {
            reader.missing("labels", "a labels file with the detector's class names, one per line in output order "
                           + "(e.g. `person` alone for a person detector; the 80 COCO names for a COCO model)")
            return nil
        }
        let formatNames = DetectionFormat.allCases.map(\.rawValue)
        var format: DetectionFormat?
        var keypoints = 0, keypointValues = 3
        if detections {
            format = reader.choice("format", of: formatNames, required: "how the detections are laid out, "
                                   + listing(formatNames)).flatMap(DetectionFormat.init(rawValue:))
            note("output.format", reader.value("format"))
            if format == .ultralyticsPose {
                keypoints = reader.int("keypoints", in: .between(1, 1000)) ?? 17
                keypointValues = reader.int("keypoint_values", in: .between(2, 3)) ?? 3
            } else {
                for key in ["keypoints", "keypoint_values"] {
                    if let node = reader.value(key) {
                        file.error("`\(key)` only applies to `format: ultralytics-pose`", at: node)
                    }
                }
            }
            if format == nil { return nil }
        } else if outputKind != .detections {
            for key in ["format", "keypoints", "keypoint_values"] {
                if let node = reader.value(key) { file.error("`\(key)` only applies to a `detections` output", at: node) }
            }
        } else {
            reader.allow("format", "keypoints", "keypoint_values")
        }
        guard let outputKind else { return nil }
        var output = ModelCard.Output(name: name, kind: outputKind, labelsFile: labelsFile)
        output.format = format
        output.keypoints = keypoints
        output.keypointValues = keypointValues
        return (output, labels)
    }

    /// One label per non-empty line; duplicates are an error since events are keyed by label.
    func readLabels(_ path: String, node: Node?) -> [String]? {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            file.error("cannot read labels file \(path) as UTF-8 text", at: node)
            return nil
        }
        let labels = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        if labels.isEmpty {
            file.error("labels file \(path) has no labels; write one label per line, in output order", at: node)
            return nil
        }
        var seen: [String: Int] = [:]
        for (index, label) in labels.enumerated() {
            if let first = seen[label] {
                file.error("labels file \(path) lists `\(label)` twice (labels \(first + 1) and \(index + 1)); "
                           + "each output needs its own label", at: node)
                return nil
            }
            seen[label] = index
        }
        return labels
    }

    func parseFlow(_ node: Node) -> ModelCard.FlowStream? {
        guard let reader = MappingReader(file: file, node: node, what: "`flow`") else { return nil }
        defer { reader.finish() }
        let onnx = existingFile(reader, "onnx", locationKey: "flow.onnx", what: "flow graph",
                                required: "the flow network's ONNX graph")
        let input = reader.string("input")
        note("flow.input", reader.value("input"))
        let bound = reader.number("bound", in: .positive,
                                  required: "the flow clipping bound in pixels used in training, e.g. `bound: 20`")
        note("flow.bound", reader.value("bound"))
        let stack = reader.int("stack", in: .between(1, 64),
                               required: "how many flow fields are stacked (2 × stack channels), e.g. `stack: 10`")
        note("flow.stack", reader.value("stack"))
        let weight = reader.number("weight", in: .unit)
        let preset = reader.choice("preset", of: FlowOptions.Preset.allCases.map(\.rawValue))
        note("flow.preset", reader.value("preset"))
        guard let onnx, let bound, let stack else { return nil }
        return ModelCard.FlowStream(onnx: onnx, input: input, bound: bound, stack: stack, weight: weight ?? 0.5,
                                    preset: preset.flatMap(FlowOptions.Preset.init(rawValue:)))
    }
}

extension YAMLFile {
    /// Error at a recorded location (from an earlier pass), else at `node`.
    func error(_ message: String, at node: Node?, location: ConfigLocation?) {
        if let location, node == nil {
            error(message, line: location.line, column: location.column)
        } else {
            error(message, at: node)
        }
    }
}
