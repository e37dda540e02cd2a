// `actiond run`: the long-lived service. Loads and validates the config, opens the journal and the sinks, starts
// every source, tells systemd it is ready, and then lives by signals: SIGTERM/SIGINT drain in-flight clips and
// exit cleanly, SIGHUP reloads the config (restarting only sources whose config changed), SIGUSR1 reopens the
// log files. Runs as a swift-service-lifecycle ServiceGroup.
import Foundation
import Logging
import Pipeline
import ServiceLifecycle
import Stages
import Synchronization
import UnixSignals

public struct DaemonOptions: Sendable {
    public var configPath: String
    /// `--threads` / ACTIOND_THREADS already resolved by the caller (nil: the config's `threads:`, else cores).
    public var threads: Int?
    public init(configPath: String, threads: Int? = nil) {
        self.configPath = configPath
        self.threads = threads
    }
}

/// Runs the daemon until SIGTERM/SIGINT (or, when every source is a `file:` source, until they are done).
/// Throws `DaemonError.config` (exit 2) when the config is invalid at start-up.
public enum ActiondDaemon {
    public static func run(_ options: DaemonOptions, logger: Logger) async throws {
        let config: PipelineConfig
        do {
            config = try ConfigLoader.load(path: options.configPath)
        } catch {
            throw DaemonError.config("\(error)")
        }
        for warning in config.warnings { logger.warning(text: warning.description) }
        guard !config.sources.isEmpty else {
            throw DaemonError.config("\(options.configPath): no `sources:`; `actiond run` needs at least one (watch, "
                                     + "url or file) — for one file without a journal use `actiond classify`")
        }
        // A reader of stdout that goes away must give EPIPE on write, not kill the service; a file-size limit
        // (RLIMIT_FSIZE) must give EFBIG, handled like a full disk.
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)
        // Every model loaded and compiled, every stage checked, before the journal opens or any source starts:
        // a config error is an exit 2 with its file:line:col, never a reason to quarantine an input.
        let store = ModelStore()
        let compiled = try CompiledPipeline(config: config, store: store)
        try compiled.requireActions()
        let daemon = try Daemon(options: options, compiled: compiled, store: store, logger: logger)
        var serviceGroupConfig = ServiceGroupConfiguration(
            services: [.init(service: daemon, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        serviceGroupConfig.maximumGracefulShutdownDuration = .milliseconds(Int((config.drainSeconds + 5) * 1000))
        serviceGroupConfig.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: serviceGroupConfig).run()
    }
}

final class Daemon: Service, @unchecked Sendable {
    let options: DaemonOptions
    let logger: Logger
    let metrics = Metrics()
    let states = SourceStates()
    let notifier = SystemdNotifier()
    let journal: Journal
    let outputs: OutputHolder
    let recovered: RecoveredKeys
    let supervisor: Supervisor
    /// The process's compiled models, shared by every source and kept across reloads while still used.
    let store: ModelStore
    /// The config in force, compiled (replaced by a successful reload).
    let current: Mutex<(config: PipelineConfig, model: ModelIdentity, compiled: CompiledPipeline)>
    let http = Mutex<HTTPServer?>(nil)

    init(options: DaemonOptions, compiled: CompiledPipeline, store: ModelStore, logger: Logger) throws {
        let config = compiled.config
        self.options = options
        self.logger = logger
        self.store = store
        let metrics = self.metrics
        store.observeCompilations { model, graph in
            metrics.add("actiond_model_compilations_total", labels: ["model": model, "graph": graph],
                        help: "Model graphs loaded and compiled (weights packed); shared by every source using them.")
        }
        let journalPath = config.journal ?? Self.defaultJournalPath()
        let (journal, recoveredFrom) = try Journal.openOrRecover(path: journalPath)
        if let recoveredFrom {
            logger.error("the journal \(journalPath) was unreadable; moved it to \(recoveredFrom) and started a new one")
        }
        self.journal = journal
        let output = try Output(sinks: config.sinks, metrics: metrics, logger: logger)
        outputs = OutputHolder(output)
        var interrupted = 0
        for source in config.sources { interrupted += (try? journal.interrupted(source: source.id).count) ?? 0 }
        recovered = interrupted > 0 ? RecoveredKeys.scan(paths: output.paths) : RecoveredKeys()
        if interrupted > 0 {
            logger.info(text: "\(interrupted) file(s) were interrupted by the last stop; they will be redone "
                        + "(\(recovered.count) events found in the logs will not be written again)")
        }
        current = Mutex((config, try ModelIdentity(config: config), compiled))
        supervisor = Supervisor(logger: logger, states: states)
        logger.info(text: "journal \(journalPath); sinks: \(output.paths.joined(separator: ", "))"
                    + (config.sinks.contains { if case .stdout = $0 { return true } else { return false } } ? " stdout" : ""))
    }

