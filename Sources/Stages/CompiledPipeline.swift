// A config compiled once: every stage checked against what this build runs, every model graph loaded and
// compiled (through the process's `ModelStore`, so weights are packed once), and the stage graph's wiring
// checked. `run` does this at start and on SIGHUP, `check` and `classify` the same way. Each file or stream then
// gets a cheap runnable graph: fresh stage state and runner buffers over the shared compiled models.
import Foundation
import ONNX
import Pipeline

public final class CompiledPipeline: Sendable {
    public let config: PipelineConfig
    /// The classifier's labels (score order) and model name.
    public let labels: [String]
    public let modelName: String
    /// Compiled classifiers by the config's model name.
    private let classifiers: [String: CompiledClassifier]
    /// Compiled detectors by the config's model name.
    private let detectors: [String: CompiledDetector]
    /// Compiled Siamese trackers by the config's model name.
    private let trackers: [String: CompiledTracker]
    /// What a run of this pipeline gives: action segments when it classifies, else the people it follows
    /// (`tracks`) or finds (the `poses` of a pose stage, or the `detections`).
    public let output: StreamKind

    /// Compiles `config`. Throws `ConfigError` with the `file:line:col` of each stage this build cannot run and
    /// of each model card whose graphs do not load, do not match the card, or do not compile for its input.
    public init(config: PipelineConfig, store: ModelStore) throws(ConfigError) {
        var diagnostics = Self.unsupportedStages(config)
        // Each distinct card: its graphs against the card, then compiled for the card's input as a run would.
        let provider = ONNXSignatureProvider()
        var seen = Set<String>()
        for model in config.models where seen.insert(model.cardPath).inserted {
            diagnostics += model.card.check(with: provider)
        }
        if !diagnostics.isEmpty { throw ConfigError(diagnostics) }
        var classifiers: [String: CompiledClassifier] = [:]
        for model in config.models {
            guard let kind = model.card.kind.classifierKind else { continue }
            let used = config.stages.compactMap { stage -> ClassifierKind? in
                guard case let .classify(options) = stage.options, options.model == model.name else { return nil }
                return options.kind
            }
            do {
                classifiers[model.name] = try CompiledClassifier(card: model.card, kind: used.first ?? kind,
                                                                 model: model.name, store: store)
            } catch {
                let at = model.card.locations["onnx"] ?? model.card.locations["kind"]
                    ?? ConfigLocation(file: model.card.path, line: 1, column: 1)
                diagnostics.append(ConfigDiagnostic(at: at, "cannot compile the model for the card's input: \(error)"))
            }
        }
        var detectors: [String: CompiledDetector] = [:]
        for stage in config.stages {
            guard case let .detect(options) = stage.options, detectors[options.model] == nil,
                  let model = config.model(named: options.model) else { continue }
            do {
                detectors[options.model] = try CompiledDetector(card: model.card, model: options.model, store: store)
            } catch {
                let card = model.card
                let at = card.locations["output.format"] ?? card.locations["onnx"] ?? card.locations["kind"]
                    ?? ConfigLocation(file: card.path, line: 1, column: 1)
                diagnostics.append(ConfigDiagnostic(at: at, "\(error)"))
            }
        }
        var trackers: [String: CompiledTracker] = [:]
        for stage in config.stages {
            guard case let .track(options) = stage.options, options.kind == .siamese, let name = options.model,
                  trackers[name] == nil, let model = config.model(named: name) else { continue }
            do {
                trackers[name] = try CompiledTracker(card: model.card, model: name, store: store)
            } catch {
                let card = model.card
                let at = card.locations["siamese"] ?? card.locations["onnx"] ?? card.locations["kind"]
                    ?? ConfigLocation(file: card.path, line: 1, column: 1)
                diagnostics.append(ConfigDiagnostic(at: at, "\(error)"))
            }
        }
        if !diagnostics.isEmpty { throw ConfigError(diagnostics) }
        self.config = config
        self.classifiers = classifiers
        self.detectors = detectors
        self.trackers = trackers
        let kinds = Set(config.stages.map(\.kind))
        output = kinds.contains(.classify) ? .segments : kinds.contains(.track) ? .tracks
            : kinds.contains(.pose) ? .poses
            : kinds.contains(.detect) ? .detections : .segments
        var labels: [String] = [], modelName = ""
        for stage in config.stages {
            if case let .classify(options) = stage.options, let model = config.model(named: options.model) {
                labels = model.card.labels
                modelName = model.card.name
            }
        }
        self.labels = labels
        self.modelName = modelName
        // The wiring of the graph itself, on a source that is never run.
        do {
            _ = try graph(source: DecodeSource(path: "", options: config.decode ?? DecodeOptions()),
                          sourceQueue: (capacity: 1, policy: .block))
        } catch {
            throw ConfigError([ConfigDiagnostic(at: ConfigLocation(file: config.file, line: 1, column: 1),
                                                "the pipeline cannot be wired: \(error)")])
        }
    }

