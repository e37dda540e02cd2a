// The model half of validating a config, for `actiond check`: the config compiled as `run` compiles it (every
// card's graphs loaded, compared with the card and compiled for its input; every stage supported and wired).
// A corrupt, truncated or mismatched model is a configuration error at the card's `file:line:col`, never a
// failure blamed on an input.
import Pipeline

extension PipelineConfig {
    /// Throws `ConfigError` with one diagnostic per problem `CompiledPipeline` finds.
    public func checkModelGraphs() throws(ConfigError) {
        _ = try CompiledPipeline(config: self, store: ModelStore())
    }
}
