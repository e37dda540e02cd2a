// The three kinds of source `actiond run` runs: a watched folder (inotify, one file at a time), one file
// (processed once, for batch use), and a live stream (reconnected with exponential backoff and jitter, frames
// dropped — and counted — rather than ever blocking the decoder).
import Foundation
import Logging
import Media
import Pipeline
import Stages
import Synchronization

/// Up/down state of every source, for /healthz, STATUS= and the `actiond_source_up` gauge.
public final class SourceStates: Sendable {
    public enum State: Sendable, Equatable {
        case starting
        case up
        case down(String)
        case finished

        /// `up`, `down: reason`, …: for STATUS= and /healthz.
        public var text: String {
            switch self {
            case .starting: return "starting"
            case .up: return "up"
            case let .down(reason): return "down: \(reason)"
            case .finished: return "finished"
            }
        }
    }
    private let states = Mutex<[String: State]>([:])

    public init() {}

    public func set(_ id: String, _ state: State, metrics: Metrics) {
        states.withLock { $0[id] = state }
        metrics.set("actiond_source_up", state == .up ? 1 : 0, labels: ["source": id],
                    help: "1 while a source is running (watch in place, stream delivering frames), else 0.")
    }

    public func remove(_ id: String) { _ = states.withLock { $0.removeValue(forKey: id) } }

    public var all: [String: State] { states.withLock { $0 } }
}

/// One running source. `run` returns when the source is finished (a `file:` source), drained or cancelled.
protocol RunnableSource: Sendable {
    func run(drain: DrainSignal) async
}

/// Sleeps `seconds`, returning early (false) if a drain is requested or the task is cancelled.
func pause(_ seconds: Double, drain: DrainSignal) async -> Bool {
    await withTaskGroup(of: Bool.self) { group in
        group.addTask {
            do {
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                return true
            } catch {
                return false
            }
        }
        group.addTask { await drain.wait() ? false : true }
        let first = await group.next() ?? false
        group.cancelAll()
        return first && !drain.isRequested && !Task.isCancelled
    }
}

// MARK: - watch

struct WatchSource: RunnableSource {
    let context: SourceContext
    let options: WatchOptions
    let states: SourceStates

    func run(drain: DrainSignal) async {
        let log = context.logger, id = context.id
        var excluded: [String] = []
        if case let .move(folder) = options.done { excluded.append(folder) }
        if let quarantine = options.quarantine { excluded.append(quarantine) }
        let watcher = DirectoryWatcher(directory: options.directory, match: options.match,
                                       recursive: options.recursive, settle: options.settle, excluded: excluded)
        var notices: AsyncStream<WatchNotice>?
        var reported = false
        while notices == nil {
            do {
                notices = try watcher.notices()
            } catch {
                if !reported {
                    log.error("source \(id): \(error); retrying every 5 s")
                    states.set(id, .down("\(error)"), metrics: context.metrics)
                    context.lifecycle(.sourceDown, media: options.directory, [("reason", .string("\(error)"))])
                    reported = true
                }
                guard await pause(5, drain: drain) else { return }
            }
        }
        let stopper = Task {
            if await drain.wait() { watcher.stop() }
        }
        defer {
            stopper.cancel()
            watcher.stop()
        }
        let processor = FileProcessor(context: context, watch: options)
        for await notice in notices! {
            switch notice {
            case .watching:
                log.info(text: "source \(id): watching \(options.directory) for \(options.match.joined(separator: " "))"
                         + (options.recursive ? " (recursive)" : ""))
                states.set(id, .up, metrics: context.metrics)
                context.lifecycle(.sourceUp, media: options.directory)
            case let .lost(reason):
                log.error("source \(id): \(reason); waiting for it to come back")
                states.set(id, .down(reason), metrics: context.metrics)
                context.lifecycle(.sourceDown, media: options.directory, [("reason", .string(reason))])
            case .overflow:
                log.warning("source \(id): inotify queue overflow; rescanning \(options.directory)")
            case let .skipped(path, reason):
                log.debug("source \(id): skipped \(path.loggable): \(reason)")
            case let .ready(file):
                guard !drain.isRequested, !Task.isCancelled else { return }
                log.debug("source \(id): \(file.path.loggable) is ready (\(file.reason.rawValue))")
                while true {
                    // A file replaced or written to mid-run is reported again by the watcher once it is still.
                    let outcome = await processor.process(path: file.path, drain: drain)
                    guard case let .retry(reason) = outcome else {
                        if outcome == .interrupted { return }
                        break
                    }
                    log.warning("source \(id): \(file.path.loggable): \(reason); retrying in 5 s")
                    guard await pause(5, drain: drain) else { return }
                }
            }
        }
    }
}

// MARK: - file

struct OneFileSource: RunnableSource {
    let context: SourceContext
    let path: String
    let states: SourceStates

    func run(drain: DrainSignal) async {
        guard FileManager.default.fileExists(atPath: path) else {
            context.logger.error("source \(context.id): no such file: \(path.loggable)")
            states.set(context.id, .down("no such file"), metrics: context.metrics)
            context.lifecycle(.sourceDown, media: path, [("reason", .string("no such file"))])
            return
        }
        states.set(context.id, .up, metrics: context.metrics)
        context.lifecycle(.sourceUp, media: path)
        let processor = FileProcessor(context: context, watch: nil)
        while true {
            let outcome = await processor.process(path: path, drain: drain)
            // Another file was renamed over this one while it was read: that one is processed too.
            if outcome == .replaced, FileManager.default.fileExists(atPath: path) { continue }
            guard case let .retry(reason) = outcome else { break }
            context.logger.warning("source \(context.id): \(path.loggable): \(reason); retrying in 5 s")
            guard await pause(5, drain: drain) else { return }
        }
        if !drain.isRequested { states.set(context.id, .finished, metrics: context.metrics) }
    }
}

