// `actiond dataset --card CARD.yaml --out DIR [--crop whole|person] [--every N] [--pipeline P] SOURCE...`:
// writes the exact network inputs of labelled windows of rendered clips as .npy, for training (docs/stages.md).
import ArgumentParser
import Foundation
import Pipeline
import Stages

extension DatasetCrop: ExpressibleByArgument {}

struct Dataset: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the preprocessed network inputs of labelled windows of synth clips as .npy files.",
        discussion: """
            For each ground-truth file (`actiond synth` output; the video beside it), cuts windows exactly as \
            the classify stage does and writes DIR/labels.txt, DIR/index.jsonl (one JSON object per sample) and \
            DIR/tensors/*.npy (float32, each exactly what the graph input gets, without the batch dimension). \
            Only the card's preprocessing is used; its .onnx files need not exist. Decode, flow and clip \
            options are the defaults of a pipeline for the card, or those of --pipeline.
            """)

    @Option(help: "The model card (YAML) whose preprocessing to apply.")
    var card: String

    @Option(help: "Output directory (created if missing).")
    var out: String

    @Option(help: "whole (whole frame) or person (square crop around the performer's box).")
    var crop: DatasetCrop = .whole

    @Option(help: "Keep one window in N.")
    var every = 1

    @Option(help: "Take decode, flow and clip options from this pipeline config instead of the defaults.")
    var pipeline: String?

    @Argument(help: "Ground-truth .json files or directories of them.")
    var sources: [String]

    func run() throws {
        guard every >= 1 else { throw UsageError("--every must be at least 1, got \(every)") }
        guard !sources.isEmpty else { throw UsageError("give at least one ground-truth file or directory") }
        let model = try ModelCardLoader.load(path: card, requireGraphs: false)
        guard model.kind.classifierKind != nil, model.kind != .twoD else {
            throw UsageError("\(card): kind `\(model.kind.rawValue)` is not a 3d, two-stream or cnn-rnn classifier")
        }
        let serving = try pipeline.map { try DatasetServing(config: ConfigLoader.load(path: $0)) }
            ?? DatasetServing(card: model)
        let files: [String]
        do { files = try DatasetWriter.groundTruthFiles(sources) } catch { throw UsageError("\(error)") }
        guard !files.isEmpty else { throw UsageError("no .json ground-truth files in \(sources.joined(separator: ", "))") }
        var writer = DatasetWriter(card: model, serving: serving, out: out)
        writer.crop = crop
        writer.every = every
        try writer.begin()
        var total = 0
        for (number, file) in files.enumerated() {
            total += try writer.add(groundTruth: file)
            writeStderr("dataset: \(number + 1)/\(files.count) clips, \(total) samples")
        }
        try writer.end()
        let summary = writer.summary
        print("\(total) samples from \(summary.clips) clips in \(out)")
        for label in model.labels { print("  \(label): \(summary.samples[label] ?? 0)") }
        print("skipped windows: \(summary.skippedTransition) across a transition, "
              + "\(summary.skippedUnknownLabel) with a label not in the card, "
              + "\(summary.skippedNoPerson) without the performer in the picture")
    }
}