    static func defaultJournalPath() -> String {
        let environment = ProcessInfo.processInfo.environment
        if let state = environment["STATE_DIRECTORY"]?.split(separator: ":").first {
            return "\(state)/journal.sqlite"
        }
        let base = environment["XDG_STATE_HOME"] ?? (NSHomeDirectory() + "/.local/state")
        return "\(base)/actiond/journal.sqlite"
    }

    func context(for source: SourceConfig, compiled: CompiledPipeline, model: ModelIdentity) -> SourceContext {
        let config = compiled.config
        var sourceLogger = logger
        sourceLogger[metadataKey: "source"] = "\(source.id)"
        let threads = options.threads ?? config.threads ?? ProcessInfo.processInfo.activeProcessorCount
        return SourceContext(source: source, compiled: compiled, model: model, journal: journal, outputs: outputs,
                             metrics: metrics, logger: sourceLogger, recovered: recovered,
                             threads: max(1, threads / max(1, min(2, config.sources.count))))
    }

    func runnable(_ context: SourceContext) -> any RunnableSource {
        switch context.source.kind {
        case let .watch(options): return WatchSource(context: context, options: options, states: states)
        case let .file(path): return OneFileSource(context: context, path: path, states: states)
        case let .url(options): return StreamSource(context: context, options: options, states: states)
        }
    }

