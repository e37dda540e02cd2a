// `actiond track FILE [--pipeline P] [--fps F] [--json] [--init x,y,w,h]`: the people of a video followed across
// frames with stable ids (decode → detect → [pose] → track), or one target from a given box without a detector
// (SiamFC proper); and `actiond bench track`, the cost of association and search per frame.
import ArgumentParser
import Foundation
import Media
import Pipeline
import Stages
import Synchronization
import Synth
import TextFormat
import Vision

struct TrackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track",
        abstract: "Follow the people of a video across frames with stable ids.",
        discussion: """
            Runs the pipeline's decode → detect → [pose] → track stages on FILE and prints, per processed frame, \
            the tracks: a line per frame, or with --json one object per frame, {"t": seconds, "frame": n, \
            "tracks": [{"id": k, "box": [x, y, w, h], "score": s, "state": "confirmed"|"lost"|"removed", \
            "evidence": "detection"|"search"|"prediction", "keypoints": [[x, y, s], …]}]} in source-video pixels. \
            Confirmed tracks are the people seen on this frame (matched to a detection, or found by the Siamese \
            search where the detector missed them); lost ones are predicted boxes of people not seen for up to \
            `max_lost` frames; a removed track is reported once. Ids are deterministic: the same file and \
            pipeline give the same ids. With --init x,y,w,h (source pixels, on the first processed frame) one \
            target is followed by the Siamese tracker alone, without a detector: always one track, id 1. \
            Without --pipeline, uses pipelines/people.yaml beside the executable's package or install prefix. \
            Exits 0 ok, 1 runtime failure (e.g. FILE is not a video), 2 usage or configuration error.
            """)

    @Argument(help: "The video file.")
    var file: String

    @Option(help: "The pipeline config (YAML) with decode, detect and track stages.")
    var pipeline: String?

    @Option(help: "Frames per second to process (default: the decode stage's fps).")
    var fps: Double?

    @Option(help: "Minimum detection score (default: the detect stage's threshold).")
    var threshold: Double?

    @Option(name: .customLong("init"), help: "x,y,w,h: follow this one box (source pixels) without a detector.")
    var initial: String?

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
        let start = try initial.map(Self.parseBox)
        let config = try PeoplePipeline.load(pipeline, fps: fps, threshold: threshold, track: true)
        let threadCount = try ThreadKnob.apply(threads, config: config.threads)
        for warning in config.warnings { writeStderr(warning.description) }
        let bar = ProgressBar(duration: DecodeSource.duration(of: file))
        let clock = ContinuousClock(), began = clock.now
        let (frames, tracks): (Int, Int)
        if let start {
            (frames, tracks) = try followOne(start, config: config, bar: bar)
        } else {
            (frames, tracks) = try await followAll(config: config, threads: threadCount, bar: bar)
        }
        bar?.finish()
        guard frames > 0 else {
            throw MediaError(.notAVideo, source: file, operation: "decode", reason: "no frame could be decoded")
        }
        if !json {
            let elapsed = clock.now - began
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            print("\(frames) frames, \(tracks) track\(tracks == 1 ? "" : "s"), "
                  + "\(decimal(Double(frames) / max(seconds, 1e-9), digits: 1)) frames/s (decode included)")
        }
    }

    /// Every person: the pipeline's stage graph, printed as frames come.
    private func followAll(config: PipelineConfig, threads: Int, bar: ProgressBar?) async throws -> (Int, Int) {
        guard config.stages.contains(where: { $0.kind == .track }) else {
            throw ConfigError([ConfigDiagnostic(at: ConfigLocation(file: config.file, line: 1, column: 1),
                                                "the pipeline has no `track` stage; add one after `detect`, e.g. "
                                                + "`- track: { kind: siamese, model: tracker }` or "
                                                + "`- track: { kind: iou }`")])
        }
        let compiled = try CompiledPipeline(config: config, store: ModelStore())
        var progress: (@Sendable (Double) -> Void)?
        if let bar { progress = { time in bar.update(time) } }
        let graph = try compiled.file(file, threads: threads, progress: progress)
        let state = Mutex((frames: 0, ids: Set<Int>()))
        let json = self.json
        _ = try await graph.run { packet in
            guard let tracks = packet.value as? [TrackBox] else { return }
            let index = state.withLock { s in
                defer { s.frames += 1; s.ids.formUnion(tracks.map(\.id)) }
                return s.frames
            }
            bar?.clearLine()
            print(json ? TrackJSON.frame(time: packet.time, index: index, tracks: tracks)
                       : TrackJSON.text(time: packet.time, index: index, tracks: tracks))
        }
        return state.withLock { ($0.frames, $0.ids.count) }
    }

    /// One target from `box` (source pixels) by the Siamese tracker alone.
    private func followOne(_ box: PixelRect, config: PipelineConfig, bar: ProgressBar?) throws -> (Int, Int) {
        guard let decode = config.decode else { throw UsageError("the pipeline has no `decode` stage") }
        guard case let .track(options)? = config.stages.first(where: { $0.kind == .track })?.options,
              options.kind == .siamese, let name = options.model, let card = config.model(named: name)?.card
        else {
            throw ConfigError([ConfigDiagnostic(at: ConfigLocation(file: config.file, line: 1, column: 1),
                                                "--init follows one box with the Siamese tracker: the pipeline needs "
                                                + "a `track` stage with `kind: siamese` and its `model`")])
        }
        let compiled: CompiledTracker
        do {
            compiled = try CompiledTracker(card: card, model: name)
        } catch {
            let at = card.locations["siamese"] ?? ConfigLocation(file: card.path, line: 1, column: 1)
            throw ConfigError([ConfigDiagnostic(at: at, "\(error)")])
        }
        let info = try VideoDecoder(file).info
        let quarter = abs(info.rotation) % 180 == 90
        let sourceWidth = Double(quarter ? info.height : info.width)
        let sourceHeight = Double(quarter ? info.width : info.height)
        let centre = box.centre
        guard centre.x >= 0, centre.y >= 0, centre.x < sourceWidth, centre.y < sourceHeight else {
            throw UsageError("--init box \(Self.text(box)) is outside the \(Int(sourceWidth))x\(Int(sourceHeight)) "
                             + "frame: its centre must be inside the picture")
        }
        var tracker: SingleTargetTracker?
        var frames = 0
        try DecodeSource(path: file, options: decode).forEachFrame { record in
            let image = record.value.image
            bar?.update(record.time)
            let transform = image.transform
            let shown: PixelRect, confidence: Double
            if var running = tracker {
                (shown, confidence) = try running.track(image)
                tracker = running
            } else {
                let a = transform.toTarget(x: box.x, y: box.y)
                let b = transform.toTarget(x: box.x + box.width, y: box.y + box.height)
                let working = PixelRect(x: a.x, y: a.y, width: b.x - a.x, height: b.y - a.y)
                tracker = try SingleTargetTracker(compiled, frame: image, box: working)
                (shown, confidence) = (working, 1)
            }
            let track = TrackBox(id: 1, box: shown, state: .confirmed, score: confidence, evidence: .search,
                                 source: transform.sourceBox(shown))
            bar?.clearLine()
            print(json ? TrackJSON.frame(time: record.time, index: frames, tracks: [track])
                       : TrackJSON.text(time: record.time, index: frames, tracks: [track]))
            frames += 1
        }
        return (frames, frames > 0 ? 1 : 0)
    }

    static func parseBox(_ text: String) throws -> PixelRect {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            Double($0.trimmingCharacters(in: .whitespaces))
        }
        guard parts.count == 4, let x = parts[0], let y = parts[1], let w = parts[2], let h = parts[3],
              [x, y, w, h].allSatisfy(\.isFinite)
        else { throw UsageError("--init takes x,y,w,h (four numbers, source pixels), got `\(text)`") }
        guard w >= 1, h >= 1 else { throw UsageError("--init box width and height must be at least 1, got \(text)") }
        return PixelRect(x: x, y: y, width: w, height: h)
    }

    static func text(_ box: PixelRect) -> String {
        [box.x, box.y, box.width, box.height].map { decimal($0, digits: 1) }.joined(separator: ",")
    }
}

