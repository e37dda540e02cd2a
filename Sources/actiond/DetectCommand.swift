// `actiond detect FILE [--pipeline P] [--fps F] [--json]`: the people on every processed frame of a video (or a
// still image), boxes and keypoints in source-video pixels; and `actiond bench detect`, its frames per second.
import ArgumentParser
import Foundation
import Media
import Pipeline
import Stages
import Synchronization
import Synth
import TextFormat
import Vision

struct Detect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find the people (boxes and keypoints) on every processed frame of a video or image.",
        discussion: """
            Runs the pipeline's decode → detect → [pose] stages on FILE (other stages are not run) and prints, per \
            processed frame, the people found: a line per frame, or with --json one object per frame, \
            {"t": seconds, "frame": n, "people": [{"box": [x, y, w, h], "score": s, "keypoints": [[x, y, s], …]}]} \
            with boxes (top-left corner and size) and keypoints in source-video pixels; `frame` counts processed \
            frames from 0, `keypoints` is there when the detector gives them (COCO-17 order for 17). Without \
            --pipeline, uses pipelines/people.yaml beside the executable's package or install prefix (the \
            embedded person + pose model). A progress bar is drawn on stderr when it is a terminal. Exits 0 ok, \
            1 runtime failure (e.g. FILE is not a video or image), 2 usage or configuration error.
            """)

    @Argument(help: "The video or image file.")
    var file: String

    @Option(help: "The pipeline config (YAML) with decode and detect stages.")
    var pipeline: String?

    @Option(help: "Frames per second to process (default: the decode stage's fps).")
    var fps: Double?

    @Option(help: "Minimum box score (default: the detect stage's threshold); evaluation uses a low one.")
    var threshold: Double?

    @Flag(help: "One JSON object per processed frame.")
    var json = false

    @Option(help: "Kernel threads (default: ACTIOND_THREADS, else the config's `threads:`, else all cores).")
    var threads: Int?

    func run() async throws {
        guard FileManager.default.fileExists(atPath: file) else { throw UsageError("no such file: \(file)") }
        if let fps, !(fps > 0 && fps <= 240) { throw UsageError("--fps must be in (0, 240], got \(fps)") }
        if let threshold, !(0...1).contains(threshold) {
            throw UsageError("--threshold must be in [0, 1], got \(threshold)")
        }
        let config = try PeoplePipeline.load(pipeline, fps: fps, threshold: threshold)
        let threadCount = try ThreadKnob.apply(threads, config: config.threads)
        for warning in config.warnings { writeStderr(warning.description) }
        let compiled = try CompiledPipeline(config: config, store: ModelStore())
        let bar = ProgressBar(duration: DecodeSource.duration(of: file))
        var progress: (@Sendable (Double) -> Void)?
        if let bar { progress = { time in bar.update(time) } }
        let graph = try compiled.file(file, threads: threadCount, progress: progress)
        let labels = config.stages.compactMap { stage -> [String]? in
            guard case let .detect(options) = stage.options else { return nil }
            return config.model(named: options.model)?.card.labels
        }.first ?? []
        // Printed as they come (the sink gets frames in time order): a long video shows its people as it goes.
        let counts = Mutex((frames: 0, people: 0))
        let json = self.json
        let clock = ContinuousClock(), start = clock.now
        _ = try await graph.run { packet in
            guard let people = packet.value as? [Detection] else { return }
            let index = counts.withLock { c in
                defer { c.frames += 1; c.people += people.count }
                return c.frames
            }
            let text = json ? PeopleJSON.frame(time: packet.time, index: index, people: people, labels: labels)
                            : PeopleJSON.text(time: packet.time, index: index, people: people, labels: labels)
            bar?.clearLine()
            print(text)
        }
        bar?.finish()
        let elapsed = clock.now - start
        let (frameCount, peopleCount) = counts.withLock { ($0.frames, $0.people) }
        guard frameCount > 0 else {
            throw MediaError(.notAVideo, source: file, operation: "decode", reason: "no frame could be decoded")
        }
        if !json {
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            print("\(frameCount) frames, \(peopleCount) detections, "
                  + "\(decimal(Double(frameCount) / max(seconds, 1e-9), digits: 1)) frames/s (decode included)")
        }
    }
}

/// The people part of a pipeline config: decode, detect and pose stages, and with `track` the track stage.
enum PeoplePipeline {
    static func load(_ path: String?, fps: Double? = nil, threshold: Double? = nil, track: Bool = false) throws
        -> PipelineConfig
    {
        var config = try ConfigLoader.load(path: try path ?? DefaultPipeline.locate(name: "people.yaml"))
        let kept: [StageKind] = track ? [.decode, .detect, .pose, .track] : [.decode, .detect, .pose]
        config.stages = config.stages.filter { kept.contains($0.kind) }
        guard config.stages.contains(where: { $0.kind == .detect }) else {
            throw ConfigError([ConfigDiagnostic(at: ConfigLocation(file: config.file, line: 1, column: 1),
                                                "the pipeline has no `detect` stage; add one, e.g. "
                                                + "`- detect: { model: person }`")])
        }
        for index in config.stages.indices {
            switch config.stages[index].options {
            case var .decode(options) where fps != nil:
                options.fps = fps!
                config.stages[index].options = .decode(options)
            case var .detect(options) where threshold != nil:
                options.threshold = threshold!
                config.stages[index].options = .detect(options)
            default: break
            }
        }
        return config
    }
}