    func run() async throws {
        // Trap SIGHUP/SIGUSR1 before anything can report readiness: one sent right after start must not kill us.
        let signals = await UnixSignalsSequence(trapping: .sighup, .sigusr1)
        let (config, model, compiled) = current.withLock { $0 }
        startMetrics(config.metrics)
        for source in config.sources {
            states.set(source.id, .starting, metrics: metrics)
            await supervisor.start(source, runnable(context(for: source, compiled: compiled, model: model)))
        }
        // READY once every folder watch is in place (or has failed and is retrying), so a file dropped after
        // `systemctl start` returns is never missed. A watch reports itself in place before the files already in
        // the folder are processed, however long those take. Streams connect in the background.
        let folders = config.sources.filter { if case .url = $0.kind { return false } else { return true } }.map(\.id)
        let readyBy = ContinuousClock.now + .seconds(60)  // a bound for a source that never reports, not a timing
        while folders.contains(where: { states.all[$0] == .starting }), !Task.isCancelled,
              ContinuousClock.now < readyBy
        {
            try? await Task.sleep(for: .milliseconds(20))
        }
        notifier.ready(status: statusLine())
        logger.info("actiond running: \(config.sources.count) source(s), model \(model.name)")
        let batch = config.sources.allSatisfy { if case .file = $0.kind { return true } else { return false } }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.handleSignals(signals) }
            group.addTask { await self.housekeeping() }
            await withGracefulShutdownHandler {
                await self.supervisor.waitUntilIdle(batch: batch)
            } onGracefulShutdown: {
                self.logger.info("shutting down: draining in-flight clips (at most \(config.drainSeconds) s)")
                self.notifier.stopping()
                Task { await self.supervisor.stopAll(timeout: config.drainSeconds) }
            }
            group.cancelAll()
        }
        await supervisor.stopAll(timeout: config.drainSeconds)
        shutdown()
    }

    func shutdown() {
        do { try outputs.output.close() } catch { logger.error("closing sinks: \(error)") }
        do { try journal.close() } catch { logger.error("closing the journal: \(error)") }
        http.withLock { server in
            server?.stop()
            server = nil
        }
        logger.info("stopped")
    }

    // MARK: signals

    func handleSignals(_ signals: UnixSignalsSequence) async {
        for await signal in signals {
            if Task.isCancelled { return }
            if signal == .sighup {
                await reload()
            } else if signal == .sigusr1 {
                do {
                    try outputs.output.reopen()
                    logger.info("SIGUSR1: reopened the log files")
                } catch {
                    logger.error("SIGUSR1: cannot reopen the log files: \(error)")
                }
            }
        }
    }

    /// SIGHUP: validate the new config; if it is good, swap sinks/metrics that changed and restart only the
    /// sources whose entry (or the pipeline they all share) changed. A bad config changes nothing.
    func reload() async {
        notifier.reloading()
        defer { notifier.ready(status: statusLine()) }
        let (old, _, _) = current.withLock { $0 }
        let new: PipelineConfig, model: ModelIdentity, compiled: CompiledPipeline
        do {
            new = try ConfigLoader.load(path: options.configPath)
            model = try ModelIdentity(config: new)
            guard !new.sources.isEmpty else { throw DaemonError.config("no `sources:`") }
            // As at start: a folder that is a file or a log that is a folder rejects the config as a whole.
            let problems = new.filesystemDiagnostics().filter { $0.severity == .error }
            guard problems.isEmpty else { throw ConfigError(problems) }
            // Compiled through the same store: models whose files did not change are not compiled again.
            compiled = try CompiledPipeline(config: new, store: store)
            try compiled.requireActions()
        } catch {
            logger.error("SIGHUP: the new config is rejected, the running one stays in force:\n\(error)")
            return
        }
        if new.sinks != old.sinks {
            do {
                let output = try Output(sinks: new.sinks, metrics: metrics, logger: logger)
                let previous = outputs.swap(output)
                do { try previous.close() } catch { logger.error("SIGHUP: closing the previous sinks: \(error)") }
                logger.info("SIGHUP: sinks changed and were reopened")
            } catch {
                logger.error("SIGHUP: the new sinks cannot be opened (\(error)); the running config stays in force")
                return
            }
        }
        if new.journal != old.journal { logger.warning("SIGHUP: a new `journal:` path takes effect at the next start") }
        if new.metrics != old.metrics { startMetrics(new.metrics) }
        let pipelineChanged = new.models != old.models || new.stages.map(\.options) != old.stages.map(\.options)
            || new.threads != old.threads
        current.withLock { $0 = (new, model, compiled) }
        store.retain(only: compiled.graphs)
        var restarted: [String] = [], kept: [String] = []
        let running = await supervisor.runningConfigs()
        for (id, config) in running {
            let replacement = new.sources.first { $0.id == id }
            if let replacement, !pipelineChanged, Self.sameSource(replacement, config) {
                kept.append(id)
            } else {
                await supervisor.stop(id, timeout: new.drainSeconds)
                states.remove(id)
            }
        }
        for source in new.sources where !kept.contains(source.id) {
            await supervisor.start(source, runnable(context(for: source, compiled: compiled, model: model)))
            restarted.append(source.id)
        }
        logger.info(text: "SIGHUP: config reloaded; started/restarted: \(restarted.sorted().joined(separator: ", ")); "
                    + "unchanged: \(kept.sorted().joined(separator: ", "))")
        let event = LifecycleEvent(ts: Date(), source: "actiond", kind: .configReload, media: options.configPath,
                                   fields: [("restarted", .string(restarted.sorted().joined(separator: ","))),
                                            ("unchanged", .string(kept.sorted().joined(separator: ",")))])
        if new.sources.contains(where: \.lifecycle) { try? outputs.write(event) }
    }

    /// Two source entries that run the same way (their position in the file does not matter).
    static func sameSource(_ a: SourceConfig, _ b: SourceConfig) -> Bool {
        var a = a
        a.location = b.location
        return a == b
    }

    // MARK: housekeeping: interval flushes, watchdog, STATUS=

    func housekeeping() async {
        let watchdog = notifier.watchdogPingInterval
        var lastPing = ContinuousClock.now, lastStatus = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            do { try outputs.output.flushIfDue() } catch { logger.error("flushing sinks: \(error)") }
            outputs.retryWaiting()
            let now = ContinuousClock.now
            if let watchdog, seconds(now - lastPing) >= watchdog {
                // Only a daemon whose journal answers is alive in the sense that matters.
                if (try? journal.counts()) != nil { notifier.watchdog() }
                lastPing = now
            }
            if seconds(now - lastStatus) >= 5 {
                notifier.status(statusLine())
                lastStatus = now
            }
        }
    }

    func statusLine() -> String {
        let sources = states.all.sorted { $0.key < $1.key }.map { id, state in
            "\(id) \(state.text.prefix { $0 != ":" })"
        }
        let counts = (try? journal.counts()) ?? [:]
        let events = metrics.value("actiond_events_written_total", labels: ["sink": outputs.output.paths.first ?? "stdout"])
        return "sources: \(sources.joined(separator: ", ")); files done \(counts[.done] ?? 0), quarantined "
            + "\((counts[.quarantined] ?? 0) + (counts[.failed] ?? 0)); events \(Int(events ?? 0))"
    }

    // MARK: /metrics and /healthz

    func startMetrics(_ listen: MetricsListen?) {
        http.withLock { server in
            server?.stop()
            server = nil
            guard let listen else { return }
            do {
                let created = try HTTPServer(host: listen.host, port: listen.port) { [self] request in
                    respond(to: request)
                }
                created.start()
                server = created
                logger.info(text: "metrics on http://\(listen.host.contains(":") ? "[\(listen.host)]" : listen.host):"
                            + "\(created.port)/metrics and /healthz")
            } catch {
                logger.error("cannot serve metrics on \(listen): \(error)")
            }
        }
    }

    func respond(to request: HTTPRequest) -> HTTPResponse {
        switch request.path {
        case "/metrics":
            return .metrics(metrics)
        case "/healthz":
            let all = states.all.sorted { $0.key < $1.key }
            let down = all.filter { if case .down = $0.value { return true } else { return false } }
            let entries = all.map { id, state in "\(jsonEscaped(id)):\(jsonEscaped(state.text))" }
            let body = "{\"status\":\"\(down.isEmpty ? "ok" : "degraded")\",\"sources\":{\(entries.joined(separator: ","))}}\n"
            return HTTPResponse(status: down.isEmpty ? 200 : 503, text: body, contentType: "application/json")
        default:
            return .notFound(request)
        }
    }
}

