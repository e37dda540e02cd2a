// Parses the `pipeline:` stage list, then checks what needs the whole config: model references and card kinds,
// classifier settings against their cards, and wiring (each stage takes only streams an earlier stage gives).
import Foundation
import Yams

/// A stage as written, before the checks that need the models.
struct ParsedStage {
    var options: StageOptions
    var entry: Node
    var kindNode: Node
    /// Option value nodes by key, for errors raised by later checks.
    var nodes: [String: Node]
    /// Classify options written explicitly (nil: take the card's).
    var explicitKind: ClassifierKind?
    var explicitClip: Int?
    var explicitStride: Int?
    /// False when a required option was missing or wrong: its model is not looked up, but the stage still counts
    /// for wiring so one mistake does not cascade into "no earlier stage gives ..." errors.
    var complete = true
}

extension ConfigParser {
    func parseStages(_ node: Node) -> [ParsedStage] {
        guard let items = node.sequence else {
            file.error("`pipeline` must be a list of stages (each line starts with `- `, e.g. "
                       + "`- decode: { fps: 15 }`), got \(describe(node))", at: node)
            return []
        }
        if items.isEmpty {
            file.error("`pipeline` must list at least one stage, starting with `- decode`", at: node)
            return []
        }
        let kinds = StageKind.allCases.map(\.rawValue)
        var result: [ParsedStage] = []
        var seen: [StageKind: Node] = [:]
        for item in items {
            guard let (name, kindNode, optionsNode) = singleKeyEntry(item, what: "stage", kinds: kinds),
                  let kind = StageKind(rawValue: name) else {
                unreadableStage = unreadableStage ?? item
                continue
            }
            if let first = seen[kind] {
                file.error("stage `\(name)` appears twice (first at line \(first.mark?.line ?? 0)); each stage kind "
                           + "runs once per pipeline", at: kindNode)
                continue
            }
            seen[kind] = kindNode
            guard let reader = MappingReader(file: file, node: optionsNode, what: "`\(name)` options",
                                             nullIsEmpty: true) else {
                result.append(placeholder(kind, entry: item, kindNode: kindNode))
                continue
            }
            result.append(parseStage(kind, reader, entry: item, kindNode: kindNode)
                ?? placeholder(kind, entry: item, kindNode: kindNode))
            reader.finish()
        }
        return result
    }

    /// A stage whose options could not be read: it keeps its place for wiring checks only.
    private func placeholder(_ kind: StageKind, entry: Node, kindNode: Node) -> ParsedStage {
        let options: StageOptions
        switch kind {
        case .decode: options = .decode(DecodeOptions())
        case .detect: options = .detect(DetectOptions(model: ""))
        case .track: options = .track(TrackOptions())
        case .pose: options = .pose(PoseOptions(model: ""))
        case .flow: options = .flow(FlowOptions())
        case .classify: options = .classify(ClassifyOptions(model: ""))
        case .smooth: options = .smooth(SmoothOptions())
        }
        return ParsedStage(options: options, entry: entry, kindNode: kindNode, nodes: [:], complete: false)
    }

