// What every running source shares: the validated pipeline, the journal, the current sinks, metrics, the log,
// and the identity of the models (name and SHA-256, stamped on every event).
import Foundation
import Logging
import Media
import Pipeline
import Stages
import Synchronization

/// The sinks in use; a reload that changes `sinks:` swaps them while sources keep running. Also holds lifecycle
/// events that could not be written (disk full, …) until a retry writes them, in order.
public final class OutputHolder: Sendable {
    private let current: Mutex<Output>
    /// Lifecycle events waiting for the sinks to take writes again, oldest first; and how many were dropped.
    private let waiting = Mutex<(events: [LifecycleEvent], dropped: Int)>(([], 0))
    /// At most this many lifecycle events wait; beyond it the oldest are dropped (and counted).
    public static let waitingLimit = 1000

    public init(_ output: Output) { current = Mutex(output) }
    public var output: Output { current.withLock { $0 } }

    /// Writes a lifecycle event after any still waiting. If the sinks refuse it, it waits for `retryWaiting`
    /// and the error is thrown (the caller logs it).
    public func write(_ event: LifecycleEvent) throws {
        try waiting.withLock { state in
            state.events.append(event)
            if state.events.count > Self.waitingLimit {
                state.events.removeFirst(state.events.count - Self.waitingLimit)
                state.dropped += 1
            }
            try Self.flush(&state.events, to: output)
        }
    }

    /// Writes the lifecycle events still waiting (called periodically). Returns how many are still waiting.
    @discardableResult
    public func retryWaiting() -> Int {
        waiting.withLock { state in
            try? Self.flush(&state.events, to: output)
            return state.events.count
        }
    }

    /// Lifecycle events dropped because too many were waiting.
    public var droppedLifecycleEvents: Int { waiting.withLock { $0.dropped } }

    private static func flush(_ events: inout [LifecycleEvent], to output: Output) throws {
        while let first = events.first {
            try output.write(first)
            events.removeFirst()
        }
    }
    /// Installs `output` and returns the one it replaces (the caller closes it).
    public func swap(_ output: Output) -> Output {
        current.withLock { old in
            defer { old = output }
            return old
        }
    }
}

/// The classifier the pipeline runs, as events name it.
public struct ModelIdentity: Sendable, Equatable {
    public var name: String
    /// SHA-256 of the card's ONNX graph (for two-stream: of the RGB graph, then the flow graph, hashed together).
    public var sha256: String
    /// SHA-256 of the config text and the model hashes: what the journal records a file was processed with.
    public var configHash: String

    public init(config: PipelineConfig) throws {
        var name = "", graphs: [String] = []
        for stage in config.stages {
            guard case let .classify(options) = stage.options, let model = config.model(named: options.model) else {
                continue
            }
            name = model.card.name
            graphs = [model.card.onnx, model.card.flow?.onnx, model.card.encoder?.onnx, model.card.head?.onnx]
                .compactMap { $0 }
        }
        let hashes = try graphs.map { try sha256Hex(file: $0) }
        self.name = name
        sha256 = hashes.count == 1 ? hashes[0] : sha256Hex(Data(hashes.joined().utf8))
        let text = (try? Data(contentsOf: URL(fileURLWithPath: config.file))) ?? Data()
        configHash = sha256Hex(text + Data(hashes.joined().utf8))
    }
}

/// Event keys found in the sinks' files at start-up, for files a crash interrupted: a line can reach the log
/// a moment before the journal records it, and must not be written twice.
public final class RecoveredKeys: Sendable {
    private let keys: Mutex<Set<String>>

    public init(keys: Set<String> = []) { self.keys = Mutex(keys) }

    /// Reads every action line of `paths` (and their first rotated file, `.1`).
    public static func scan(paths: [String]) -> RecoveredKeys {
        var keys = Set<String>()
        for path in paths.flatMap({ [$0 + ".1", $0] }) {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            for line in data.split(separator: UInt8(ascii: "\n")) {
                if let key = ActionEvent.dedupeKey(jsonLine: String(decoding: line, as: UTF8.self)) { keys.insert(key) }
            }
        }
        return RecoveredKeys(keys: keys)
    }

    public var count: Int { keys.withLock { $0.count } }

    /// The keys of one media file of one source.
    public func keys(source: String, media: String) -> Set<String> {
        let prefix = "\(source)\u{1F}\(media)\u{1F}"
        return keys.withLock { $0.filter { $0.hasPrefix(prefix) } }
    }
}