/// How tracks are printed: one JSON object, or one line, per frame.
enum TrackJSON {
    static func frame(time: Double, index: Int, tracks: [TrackBox]) -> String {
        let items = tracks.map { track -> String in
            let b = track.source
            var item = "{\"id\":\(track.id),\"box\":[" + [b.x, b.y, b.width, b.height].map { decimal($0, digits: 2) }
                .joined(separator: ",") + "],\"score\":\(decimal(track.score, digits: 4)),"
                + "\"state\":\"\(track.state.rawValue)\",\"evidence\":\"\(track.evidence.rawValue)\""
            if !track.keypoints.isEmpty {
                item += ",\"keypoints\":[" + track.keypoints.map {
                    "[\(decimal($0.x, digits: 2)),\(decimal($0.y, digits: 2)),\(decimal(Double($0.score), digits: 3))]"
                }.joined(separator: ",") + "]"
            }
            return item + "}"
        }
        return "{\"t\":\(decimal(time, digits: 4)),\"frame\":\(index),\"tracks\":[\(items.joined(separator: ","))]}"
    }

    static func text(time: Double, index: Int, tracks: [TrackBox]) -> String {
        let seen = tracks.filter { $0.state == .confirmed }.count
        var lines = ["frame \(index) t=\(decimal(time, digits: 3))s: \(seen) confirmed, \(tracks.count - seen) other"]
        for track in tracks {
            lines.append("  #\(track.id) \(track.state.rawValue) \(decimal(track.score, digits: 2)) box "
                         + TrackCommand.text(track.source) + " (\(track.evidence.rawValue))")
        }
        return lines.joined(separator: "\n")
    }
}

