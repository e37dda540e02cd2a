// `actiond classify FILE [--pipeline P] [--json] [--all-scores]`: runs a whole-frame pipeline on one file and
// prints the action segments it finds (a table, or one JSON object per segment).
import ArgumentParser
import Foundation
import Pipeline
import Stages
import Synchronization
import TextFormat

struct Classify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify the actions in one video file with a pipeline config.",
        discussion: """
            Runs decode → [flow] → classify → smooth on FILE and prints the segments (label, score, start, end, \
            model). Without --pipeline, uses ACTIOND_PIPELINE if set, else pipelines/default.yaml found beside \
            the executable's package or install prefix (share/actiond/pipelines). A progress bar is drawn on \
            stderr when it is a terminal. Exits 0 ok, 1 runtime failure, 2 usage or configuration error.
            """)

    @Argument(help: "The video file.")
    var file: String

    @Option(help: "The pipeline config (YAML).")
    var pipeline: String?

    @Flag(help: "One JSON object per line: {label, score, start, end, model}.")
    var json = false

    @Flag(help: "Also print every clip's scores (all labels) before the segments.")
    var allScores = false

    @Option(help: "Kernel threads (default: ACTIOND_THREADS, else the config's `threads:`, else all cores).")
    var threads: Int?

    func run() async throws {
        guard FileManager.default.fileExists(atPath: file) else { throw UsageError("no such file: \(file)") }
        let configPath = try pipeline ?? DefaultPipeline.locate()
        let config = try ConfigLoader.load(path: configPath)
        let threadCount = try ThreadKnob.apply(threads, config: config.threads)
        for warning in config.warnings { writeStderr(warning.description) }

        let clips = Collector<ClipScores>()
        let bar = ProgressBar(duration: DecodeSource.duration(of: file))
        var progress: (@Sendable (Double) -> Void)?
        if let bar { progress = { time in bar.update(time) } }
        var tap: (@Sendable (ClipScores) -> Void)?
        if allScores { tap = { score in clips.append(score) } }
        let compiled = try CompiledPipeline(config: config, store: ModelStore())
        try compiled.requireActions()
        let graph = try compiled.file(file, threads: max(1, threadCount / 2), progress: progress, onClipScores: tap)
        let collected = Collector<ActionSegment>()
        _ = try await graph.run { packet in
            if let segment = packet.value as? ActionSegment { collected.append(segment) }
        }
        bar?.finish()
        let segments = collected.values.sorted { ($0.start, $0.track ?? -1, $0.label) < ($1.start, $1.track ?? -1, $1.label) }
        if allScores { printClips(clips.values, labels: compiled.labels) }
        printSegments(segments, model: compiled.modelName)
    }

    private func printSegments(_ segments: [ActionSegment], model: String) {
        if json {
            for segment in segments {
                // Per-track segments also name the track and its mean box (source pixels); whole-frame ones do not.
                var person = ""
                if let track = segment.track { person += ",\"track\":\(track)" }
                if let box = segment.box {
                    person += ",\"box\":[" + [box.x, box.y, box.width, box.height].map { decimal($0, digits: 1) }
                        .joined(separator: ",") + "]"
                }
                print("{\"label\":\(jsonString(segment.label)),\"score\":\(decimal(segment.score, digits: 4)),"
                      + "\"start\":\(decimal(segment.start, digits: 3)),\"end\":\(decimal(segment.end, digits: 3))"
                      + person + ",\"model\":\(jsonString(model))}")
            }
            return
        }
        guard !segments.isEmpty else {
            print("no action segments (model \(model))")
            return
        }
        let width = max(5, segments.map(\.label.count).max() ?? 0)
        print("label".padding(toLength: width, withPad: " ", startingAt: 0) + "   score     start       end")
        for segment in segments {
            print(segment.label.padding(toLength: width, withPad: " ", startingAt: 0)
                  + "  " + pad(decimal(segment.score, digits: 3), 6) + pad(decimal(segment.start, digits: 2), 10)
                  + pad(decimal(segment.end, digits: 2), 10))
        }
        print("model: \(model)")
    }

    private func printClips(_ clips: [ClipScores], labels: [String]) {
        for clip in clips {
            if json {
                let scores = zip(labels, clip.scores).map { "\(jsonString($0)):\(decimal(Double($1), digits: 4))" }
                print("{\"clip\":{\"start\":\(decimal(clip.start, digits: 3)),\"end\":\(decimal(clip.end, digits: 3)),"
                      + "\"scores\":{\(scores.joined(separator: ","))}}}")
            } else {
                let scores = zip(labels, clip.scores).map { "\($0)=\(decimal(Double($1), digits: 3))" }
                print("clip \(decimal(clip.start, digits: 2))–\(decimal(clip.end, digits: 2))s  "
                      + scores.joined(separator: " "))
            }
        }
    }
}

/// Finds a pipeline config shipped with actiond: `default.yaml` (actions; ACTIOND_PIPELINE overrides it) or
/// `people.yaml` (people, for `detect`).
enum DefaultPipeline {
    static func candidates(name: String = "default.yaml") -> [String] {
        var result: [String] = []
        if name == "default.yaml", let env = ProcessInfo.processInfo.environment["ACTIOND_PIPELINE"], !env.isEmpty {
            result.append(env)
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // The package checkout (.build/<triple>/<config>/actiond) and the install prefix (<prefix>/bin/actiond).
        for _ in 0..<5 {
            result.append(directory.appendingPathComponent("pipelines/" + name).path)
            result.append(directory.appendingPathComponent("share/actiond/pipelines/" + name).path)
            directory = directory.deletingLastPathComponent()
        }
        return result
    }

    static func locate(name: String = "default.yaml") throws -> String {
        let paths = candidates(name: name)
        if let found = paths.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw UsageError("no default pipeline found; pass --pipeline FILE or set ACTIOND_PIPELINE (looked in: "
                         + paths.prefix(4).joined(separator: ", ") + ", …)")
    }
}

/// A one-line progress bar on stderr, only when stderr is a terminal.
final class ProgressBar: Sendable {
    let duration: Double
    private let last = Mutex<Int>(-1)

    init?(duration: Double?) {
        guard isatty(2) != 0, let duration, duration > 0 else { return nil }
        self.duration = duration
    }

    func update(_ time: Double) {
        let percent = min(100, Int(time / duration * 100))
        let changed = last.withLock { value -> Bool in
            guard value != percent else { return false }
            value = percent
            return true
        }
        guard changed else { return }
        let filled = percent * 30 / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: 30 - filled)
        let seconds = decimal(time, digits: 1) + "/" + decimal(duration, digits: 1)
        FileHandle.standardError.write(Data("\r[\(bar)] \(percent)%  \(seconds)s".utf8))
    }

    func finish() { clearLine() }

    /// Clears the bar's line (before other output on a shared terminal; the next update draws it again).
    func clearLine() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}

func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }

/// Values gathered from the pipeline's tasks.
final class Collector<Value: Sendable>: Sendable {
    private let items = Mutex<[Value]>([])
    func append(_ value: Value) { items.withLock { $0.append(value) } }
    var values: [Value] { items.withLock { $0 } }
}
