// The model half of validating a config: every card's ONNX graphs loaded and compared with the card, then
// every classifier compiled for the card's input as a run would. `actiond check`, `actiond run` (at start) and
// the daemon's SIGHUP reload share it, so a corrupt, truncated or mismatched model is a configuration error
// reported at the card's `file:line:col` before any input is touched, never a failure blamed on an input.
import Pipeline

extension PipelineConfig {
    /// Throws `ConfigError` with one diagnostic per model whose graphs do not load, do not match the card, or do
    /// not compile for the card's input shapes. Each distinct card is checked once.
    public func checkModelGraphs() throws(ConfigError) {
        let provider = ONNXSignatureProvider()
        var diagnostics: [ConfigDiagnostic] = []
        var seen = Set<String>()
        for model in models where seen.insert(model.cardPath).inserted {
            diagnostics += model.card.check(with: provider)
        }
        if !diagnostics.isEmpty { throw ConfigError(diagnostics) }
        seen.removeAll()
        for model in models where seen.insert(model.cardPath).inserted {
            guard let kind = model.card.kind.classifierKind else { continue }
            do {
                _ = try ClipClassifier(card: model.card, kind: kind)
            } catch {
                let at = model.card.locations["onnx"] ?? model.card.locations["kind"]
                    ?? ConfigLocation(file: model.card.path, line: 1, column: 1)
                diagnostics.append(ConfigDiagnostic(file: at.file, line: at.line, column: at.column,
                                                    message: "cannot compile the model for the card's input: \(error)"))
            }
        }
        if !diagnostics.isEmpty { throw ConfigError(diagnostics) }
    }
}