    /// The stages (and options) of `config` this build cannot run, at their `file:line:col`. Needs no model.
    public static func unsupportedStages(_ config: PipelineConfig) -> [ConfigDiagnostic] {
        var diagnostics: [ConfigDiagnostic] = []
        func report(_ at: ConfigLocation, _ message: String) { diagnostics.append(ConfigDiagnostic(at: at, message)) }
        let detectModels = config.stages.compactMap { stage -> String? in
            if case let .detect(options) = stage.options { return options.model }
            return nil
        }
        for stage in config.stages {
            switch stage.options {
            case let .pose(options):
                guard let card = config.model(named: options.model)?.card else { break }
                if card.kind == .pose {
                    report(stage.location, "top-down pose models (card kind `pose`, run on person crops) are not "
                           + "supported by this build; use a detector card with `format: ultralytics-pose` and name "
                           + "it in both `detect` and `pose`")
                } else if !detectModels.contains(options.model) {
                    report(stage.location, "`pose` takes its keypoints from the `detect` stage's model: name the same "
                           + "model (\(detectModels.map { "`\($0)`" }.joined(separator: ", "))) or put `\(options.model)` "
                           + "in `detect`")
                }
            case let .classify(options):
                do { try ClassifyStage.check(options) } catch { report(stage.location, "\(error)") }
                if options.per == .track {
                    report(stage.location, "`per: track` (classifying each tracked person) is not supported by this "
                           + "build yet; use `per: frame` for whole-frame clips, and `actiond track` to follow people")
                }
            default: break
            }
        }
        return diagnostics
    }

    /// Every compiled graph the config uses (the store keeps these across a reload).
    public var graphs: [CompiledGraph] {
        classifiers.values.flatMap(\.graphs) + detectors.values.map(\.graph) + trackers.values.flatMap(\.graphs)
    }

    /// Throws unless a run gives action segments (the service and `classify` write actions; people alone are
    /// `actiond detect`'s).
    public func requireActions() throws(ConfigError) {
        guard output != .segments else { return }
        throw ConfigError([ConfigDiagnostic(at: ConfigLocation(file: config.file, line: 1, column: 1),
                                            "the pipeline has no `classify` stage, so it finds no actions; add one "
                                            + "(people alone: `actiond detect FILE --pipeline \(config.file)`)")])
    }