/// Everything a source needs to run its pipeline and report what it found.
public struct SourceContext: Sendable {
    public var source: SourceConfig
    /// The config in force, compiled once: each file and stream gets a runnable graph from it.
    public var compiled: CompiledPipeline
    public var pipeline: PipelineConfig { compiled.config }
    public var model: ModelIdentity
    public var journal: Journal
    public var outputs: OutputHolder
    public var metrics: Metrics
    public var logger: Logger
    public var recovered: RecoveredKeys
    /// Kernel threads for the classifier (the flow stage and decoder get their own share).
    public var threads: Int

    var id: String { source.id }
    var labels: [String: String] { ["source": source.id] }

    /// Writes a lifecycle event when the source asked for them (`lifecycle: true`). One the sinks refuse (disk
    /// full) waits and is written by the daemon's periodic retry, in order, as soon as they take writes again.
    func lifecycle(_ kind: LifecycleEvent.Kind, media: String?, _ fields: [(String, LifecycleValue)] = []) {
        guard source.lifecycle else { return }
        let event = LifecycleEvent(ts: Date(), source: source.id, kind: kind, media: media, fields: fields)
        do {
            try outputs.write(event)
        } catch {
            logger.error("cannot write lifecycle event \(kind.rawValue) now (\(error)); it is retried")
        }
    }

    /// The monitor of one pipeline run: per-stage latency into the histogram.
    func monitor() -> RunMonitor {
        let metrics = self.metrics
        return RunMonitor { stage, seconds in
            metrics.observe("actiond_stage_latency_seconds", seconds, labels: ["stage": stage],
                            help: "Time one stage spent on one packet (frame or clip), excluding waits for room.")
        }
    }

    /// The decode source for a file or stream, feeding the frame and corrupt-packet counters (and `tally`, which
    /// keeps the decoder's last counters for the file's report).
    func decodeSource(path: String, decoder: DecoderOptions, tally: DecodeTally? = nil) throws -> DecodeSource {
        guard let decode = pipeline.decode else { throw DaemonError.config("the pipeline has no `decode` stage") }
        let metrics = self.metrics, labels = self.labels
        let last = Mutex((frames: 0, corrupt: 0))
        return DecodeSource(path: path, options: decode, decoder: decoder, onStats: { stats in
            tally?.update(stats)
            let delta = last.withLock { seen -> (Int, Int) in
                defer { seen = (stats.framesDecoded, stats.corruptFrames + stats.skippedPackets) }
                return (max(0, stats.framesDecoded - seen.frames),
                        max(0, stats.corruptFrames + stats.skippedPackets - seen.corrupt))
            }
            if delta.0 > 0 {
                metrics.add("actiond_frames_decoded_total", Double(delta.0), labels: labels,
                            help: "Video frames decoded.")
            }
            if delta.1 > 0 {
                metrics.add("actiond_corrupt_packets_total", Double(delta.1), labels: labels,
                            help: "Packets or frames the decoder found damaged (skipped or concealed).")
            }
        })
    }

    /// Counts each classified clip.
    func clipCounter() -> @Sendable (ClipScores) -> Void {
        let metrics = self.metrics, labels = self.labels
        return { _ in metrics.add("actiond_clips_classified_total", labels: labels, help: "Clips classified.") }
    }

    /// A runnable graph over `source`, ending in segments.
    func graph(source: DecodeSource, policy: QueuePolicy) throws -> StageGraph {
        try compiled.graph(source: source, sourceQueue: (capacity: self.source.queue, policy: policy),
                           threads: threads, onClipScores: clipCounter())
    }

    func event(_ segment: ActionSegment, media: String, offset: Double = 0) -> ActionEvent {
        ActionEvent(ts: Date(), source: source.id, media: media, track: segment.track, label: segment.label,
                    score: segment.score, start: segment.start + offset, end: segment.end + offset,
                    box: segment.box.map { [$0.x, $0.y, $0.width, $0.height] },
                    model: model.name, modelSHA256: model.sha256)
    }
}

public enum DaemonError: Error, Sendable, CustomStringConvertible {
    case config(String)
    case startup(String)
    /// Moving a processed or quarantined file failed.
    case fileMove(String)

    public var description: String {
        switch self {
        case let .config(message): return "configuration: \(message)"
        case let .startup(message), let .fileMove(message): return message
        }
    }
}

extension Logger {
    // swift-log's `Message` takes literals and interpolations only; these take messages built from pieces.
    func info(text: String) { info("\(text)") }
    func warning(text: String) { warning("\(text)") }
    func error(text: String) { error("\(text)") }
}