extension PeoplePipeline {
    /// The config's detect stage, compiled, and its decode size (the benches).
    static func detectStage(_ config: PipelineConfig) throws -> (stage: DetectStage, size: PixelSize) {
        guard let decode = config.decode,
              case let .detect(options)? = config.stages.first(where: { $0.kind == .detect })?.options,
              let card = config.model(named: options.model)?.card
        else { throw UsageError("the pipeline needs a decode and a detect stage") }
        return (DetectStage(try CompiledDetector(card: card, model: options.model), options: options), decode.size)
    }

    /// The first `count` frames (15 per second) of a scene rendered in memory with seed 1: a busy scene of up to
    /// `people`, or one performer and `people` − 1 people walking across.
    static func renderedFrames(size: PixelSize, count: Int, busy: Bool, people: Int) -> [Image] {
        var synth = SynthOptions(width: size.width, height: size.height, seconds: Double(count) / 15)
        synth.busy = busy
        synth.people = people
        let scene = ClipScene(options: synth, seed: 1, clip: 0)
        return (0..<min(count, scene.frameCount)).map { index in
            Image(width: size.width, height: size.height, format: .rgb24, pixels: scene.renderFrame(index).pixels)
        }
    }
}

/// How detections are printed: one JSON object, or one line, per frame.
enum PeopleJSON {
    static func frame(time: Double, index: Int, people: [Detection], labels: [String]) -> String {
        let items = people.map { person -> String in
            let b = person.box
            var item = "{\"box\":[" + [b.x, b.y, b.width, b.height].map { decimal($0, digits: 2) }
                .joined(separator: ",") + "],\"score\":\(decimal(Double(person.score), digits: 4))"
            if labels.count > 1, labels.indices.contains(person.classIndex) {
                item += ",\"label\":\(jsonString(labels[person.classIndex]))"
            }
            if !person.keypoints.isEmpty {
                item += ",\"keypoints\":[" + person.keypoints.map {
                    "[\(decimal($0.x, digits: 2)),\(decimal($0.y, digits: 2)),\(decimal(Double($0.score), digits: 3))]"
                }.joined(separator: ",") + "]"
            }
            return item + "}"
        }
        return "{\"t\":\(decimal(time, digits: 4)),\"frame\":\(index),\"people\":[\(items.joined(separator: ","))]}"
    }

    static func text(time: Double, index: Int, people: [Detection], labels: [String]) -> String {
        var lines = ["frame \(index) t=\(decimal(time, digits: 3))s: \(people.count) "
                     + (people.count == 1 ? "person" : "people")]
        for person in people {
            let b = person.box
            let label = labels.indices.contains(person.classIndex) ? labels[person.classIndex] : "class \(person.classIndex)"
            var line = "  \(label) \(decimal(Double(person.score), digits: 2)) box "
                + [b.x, b.y, b.width, b.height].map { decimal($0, digits: 1) }.joined(separator: ",")
            if !person.keypoints.isEmpty {
                let visible = person.keypoints.filter { $0.score >= 0.5 }.count
                line += ", \(visible)/\(person.keypoints.count) keypoints visible"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

/// `actiond bench detect`: frames per second of the people stages alone (letterbox, the detector graph, decoding
/// and NMS, mapping back; no video decoding) on frames rendered in memory with several people.
struct BenchDetect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Time detect (+ pose) on rendered frames at the pipeline's decode size; prints medians and frames/s.")

    @Option(help: "The pipeline config with decode and detect stages (default: pipelines/people.yaml).")
    var pipeline: String?

    @Option(help: "Distinct rendered frames (a busy scene, seed 1); each timed run goes over all of them.")
    var frames: Int = 30

    @Option(help: "Timed runs; the median frame time over all runs is reported.")
    var runs: Int = 5

    @Option(help: "Kernel threads (default: ACTIOND_THREADS, else the config's `threads:`, else all cores).")
    var threads: Int?

    func run() throws {
        guard frames >= 1, runs >= 1 else { throw UsageError("--frames and --runs must be at least 1") }
        let config = try PeoplePipeline.load(pipeline)
        let threadCount = try ThreadKnob.apply(threads, config: config.threads)
        var (stage, size) = try PeoplePipeline.detectStage(config)
        let card = stage.detector.card
        let images = PeoplePipeline.renderedFrames(size: size, count: frames, busy: true, people: 6)
        _ = try stage.detect(images[0])
        var times: [Double] = [], found = 0
        for _ in 0..<runs {
            for image in images {
                let start = monotonicMilliseconds()
                found += try stage.detect(image).count
                times.append(monotonicMilliseconds() - start)
            }
        }
        times.sort()
        let median = times[times.count / 2]
        print("detect\(config.stages.contains { $0.kind == .pose } ? " + pose" : "") with \(card.name) "
              + "(\(card.input.size) input) on \(size) frames, \(threadCount) thread\(threadCount == 1 ? "" : "s"): "
              + "median \(decimal(median, digits: 2)) ms/frame, \(decimal(1000 / median, digits: 1)) frames/s "
              + "(min \(decimal(times[0], digits: 2)), max \(decimal(times[times.count - 1], digits: 2)) ms; "
              + "\(decimal(Double(found) / Double(times.count), digits: 1)) people/frame)")
    }
}