    /// A runnable graph for one file or stream: decode → [detect → [pose] → [track]] → [flow] → classify →
    /// [scores tap] → smooth or best label; or, without classify, decode → detect → [pose] → [track] ending in
    /// the people followed or found.
    /// `onClipScores` sees every clip's scores as they pass (`--all-scores`, clip counters). Queues out of the
    /// decoder take `sourceQueue` (block for files, drop-oldest for live streams); the others block, 4 deep.
    public func graph(source: DecodeSource, sourceQueue: (capacity: Int, policy: QueuePolicy), threads: Int = 1,
                      onClipScores: (@Sendable (ClipScores) -> Void)? = nil) throws -> StageGraph {
        var stages: [AnyStage] = []
        var smoothed = false
        for stage in config.stages {
            let node: AnyStage
            switch stage.options {
            case .decode: continue
            case let .flow(options):
                node = AnyStage(FlowStage(options: options, threads: threads), input: StreamPorts.frames,
                                output: StreamPorts.flow)
            case let .classify(options):
                guard let classifier = classifiers[options.model] else {
                    throw StagesError.unsupported("model `\(options.model)` is not declared")
                }
                node = AnyStage(try ClassifyStage(classifier, options: options))
            case let .smooth(options):
                node = AnyStage(SmoothStage(labels: labels, options: options), input: StreamPorts.clipScores,
                                output: StreamPorts.segments)
                smoothed = true
            case let .detect(options):
                guard let detector = detectors[options.model] else {
                    throw StagesError.unsupported("model `\(options.model)` is not declared")
                }
                node = AnyStage(DetectStage(detector, options: options), input: StreamPorts.frames,
                                output: StreamPorts.detections)
            case .pose:
                node = AnyStage(PoseFromDetectorStage())
            case let .track(options):
                let compiled = options.model.flatMap { trackers[$0] }
                if options.kind == .siamese, compiled == nil {
                    throw StagesError.unsupported("model `\(options.model ?? "")` is not declared")
                }
                node = AnyStage(try TrackStage(options: options, compiled: compiled))
            }
            // The runtime ports are the config's: the same names the config's port check reasoned about.
            let takes = stage.ports.takes.map(\.rawValue), gives = stage.ports.gives.map(\.rawValue)
            guard node.inputs.map(\.name) == takes, node.outputs.map(\.name) == gives else {
                throw StagesError.unsupported("stage `\(node.name)` has ports \(node.inputs.map(\.name)) → "
                                              + "\(node.outputs.map(\.name)), but the config says \(takes) → \(gives)")
            }
            stages.append(node)
            if case .classify = stage.options, let onClipScores {
                stages.append(AnyStage(ScoreTap(onClipScores), input: StreamPorts.clipScores,
                                       output: StreamPorts.clipScores))
            }
        }
        if !smoothed, output == .segments {
            stages.append(AnyStage(BestLabelStage(labels: labels), input: StreamPorts.clipScores,
                                   output: StreamPorts.segments))
        }
        return try StageGraph(source: AnySource(source, port: StreamPorts.frames), sourceQueue: sourceQueue,
                              stages: stages, output: StreamPorts.port(output), stageQueueCapacity: 4)
    }

    /// A graph over one file, its decoder waiting for the pipeline (16 frames queued at most).
    public func file(_ path: String, threads: Int = 1, progress: (@Sendable (Double) -> Void)? = nil,
                     onClipScores: (@Sendable (ClipScores) -> Void)? = nil) throws -> StageGraph {
        guard let decode = config.decode else { throw StagesError.unsupported("the pipeline has no `decode` stage") }
        return try graph(source: DecodeSource(path: path, options: decode, progress: progress),
                         sourceQueue: (capacity: 16, policy: .block), threads: threads, onClipScores: onClipScores)
    }
}

/// Passes clip scores through unchanged, showing each to a callback (per-clip output).
public struct ScoreTap: Stage {
    public typealias Input = ClipScores
    public typealias Output = ClipScores
    public let name = "scores"
    let callback: @Sendable (ClipScores) -> Void

    public init(_ callback: @escaping @Sendable (ClipScores) -> Void) { self.callback = callback }

    public mutating func process(_ input: Timestamped<ClipScores>, emit: Emit<ClipScores>) async throws {
        callback(input.value)
        try await emit(input)
    }
}
