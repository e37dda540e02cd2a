// Builds a runnable `StageGraph` from a validated config: decode → [flow] → classify → [smooth], for one file
// (`classify`) or for any decode source with its own queue policy (the daemon's files and live streams).
// Whole-frame mode only: detect/track/pose and `per: track` are not supported yet and are refused here.
import Foundation
import Pipeline

/// A pipeline ready to run on one file, with what `classify` prints around it.
public struct FilePipeline: Sendable {
    public let graph: StageGraph
    /// The classifier's labels (score order) and model name.
    public let labels: [String]
    public let modelName: String
    /// True when the graph ends in `smooth` (segments), false when it ends in `classify` (clip scores).
    public let smooths: Bool
}

public enum PipelineBuilder {
    /// `onClipScores` sees every clip's scores as they pass (for `--all-scores`); `progress` every frame time.
    /// Queues: 16 frames after the decoder, blocking (a file waits instead of dropping), 4 between stages.
    public static func file(_ path: String, config: PipelineConfig, threads: Int = 1,
                            progress: (@Sendable (Double) -> Void)? = nil,
                            onClipScores: (@Sendable (ClipScores) -> Void)? = nil) throws -> FilePipeline {
        guard let decode = config.decode else { throw StagesError.unsupported("the pipeline has no `decode` stage") }
        return try build(source: DecodeSource(path: path, options: decode, progress: progress),
                         sourceQueue: (capacity: 16, policy: .block), config: config, threads: threads,
                         onClipScores: onClipScores)
    }

    /// The config's stages after `source`. Live streams pass `.dropOldest` so the decoder never waits.
    public static func build(source: DecodeSource, sourceQueue: (capacity: Int, policy: QueuePolicy),
                             config: PipelineConfig, threads: Int = 1,
                             onClipScores: (@Sendable (ClipScores) -> Void)? = nil) throws -> FilePipeline {
        var stages: [AnyStage] = []
        var labels: [String] = []
        var modelName = ""
        var smooths = false
        var flowOptions: FlowOptions?
        for stage in config.stages {
            switch stage.options {
            case .decode: continue
            case let .flow(options):
                flowOptions = options
                stages.append(AnyStage(FlowStage(options: options, threads: threads)))
            case let .classify(options):
                guard let model = config.model(named: options.model) else {
                    throw StagesError.unsupported("model `\(options.model)` is not declared")
                }
                if options.kind == .twoStream && flowOptions == nil {
                    throw StagesError.unsupported("a two-stream classifier needs a `flow` stage before it")
                }
                let classify = try ClassifyStage(card: model.card, options: options)
                stages.append(AnyStage(classify))
                if let onClipScores { stages.append(AnyStage(ScoreTap(onClipScores))) }
                labels = model.card.labels
                modelName = model.card.name
            case let .smooth(options):
                stages.append(AnyStage(SmoothStage(labels: labels, options: options)))
                smooths = true
            case .detect, .track, .pose:
                throw StagesError.unsupported("stage `\(stage.kind.rawValue)` (\(stage.location)) is not run by "
                                              + "`classify` yet: whole-frame pipelines only")
            }
        }
        let graph = try StageGraph(source: AnySource(source), sourceQueue: sourceQueue, stages: stages,
                                   stageQueueCapacity: 4)
        return FilePipeline(graph: graph, labels: labels, modelName: modelName, smooths: smooths)
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
