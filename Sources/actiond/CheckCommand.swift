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
            they name), and stage wiring. Every problem is printed as `file:line:col: error: message`, sorted by \
            position. Warnings (work whose result no stage uses, unused models) are printed the same way as \
            `warning:` lines and do not fail the check. Exits 0 when valid, 2 on any config or card error.
            """)

    @Argument(help: "The pipeline config (YAML).")
    var config: String

    @Flag(name: .shortAndLong, help: "Print nothing when the config is valid.")
    var quiet = false

    func run() throws {
        let pipeline = try ConfigLoader.load(path: config)
        for warning in pipeline.warnings { writeStderr(warning.description) }
        let graphsChecked = try checkGraphs(pipeline)
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
            print("note: ONNX graphs were found but not loaded: this build has no ONNX engine yet, so the cards were "
                  + "not checked against the graphs' inputs and outputs")
        }
    }

    /// Loads every model graph and checks each card against it. Returns false when no loader is available.
    private func checkGraphs(_ pipeline: PipelineConfig) throws(ConfigError) -> Bool {
        guard let provider = onnxSignatureProvider() else { return false }
        var diagnostics: [ConfigDiagnostic] = []
        var seen = Set<String>()
        for model in pipeline.models where seen.insert(model.cardPath).inserted {
            diagnostics += model.card.check(with: provider)
        }
        if !diagnostics.isEmpty { throw ConfigError(diagnostics) }
        return true
    }
}

/// The ONNX importer's signature reader: `check` loads every graph a card names and compares the card with it.
func onnxSignatureProvider() -> ModelSignatureProvider? { ONNXSignatureProvider() }