    private func parseStage(_ kind: StageKind, _ r: MappingReader, entry: Node, kindNode: Node) -> ParsedStage? {
        var nodes: [String: Node] = [:]
        for item in r.entries { nodes[item.key] = item.value }
        var stage = ParsedStage(options: .decode(DecodeOptions()), entry: entry, kindNode: kindNode, nodes: nodes)
        let modelHint = "the name of a model declared under `models:`"
        switch kind {
        case .decode:
            var options = DecodeOptions()
            if let fps = r.number("fps", in: NumberRange(min: 0, minInclusive: false, max: 240)) { options.fps = fps }
            if let size = r.size("size") { options.size = size }
            if let resize = r.choice("resize", of: ResizeMode.allCases.map(\.rawValue)) {
                options.resize = ResizeMode(rawValue: resize)!
            }
            stage.options = .decode(options)
        case .detect:
            let model = r.string("model", required: modelHint)
            let threshold = r.number("threshold", in: .unit)
            let iou = r.number("iou", in: .unit)
            let max = r.int("max", in: .between(1, 10000))
            let classes = r.strings("classes")
            let agnostic = r.bool("agnostic")
            guard let model else { return nil }
            var options = DetectOptions(model: model)
            if let threshold { options.threshold = threshold }
            if let iou { options.iou = iou }
            if let agnostic { options.agnostic = agnostic }
            if let max { options.maxDetections = max }
            if let classes { options.classes = classes }
            stage.options = .detect(options)
        case .track:
            var options = TrackOptions()
            if let trackKind = r.choice("kind", of: TrackOptions.Kind.allCases.map(\.rawValue)) {
                options.kind = TrackOptions.Kind(rawValue: trackKind)!
            }
            options.model = r.string("model")
            if let maxLost = r.int("max_lost", in: .between(0, 100_000)) { options.maxLost = maxLost }
            if let confirm = r.int("confirm", in: .between(1, 1000)) { options.confirm = confirm }
            if let iou = r.number("iou", in: .unit) { options.iou = iou }
            if let high = r.number("high", in: .unit) { options.high = high }
            if let low = r.number("low", in: .unit) { options.low = low }
            options.start = max(options.start, options.high)
            if let start = r.number("start", in: .unit) { options.start = start }
            if let appearance = r.number("appearance", in: .unit) { options.appearance = appearance }
            if let refind = r.number("refind", in: .unit) { options.refind = refind }
            if options.low > options.high {
                file.error("`low` (\(options.low)) must not exceed `high` (\(options.high))",
                           at: r.entries.first { $0.key == "low" }?.keyNode)
            }
            if options.start < options.high {
                file.error("`start` (\(options.start)) must be at least `high` (\(options.high)): a detection too "
                           + "weak for the first association cannot start a track",
                           at: r.entries.first { $0.key == "start" }?.keyNode)
            }
            if options.kind == .iou {
                for key in ["appearance", "refind"] {
                    if let entry = r.entries.first(where: { $0.key == key }) {
                        file.error("`\(key)` only applies to `kind: siamese`", at: entry.keyNode)
                    }
                }
            }
            if options.kind == .siamese, options.model == nil, !r.has("model") {
                r.missing("model", "a `siamese` tracker needs its model (a name under `models:` with card kind "
                          + "tracker); or use `kind: iou` to track by box overlap alone")
                return nil
            }
            if options.kind == .iou, r.has("model") {
                file.error("`model` only applies to `kind: siamese`; an `iou` tracker uses no model",
                           at: r.entries.first { $0.key == "model" }?.keyNode)
                options.model = nil
            }
            stage.options = .track(options)
        case .pose:
            let model = r.string("model", required: modelHint)
            let threshold = r.number("threshold", in: .unit)
            guard let model else { return nil }
            var options = PoseOptions(model: model)
            if let threshold { options.threshold = threshold }
            stage.options = .pose(options)
        case .flow:
            var options = FlowOptions()
            if let method = r.choice("method", of: FlowOptions.Method.allCases.map(\.rawValue)) {
                options.method = FlowOptions.Method(rawValue: method)!
            }
            if let preset = r.choice("preset", of: FlowOptions.Preset.allCases.map(\.rawValue)) {
                options.preset = FlowOptions.Preset(rawValue: preset)!
                if options.method != .dis {
                    file.error("`preset` applies to `method: dis` only; this stage computes "
                               + "`\(options.method.rawValue)`", at: r.value("preset"))
                }
            }
            options.size = r.size("size")
            options.bound = r.number("bound", in: .positive)
            stage.options = .flow(options)
        case .classify:
            let model = r.string("model", required: modelHint)
            stage.explicitKind = r.choice("kind", of: ClassifierKind.allCases.map(\.rawValue))
                .flatMap(ClassifierKind.init(rawValue:))
            let per = r.choice("per", of: ClassifyScope.allCases.map(\.rawValue)).flatMap(ClassifyScope.init)
            stage.explicitClip = r.int("clip", in: .between(1, 1024))
            stage.explicitStride = r.int("stride", in: .between(1, 1024))
            let partial = r.choice("partial", of: PartialClipRule.allCases.map(\.rawValue))
                .flatMap(PartialClipRule.init)
            let segments = r.int("segments", in: .between(1, 64))
            guard let model else { return nil }
            var options = ClassifyOptions(model: model)
            if let kind = stage.explicitKind { options.kind = kind }
            if let per { options.per = per }
            if let partial { options.partial = partial }
            if let segments { options.segments = segments }
            stage.options = .classify(options)
        case .smooth:
            var options = SmoothOptions()
            if let window = r.int("window", in: .between(1, 1000)) { options.window = window }
            let enter = r.number("enter", in: .unit)
            let exit = r.number("exit", in: .unit)
            if let enter { options.enter = enter }
            if let exit { options.exit = exit }
            if options.exit > options.enter, enter != nil || exit != nil {
                file.error("`exit` (\(formatNumber(options.exit))) must not be above `enter` "
                           + "(\(formatNumber(options.enter))): a segment opens at `enter` and stays open until the "
                           + "score falls below `exit`", at: r.value("exit") ?? r.value("enter"))
            }
            if let minLength = r.number("min_length", in: .between(0, 86400)) { options.minLength = minLength }
            if let ignore = r.strings("ignore") { options.ignore = ignore }
            stage.options = .smooth(options)
        }
        return stage
    }
}