/// Starts, stops and waits for the running sources.
actor Supervisor {
    struct Running {
        var config: SourceConfig
        var drain: DrainSignal
        var task: Task<Void, Never>
    }
    let logger: Logger
    let states: SourceStates
    var running: [String: Running] = [:]
    var generation = 0
    var idleWaiters: [CheckedContinuation<Void, Never>] = []
    var stopping = false

    init(logger: Logger, states: SourceStates) {
        self.logger = logger
        self.states = states
    }

    func start(_ config: SourceConfig, _ source: any RunnableSource) {
        guard !stopping else { return }
        let drain = DrainSignal()
        generation += 1
        let generation = self.generation
        let task = Task {
            await source.run(drain: drain)
            self.finished(config.id, generation: generation)
        }
        running[config.id] = Running(config: config, drain: drain, task: task)
        generations[config.id] = generation
    }

    var generations: [String: Int] = [:]

    func finished(_ id: String, generation: Int) {
        guard generations[id] == generation else { return }
        running.removeValue(forKey: id)
        generations.removeValue(forKey: id)
        if running.isEmpty {
            for waiter in idleWaiters { waiter.resume() }
            idleWaiters.removeAll()
        }
    }

    func runningConfigs() -> [(String, SourceConfig)] { running.map { ($0.key, $0.value.config) } }

    /// Drains one source (in-flight clips finish), cancelling it if it takes longer than `timeout` seconds.
    func stop(_ id: String, timeout: Double) async {
        guard let entry = running.removeValue(forKey: id) else { return }
        generations.removeValue(forKey: id)
        await Self.drain(entry, timeout: timeout, logger: logger, id: id)
    }

    /// Drains every source at once; those still busy after `timeout` seconds are cancelled.
    func stopAll(timeout: Double) async {
        stopping = true
        let all = running
        running.removeAll()
        generations.removeAll()
        await withTaskGroup(of: Void.self) { group in
            for (id, entry) in all {
                group.addTask { await Self.drain(entry, timeout: timeout, logger: self.logger, id: id) }
            }
        }
        for waiter in idleWaiters { waiter.resume() }
        idleWaiters.removeAll()
    }

    static func drain(_ entry: Running, timeout: Double, logger: Logger, id: String) async {
        entry.drain.request()
        let timer = Task {
            try await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
            logger.warning("source \(id): still busy after \(timeout) s of draining; cancelling it")
            entry.task.cancel()
        }
        await entry.task.value
        timer.cancel()
    }

    /// Returns when no source is running: after a shutdown, or (batch configs of `file:` sources) when all
    /// are done. Long-running sources never finish on their own.
    func waitUntilIdle(batch: Bool) async {
        if running.isEmpty && (batch || stopping) { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }
}