/// `actiond bench track`: milliseconds per frame of the track stage alone (association, and for a Siamese
/// tracker the search crops, backbone runs and correlations), on rendered frames whose detections are found once
/// beforehand; the `iou` tracker on the same detections beside it.
struct BenchTrack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track",
        abstract: "Time the track stage (association + Siamese search) per frame; prints medians beside kind iou.")

    @Option(help: "The pipeline config with decode, detect and track stages (default: pipelines/people.yaml).")
    var pipeline: String?

    @Option(help: "People in the rendered scene (one performer and people walking across; with --busy, at most).")
    var people: Int = 4

    @Flag(help: "A busy scene (people at all distances who come and go, props in front) instead.")
    var busy = false

    @Option(help: "Rendered frames (15 per second); each timed run tracks all of them from a fresh tracker.")
    var frames: Int = 60

    @Option(help: "Timed runs; the median frame time over all runs is reported.")
    var runs: Int = 3

    @Option(help: "Kernel threads (default: ACTIOND_THREADS, else the config's `threads:`, else all cores).")
    var threads: Int?

    func run() throws {
        guard frames >= 2, runs >= 1, (1...16).contains(people) else {
            throw UsageError("--frames must be at least 2, --runs at least 1, --people 1...16")
        }
        let config = try PeoplePipeline.load(pipeline, track: true)
        let threadCount = try ThreadKnob.apply(threads, config: config.threads)
        guard case let .track(trackOptions)? = config.stages.first(where: { $0.kind == .track })?.options else {
            throw UsageError("the pipeline needs decode, detect and track stages")
        }
        var (detect, size) = try PeoplePipeline.detectStage(config)
        let images = PeoplePipeline.renderedFrames(size: size, count: frames, busy: busy, people: people)
        let detections = try images.map { try detect.detect($0) }
        var kinds: [(String, TrackOptions, CompiledTracker?)] = []
        if trackOptions.kind == .siamese, let name = trackOptions.model, let card = config.model(named: name)?.card {
            kinds.append(("siamese (\(card.name))", trackOptions, try CompiledTracker(card: card, model: name)))
        }
        var iou = trackOptions
        iou.kind = .iou
        iou.model = nil
        kinds.append(("iou", iou, nil))
        let perFrame = Double(detections.map(\.count).reduce(0, +)) / Double(detections.count)
        print("track on \(images.count) rendered \(size) frames, \(decimal(perFrame, digits: 1)) detections/frame, "
              + "\(threadCount) thread\(threadCount == 1 ? "" : "s"):")
        for (label, options, compiled) in kinds {
            var times: [Double] = [], reported = 0, searches = 0
            for _ in 0..<runs {
                var stage = try TrackStage(options: options, compiled: compiled)
                for (image, found) in zip(images, detections) {
                    let start = monotonicMilliseconds()
                    reported += try stage.step(image, found).filter { $0.state == .confirmed }.count
                    times.append(monotonicMilliseconds() - start)
                }
                searches += stage.searchCount
            }
            times.sort()
            print("  \(label): median \(decimal(times[times.count / 2], digits: 3)) ms/frame (p90 "
                  + "\(decimal(times[times.count * 9 / 10], digits: 3)), max \(decimal(times[times.count - 1], digits: 3)) "
                  + "ms); \(decimal(Double(reported) / Double(times.count), digits: 1)) confirmed tracks/frame, "
                  + "\(decimal(Double(searches) / Double(times.count), digits: 1)) searches/frame"
                  + (searches > 0 ? ", \(decimal(times.reduce(0, +) / Double(searches), digits: 2)) ms per search "
                     + "(association included)" : ""))
        }
    }
}