// MARK: - url

struct StreamSource: RunnableSource {
    let context: SourceContext
    let options: StreamOptions
    let states: SourceStates

    func run(drain: DrainSignal) async {
        let log = context.logger, id = context.id, url = options.url, metrics = context.metrics
        let labels = context.labels
        let clock = ContinuousClock()
        let began = clock.now
        var attempt = 0
        var downSince: ContinuousClock.Instant?
        states.set(id, .starting, metrics: metrics)
        while !drain.isRequested, !Task.isCancelled {
            let connectAt = clock.now
            let offset = seconds(connectAt - began)
            let up = Mutex(false)
            let outageStart = downSince
            let monitor = context.monitor()
            let context = self.context
            var reason = "the stream ended"
            var wasUp = false
            do {
                let source = try context.decodeSource(
                    path: url, decoder: DecoderOptions(threads: 2, frameThreading: false, timeout: options.stall))
                let progress = DecodeSource(path: source.path, options: source.options, decoder: source.decoder,
                                            progress: { _ in
                    let first = up.withLock { value -> Bool in
                        defer { value = true }
                        return !value
                    }
                    if first {
                        Self.connected(context: context, states: states, url: url,
                                       outage: outageStart.map { seconds(clock.now - $0) })
                    }
                }, onStats: source.onStats)
                let graph = try context.graph(source: progress, policy: .dropOldest)
                // Drops are published once a second while the stream runs, and the remainder at its end.
                let countDrops = { @Sendable (new: Int) in
                    metrics.add("actiond_frames_dropped_total", Double(new), labels: labels,
                                help: "Frames a live source dropped because the pipeline was behind.")
                }
                let drops = Task {
                    var counted = 0
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        let now = monitor.snapshot().sourceDrops
                        if now > counted {
                            countDrops(now - counted)
                            counted = now
                        }
                    }
                    return counted
                }
                defer { drops.cancel() }
                let report = try await graph.run(drain: drain, monitor: monitor) { packet in
                    guard let segment = packet.value as? ActionSegment else { return }
                    let event = context.event(segment, media: url, offset: offset)
                    try context.outputs.output.write(event)
                    try? context.journal.streamProgress(source: id, url: url, mediaTime: event.end, connected: true)
                }
                drops.cancel()
                let counted = await drops.value
                if report.sourceDrops > counted { countDrops(report.sourceDrops - counted) }
                if report.drained { break }
            } catch is CancellationError {
                break
            } catch {
                reason = "\(error)"
            }
            wasUp = up.withLock { $0 }
            guard !drain.isRequested, !Task.isCancelled else { break }
            if wasUp {
                attempt = 0
                downSince = clock.now
                log.warning("source \(id): stream lost: \(reason)")
                context.lifecycle(.sourceDown, media: url, [("reason", .string(reason))])
            } else if downSince == nil {
                // The first attempt failed (no frame yet, ever): the source is down from now; later attempts are
                // reported as reconnects.
                downSince = connectAt
                log.warning("source \(id): cannot connect: \(reason)")
                context.lifecycle(.sourceDown, media: url, [("reason", .string(reason))])
            }
            states.set(id, .down(reason), metrics: metrics)
            try? context.journal.streamProgress(source: id, url: url, mediaTime: nil, connected: false)
            let cap = min(options.reconnectMax, options.reconnectInitial * pow(2, Double(min(attempt, 30))))
            let delay = cap * Double.random(in: 0.5...1.0)
            attempt += 1
            metrics.add("actiond_reconnects_total", labels: labels, help: "Reconnection attempts of live sources.")
            log.info("source \(id): reconnecting in \(String(format: "%.1f", delay)) s (attempt \(attempt)): \(reason)")
            context.lifecycle(.reconnect, media: url, [("attempt", .int(attempt)), ("delay", .double(delay)),
                                                       ("reason", .string(reason))])
            guard await pause(delay, drain: drain) else { break }
        }
        states.set(id, .down("stopped"), metrics: metrics)
    }

    /// The first frame of a connection: the source is up; logs and measures how long the outage lasted (from
    /// losing the previous connection, or from the first failed attempt, to this first frame).
    static func connected(context: SourceContext, states: SourceStates, url: String, outage: Double?) {
        states.set(context.id, .up, metrics: context.metrics)
        var fields: [(String, LifecycleValue)] = []
        if let outage {
            fields.append(("outage", .double((outage * 1000).rounded() / 1000)))
            context.metrics.observe("actiond_stream_outage_seconds", outage, labels: context.labels,
                                    help: "Time from losing a live stream to its first frame after reconnecting.",
                                    buckets: [0.5, 1, 2, 5, 10, 30, 60, 300, 900])
            context.metrics.set("actiond_stream_last_outage_seconds", outage, labels: context.labels,
                                help: "Length of the last outage of a live stream, in seconds.")
        }
        context.logger.info(text: "source \(context.id): receiving frames from \(url)"
                            + (outage.map { String(format: " after an outage of %.2f s", $0) } ?? ""))
        context.lifecycle(.sourceUp, media: url, fields)
        try? context.journal.streamProgress(source: context.id, url: url, mediaTime: nil, connected: true)
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}
