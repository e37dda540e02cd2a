// `actiond check PIPELINE.yaml`: validates a pipeline config and every model card it names, before anything runs.
import ArgumentParser
import Foundation
import Pipeline
import Stages

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a pipeline config and its model cards.",
        discussion: """
            Checks types, ranges, unknown keys, model references, model cards (and the graph and labels files \
            they name), stage wiring, and loads every ONNX graph to check each card against its declared inputs \
            and outputs (unless --no-graphs). Every problem is printed as `file:line:col: error: message`, sorted by \
            position. Warnings (work whose result no stage uses, unused models) are printed the same way as \
            `warning:` lines and do not fail the check. Also checks, on this machine, the folders and files \
            `actiond run` will use: watched, `done: move:` and quarantine folders must be folders, event logs and \
            the journal must not be folders, and what does not exist yet must be creatable (skip with \
            --no-filesystem when checking a config for another machine). Exits 0 when valid, 2 on any config, \
            card or filesystem error.
            """)

    @Argument(help: "The pipeline config (YAML).")
    var config: String

    @Flag(name: .shortAndLong, help: "Print nothing when the config is valid.")
    var quiet = false

    @Flag(help: "Do not load the ONNX graphs (only check that they exist), e.g. for placeholder models.")
    var noGraphs = false

    @Flag(help: "Do not check the folders and files the service would use (for a config meant for another machine).")
    var noFilesystem = false

    func run() throws {
        let pipeline = try ConfigLoader.load(path: config)
        for warning in pipeline.warnings { writeStderr(warning.description) }
        if !noFilesystem { try checkFilesystem(pipeline) }
        let graphsChecked = !noGraphs
        if graphsChecked { try pipeline.checkModelGraphs() }
        guard !quiet else { return }
        print("\(config): valid")
        print("  stages: " + pipeline.stages.map(\.kind.rawValue).joined(separator: " → "))
        let width = pipeline.stages.map(\.kind.rawValue.count).max() ?? 0
        for stage in pipeline.stages {
            let takes = stage.ports.takes.isEmpty ? "-" : stage.ports.takes.map(\.rawValue).joined(separator: ", ")
            let name = stage.kind.rawValue.padding(toLength: width, withPad: " ", startingAt: 0)
            print("    \(name)  takes \(takes); gives \(stage.ports.gives.map(\.rawValue).joined(separator: ", "))")
        }
        for model in pipeline.models {
            let card = model.card
            print("  model \(model.name): \(card.kind.rawValue) `\(card.name)`, \(card.input.layout.rawValue) "
                  + "\(card.input.frames)×\(card.input.size), \(card.labels.count) labels (\(model.cardPath))")
        }
        print("  sources: \(pipeline.sources.count), sinks: \(pipeline.sinks.count)")
        if !graphsChecked {
            print("note: ONNX graphs were found but not loaded (--no-graphs), so the cards were not checked "
                  + "against the graphs' inputs and outputs")
        }
    }
}

/// Prints the filesystem warnings of `pipeline` and throws its filesystem errors (`run` and `check` share it).
func checkFilesystem(_ pipeline: PipelineConfig) throws(ConfigError) {
    let diagnostics = pipeline.filesystemDiagnostics()
    for warning in diagnostics where warning.severity == .warning { writeStderr(warning.description) }
    let errors = diagnostics.filter { $0.severity == .error }
    if !errors.isEmpty { throw ConfigError(errors) }
}
