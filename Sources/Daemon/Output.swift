// The configured sinks as one: every action event and lifecycle event goes to each JSON Lines file and to
// stdout, whole lines only. Built from the config's `sinks:`; swapped as a whole when a reload changes them.
import Foundation
import Logging
import Pipeline

public final class Output: Sendable {
    public let config: [SinkConfig]
    let files: [JSONLSink]
    let stdout: StdoutSink?
    let metrics: Metrics

    /// Opens every sink (creating folders, repairing a torn last line left by a power loss).
    public init(sinks: [SinkConfig], metrics: Metrics, logger: Logger) throws {
        config = sinks
        self.metrics = metrics
        var files: [JSONLSink] = []
        var stdout: StdoutSink?
        for sink in sinks {
            switch sink {
            case let .jsonl(options):
                let flush: JSONLSink.Flush
                switch options.flush {
                case .everyEvent: flush = .everyEvent
                case let .interval(seconds): flush = .interval(seconds: seconds)
                }
                let file = try JSONLSink(path: options.path, rotateSize: options.rotation?.size,
                                         keep: options.rotation?.keep ?? 10, flush: flush)
                if file.repairedBytes > 0 {
                    logger.warning(text: "removed a torn last line (\(file.repairedBytes) bytes) from \(options.path): "
                                   + "the previous run stopped mid-write (power loss?)")
                }
                files.append(file)
            case let .stdout(options):
                stdout = StdoutSink(format: options.format == .json ? .json : .text)
            }
        }
        self.files = files
        self.stdout = stdout
    }

    /// The JSON Lines files this output appends to (for rebuilding the dedupe set after a crash).
    public var paths: [String] { files.map(\.path) }

    /// Writes one action event to every sink. Throws if a file sink cannot be written (disk full, …): the
    /// caller must not record the event as emitted then.
    public func write(_ event: ActionEvent) throws {
        for file in files {
            try file.write(event)
            metrics.add("actiond_events_written_total", labels: ["sink": file.path],
                        help: "Action events appended to a sink.")
        }
        // A closed stdout (EPIPE; SIGPIPE is ignored) must not stop the files: stdout is best effort.
        if let stdout, (try? stdout.write(event)) != nil {
            metrics.add("actiond_events_written_total", labels: ["sink": "stdout"],
                        help: "Action events appended to a sink.")
        }
    }

    /// Writes a lifecycle event (source up/down, reconnect, quarantine, …) to every sink.
    public func write(_ event: LifecycleEvent) throws {
        for file in files { try file.write(event) }
        try? stdout?.write(event)
    }

    /// fsync for sinks whose `flush: interval` is due (called about once a second).
    public func flushIfDue() throws { for file in files { try file.flushIfDue() } }

    /// SIGUSR1: reopen every file (after an external logrotate moved it).
    public func reopen() throws { for file in files { try file.reopen() } }

    public func close() throws {
        for file in files {
            try file.sync()
            try file.close()
        }
    }
}