/// The checks that need models and the whole stage list.
struct StageChecker {
    let file: YAMLFile
    let models: [ConfigParser.DeclaredModel]
    var stages: [ParsedStage]
    /// The first `pipeline:` entry that is not a stage (unknown kind, not a mapping), if any.
    let unreadable: Node?

    init(file: YAMLFile, models: [ConfigParser.DeclaredModel], stages: [ParsedStage], unreadable: Node?) {
        self.file = file
        self.models = models
        self.stages = stages
        self.unreadable = unreadable
    }

    func location(_ node: Node) -> ConfigLocation {
        ConfigLocation(file: file.path, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    /// Checks model use and wiring; returns the stages with card-derived defaults filled in.
    mutating func check() -> [StageConfig] {
        for index in stages.indices {
            var stage = stages[index]
            resolveModel(&stage)
            stages[index] = stage
        }
        checkWiring()
        checkAcrossStages()
        warnAboutUnusedWork()
        return stages.map { StageConfig(options: $0.options, location: location($0.entry)) }
    }

    /// The card for a stage's `model`, reporting undeclared names and cards of the wrong kind.
    func card(for stage: ParsedStage, fits: [ModelKind], needs: String) -> ModelCard? {
        guard let name = stage.options.modelName, let node = stage.nodes["model"] else { return nil }
        guard let declared = models.first(where: { $0.name == name }) else {
            var message = "model `\(name)` is not declared under `models:`"
            if models.isEmpty {
                message += "; add it, e.g. `models: { \(name): models/\(name).yaml }`"
            } else {
                if let guess = suggestion(for: name, among: models.map(\.name)) {
                    message += "; did you mean `\(guess)`?"
                }
                message += " (declared: \(models.map(\.name).joined(separator: ", ")))"
            }
            file.error(message, at: node)
            return nil
        }
        guard let reference = declared.loaded else { return nil }  // the card's own errors are already reported
        guard fits.contains(reference.card.kind) else {
            file.error("model `\(name)` (\(reference.cardPath)) has kind `\(reference.card.kind.rawValue)`, but "
                       + "`\(stage.options.kind)` needs \(needs)", at: node)
            return nil
        }
        return reference.card
    }

    func resolveModel(_ stage: inout ParsedStage) {
        guard stage.complete else { return }
        switch stage.options {
        case let .detect(options):
            guard let card = card(for: stage, fits: [.detector], needs: "a model with card kind `detector`")
            else { break }
            let missing = options.classes.filter { !card.labels.contains($0) }
            if !missing.isEmpty {
                file.error("model `\(options.model)` has no class \(listing(missing)) (its labels, from "
                           + "\(card.output.labelsFile ?? card.path): \(card.labels.prefix(12).joined(separator: ", "))"
                           + "\(card.labels.count > 12 ? ", …" : "")); set `classes` to the detector's name for people",
                           at: stage.nodes["classes"] ?? stage.nodes["model"] ?? stage.kindNode)
            }
        case let .pose(options):
            guard let card = card(for: stage, fits: [.pose, .detector],
                                  needs: "a pose model: a detector card with `format: ultralytics-pose` or a card "
                                         + "of kind `pose`") else { break }
            if card.kind == .detector, card.output.format?.hasKeypoints != true {
                file.error("model `\(options.model)` (\(card.path)) gives boxes without keypoints (`format: "
                           + "\(card.output.format?.rawValue ?? "?")`); `pose` needs `format: ultralytics-pose` or a "
                           + "card of kind `pose`", at: stage.nodes["model"] ?? stage.kindNode)
            }
        case .track: _ = card(for: stage, fits: [.tracker], needs: "a model with card kind `tracker`")
        case var .classify(options):
            let classifiers: [ModelKind] = [.threeD, .twoStream, .cnnRNN, .twoD]
            guard let card = card(for: stage, fits: classifiers,
                                  needs: "a classifier (card kind \(listing(classifiers.map(\.rawValue))))")
            else { break }
            let cardKind = card.kind.classifierKind!
            if let explicit = stage.explicitKind, explicit != cardKind, let node = stage.nodes["kind"] {
                file.error("`kind: \(explicit.rawValue)` does not match model `\(options.model)`, whose card "
                           + "(\(card.path)) says `\(cardKind.rawValue)`; remove `kind` to use the card's", at: node)
            }
            options.kind = cardKind
            // Networks that consume the clip whole fix its length; frame-wise ones (2d, two-stream) do not.
            let fixedLength = cardKind == .threeD || cardKind == .cnnRNN
            if fixedLength {
                if let clip = stage.explicitClip, clip != card.input.frames, let node = stage.nodes["clip"] {
                    file.error("`clip: \(clip)` does not match model `\(options.model)`, whose card (\(card.path)) "
                               + "takes \(card.input.frames) frames; remove `clip` to use the card's value", at: node)
                }
                options.clip = card.input.frames
            } else {
                options.clip = stage.explicitClip ?? max(16, card.input.frames)
            }
            if let flow = card.flow, options.clip < flow.stack + 1 {
                file.error("`clip: \(options.clip)` is too short for model `\(options.model)`: its flow network "
                           + "stacks \(flow.stack) flow fields, which take \(flow.stack + 1) frames; use clip "
                           + ">= \(flow.stack + 1)", at: stage.nodes["clip"] ?? stage.kindNode)
            }
            options.stride = stage.explicitStride ?? max(1, options.clip / 2)
            stage.options = .classify(options)
        case .decode, .flow, .smooth: break
        }
    }

    /// Each stage takes only streams an earlier stage gives. Classify's ports depend on its (resolved) kind.
    func checkWiring() {
        var available = Set<StreamKind>()
        for (index, stage) in stages.enumerated() {
            // After an entry that is not a stage at all, what it was meant to give is unknown: stop here.
            if let unreadable, let mark = unreadable.mark, let here = stage.entry.mark, mark.line < here.line { return }
            for stream in stage.options.ports.takes where !available.contains(stream) {
                let producer = stream.producer
                var subject = "`\(stage.options.kind)`"
                if case .classify = stage.options {
                    if stream == .flow { subject = "`classify` with kind `two-stream`" }
                    if stream == .tracks { subject = "`classify` with `per: track`" }
                }
                var message = "\(subject) takes `\(stream)`, but no earlier stage gives it; "
                if let later = stages[(index + 1)...].first(where: { $0.options.kind == producer }) {
                    message += "move the `\(producer)` stage (line \(later.kindNode.mark?.line ?? 0)) before this one"
                } else {
                    message += "add a `\(producer)` stage before this one"
                    if stream == .tracks, !stages.contains(where: { $0.options.kind == .detect }) {
                        message += " (tracking needs `detect` first)"
                    }
                }
                file.error(message, at: stage.kindNode)
            }
            available.formUnion(stage.options.ports.gives)
        }
    }

    /// Settings that must agree between stages: decode rate vs the classifier's training rate, the flow bound
    /// vs the two-stream card, smoothing labels vs the classifier's labels.
    func checkAcrossStages() {
        let decode = stages.first { $0.options.kind == .decode }
        let flowStage = stages.first { $0.options.kind == .flow }
        let classify = stages.first { $0.options.kind == .classify }
        guard let classify, case let .classify(options) = classify.options,
              let card = models.first(where: { $0.name == options.model })?.loaded?.card,
              card.kind.classifierKind != nil else { return }
        if let decode, case let .decode(decodeOptions) = decode.options, let trained = card.input.fps {
            let sampled = decodeOptions.fps / Double(card.input.stride)
            if abs(sampled - trained) > 0.01 * trained {
                let wanted = trained * Double(card.input.stride)
                var message = "model `\(options.model)` was trained on clips at \(formatNumber(trained)) fps "
                    + "(card \(card.path): fps \(formatNumber(trained)), stride \(card.input.stride)), but `decode` "
                    + "samples \(formatNumber(decodeOptions.fps)) fps"
                message += card.input.stride > 1 ? ", which gives \(formatNumber(sampled)) fps" : ""
                message += "; set `fps: \(formatNumber(wanted))` in `decode`"
                file.error(message, at: decode.nodes["fps"] ?? decode.kindNode)
            }
        }
        if let flowStage, case let .flow(flowOptions) = flowStage.options, let bound = flowOptions.bound,
           let cardFlow = card.flow, bound != cardFlow.bound {
            file.error("`bound: \(formatNumber(bound))` differs from the flow bound model `\(options.model)` was "
                       + "trained with (\(formatNumber(cardFlow.bound)) in \(card.path)); remove `bound` to use the "
                       + "card's", at: flowStage.nodes["bound"])
        }
        // (An invalid `preset` value was reported already; comparing its default would only repeat it.)
        if let flowStage, case let .flow(flowOptions) = flowStage.options, let trained = card.flow?.preset,
           flowStage.nodes["preset"].map({ FlowOptions.Preset(rawValue: $0.string ?? "") != nil }) ?? true,
           flowOptions.method != .dis || flowOptions.preset != trained {
            let computed = flowOptions.method == .dis ? "DIS `\(flowOptions.preset.rawValue)`" : "Farneback"
            file.error("model `\(options.model)` was trained on DIS `\(trained.rawValue)` flow (card \(card.path): "
                       + "flow.preset \(trained.rawValue)), but the `flow` stage computes \(computed) flow; set "
                       + "`method: dis, preset: \(trained.rawValue)` in `flow`",
                       at: flowStage.nodes["preset"] ?? flowStage.nodes["method"] ?? flowStage.kindNode)
        }
        if let smooth = stages.first(where: { $0.options.kind == .smooth }), case let .smooth(smoothOptions) =
            smooth.options, !card.labels.isEmpty {
            for label in smoothOptions.ignore where !card.labels.contains(label) {
                var message = "`ignore` names `\(label)`, which is not a label of model `\(options.model)`"
                if let guess = suggestion(for: label, among: card.labels) { message += "; did you mean `\(guess)`?" }
                message += " (labels: \(card.labels.prefix(12).joined(separator: ", "))"
                    + "\(card.labels.count > 12 ? ", …" : ""))"
                file.error(message, at: smooth.nodes["ignore"])
            }
        }
    }

    /// Warnings: work whose result nothing uses, and models nothing uses.
    func warnAboutUnusedWork() {
        guard unreadable == nil else { return }
        for (index, stage) in stages.enumerated() where [.detect, .flow].contains(stage.options.kind) {
            let later = stages[(index + 1)...]
            let used = stage.options.ports.gives.contains { stream in
                later.contains { $0.options.ports.takes.contains(stream) }
            }
            if !used {
                let taker = stage.options.kind == .flow ? "a two-stream `classify`" : "`track` or `pose`"
                file.warning("`\(stage.options.kind)` runs on every frame, but no later stage takes its "
                             + "`\(stage.options.ports.gives[0])` (\(taker) would); remove it to save the time",
                             at: stage.kindNode)
            }
        }
        // Whole-frame clips are cut from decoded frames: decoding smaller than the network's input only blurs.
        if let decode = stages.first(where: { $0.options.kind == .decode }), case let .decode(decodeOptions) =
            decode.options, let classify = stages.first(where: { $0.options.kind == .classify }),
           case let .classify(options) = classify.options, options.per == .frame,
           let card = models.first(where: { $0.name == options.model })?.loaded?.card,
           decodeOptions.size.width < card.input.size.width, decodeOptions.size.height < card.input.size.height {
            file.warning("`decode` frames (\(decodeOptions.size)) are smaller than the input of model "
                         + "`\(options.model)` (\(card.input.size)): clips will be upscaled; decode at "
                         + "\(card.input.size) or larger", at: decode.nodes["size"] ?? decode.kindNode)
        }
        // The tracker's second association uses boxes from `low` up to `high`: the detector must let them through.
        if case let .detect(detect)? = stages.first(where: { $0.options.kind == .detect })?.options,
           let track = stages.first(where: { $0.options.kind == .track }), case let .track(options) = track.options,
           detect.threshold > options.low {
            file.warning("`detect` keeps boxes scoring \(detect.threshold) or more, but `track` matches boxes from "
                         + "`low` (\(options.low)) up: set the detect threshold to \(options.low) so partly hidden "
                         + "people keep their tracks", at: track.kindNode)
        }
        let used = Set(stages.compactMap(\.options.modelName))
        for model in models where !used.contains(model.name) {
            file.warning("model `\(model.name)` is declared but no stage uses it", at: model.keyNode)
        }
    }
}
