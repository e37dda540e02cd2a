// `actiond run --config FILE`: the service (watched folders, live streams, files → JSON Lines), as systemd runs
// it. Logs go to stderr (journald under systemd); events go to the config's sinks.
import ArgumentParser
import Daemon
import Foundation
import Logging
import Pipeline

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the pipeline config as a service: sources → pipeline → sinks, until SIGTERM.",
        discussion: """
            Runs every source of the config (watch: a folder via inotify; url: a live stream, reconnected with \
            backoff; file: one file, then — when every source is a file — exits). Each event is appended to the \
            sinks as one JSON line. A SQLite journal (config `journal:`, default $STATE_DIRECTORY/journal.sqlite \
            or ~/.local/state/actiond/journal.sqlite) makes restarts skip finished files and redo interrupted ones \
            without writing an event twice. Signals: SIGTERM/SIGINT drain in-flight clips and exit 0; SIGHUP \
            reloads the config (a config that fails validation is rejected and the running one kept); SIGUSR1 \
            reopens the log files. Under systemd (Type=notify) it sends READY/STATUS/WATCHDOG/STOPPING. See \
            docs/service.md. Exits 0 after a clean stop, 1 on a runtime failure, 2 on a configuration error.
            """)

    @Option(help: "The pipeline config (YAML) with `sources:` and `sinks:`.")
    var config: String

    @Option(help: "Kernel threads (default: ACTIOND_THREADS, else the config's `threads:`, else all cores).")
    var threads: Int?

    @Option(help: "Log level on stderr: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw UsageError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        let pipeline = try ConfigLoader.load(path: config)
        // Folders that are files, logs that are folders, parents that cannot be created: exit 2 before any
        // source starts, with the config line that names the path.
        try checkFilesystem(pipeline)
        let threadCount = try ThreadKnob.apply(threads, config: pipeline.threads)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "actiond")
        try await ActiondDaemon.run(DaemonOptions(configPath: config, threads: threadCount), logger: logger)
    }
}
