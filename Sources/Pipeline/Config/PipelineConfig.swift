// The validated pipeline config of DESIGN.md: sources, models, ordered stages, sinks. Built only by
// `ConfigLoader`, which rejects anything invalid with positioned diagnostics, so holders can trust every field.
import Foundation

/// Where something was written: file, line, column (1-based). Kept on stages so later runtime errors can
/// point back at the config entry that built the failing stage.
public struct ConfigLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }
    public var description: String { "\(file):\(line):\(column)" }
}

/// A whole, valid pipeline config.
public struct PipelineConfig: Sendable, Equatable {
    /// Path of the config file as given.
    public var file: String
    /// Schema version; only 1 exists.
    public var version: Int
    public var sources: [SourceConfig]
    /// Declared models in file order. Card paths are resolved against the config file's folder.
    public var models: [ModelReference]
    public var stages: [StageConfig]
    public var sinks: [SinkConfig]
    /// `threads:` (1…256): kernel threads for this pipeline's models, used when neither `--threads` nor
    /// `ACTIOND_THREADS` is given; nil = every core.
    public var threads: Int? = nil
    /// `journal:` — the SQLite journal of `actiond run` (resolved against the config's folder); nil = the
    /// daemon's default (`$STATE_DIRECTORY/journal.sqlite`, else `~/.local/state/actiond/journal.sqlite`).
    public var journal: String? = nil
    /// `metrics: { listen: 127.0.0.1:9464 }` — where `actiond run` serves /metrics and /healthz; nil = off.
    public var metrics: MetricsListen? = nil
    /// `drain:` — seconds SIGTERM waits for in-flight clips before it stops anyway.
    public var drainSeconds: Double = PipelineConfig.defaultDrainSeconds
    public static let defaultDrainSeconds = 10.0
    /// Things that run but are probably not meant (a stage whose output nothing takes, an unused model),
    /// as `file:line:col: warning:` diagnostics. `actiond check` prints them; they do not fail validation.
    public var warnings: [ConfigDiagnostic] = []
    /// Every folder and file the service watches or writes, where the config names it (`filesystemDiagnostics`).
    public var paths: [ConfigPath] = []

    /// The model declared as `name`, if any.
    public func model(named name: String) -> ModelReference? { models.first { $0.name == name } }

    /// The options of the first stage of a kind, if present.
    public var decode: DecodeOptions? {
        for stage in stages { if case let .decode(options) = stage.options { return options } }
        return nil
    }
}

/// A loopback address for the metrics endpoint.
public struct MetricsListen: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// `127.0.0.1:9464`, `localhost:9464` or `[::1]:9464`; nil for anything else (non-loopback, bad port).
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard ["127.0.0.1", "localhost", "::1"].contains(host) else { return nil }
        self.host = host == "localhost" ? "127.0.0.1" : host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// `models:` entry: a name used by stages, and its loaded, valid card.
public struct ModelReference: Sendable, Equatable {
    public var name: String
    /// Card path resolved against the config file's folder.
    public var cardPath: String
    public var card: ModelCard
}

// MARK: - Sources (run by the daemon; parsed and validated here so `actiond check` catches their mistakes)

/// One `sources:` entry. Exactly one of `watch`, `url` or `file` says what kind it is.
///
/// ```yaml
/// sources:
///   - id: inbox                         # required, unique; letters, digits, `-`, `_`, `.`
///     watch: /var/lib/actiond/inbox     # a folder; files are taken once fully written
///     match: ["*.mp4", "*.mkv", "*.avi", "*.mov"]   # default
///     recursive: false                  # default
///     settle: 2                         # seconds a still-open file must be unchanged; default 2
///     done: keep                        # keep | delete | move:/folder; default keep
///     quarantine: /var/lib/actiond/quarantine  # optional: unreadable files go here with a .error.json
///     lifecycle: false                  # also log source up/down, quarantines; default false
///     queue: 16                         # decoded frames buffered before the pipeline; default 16
///   - id: door-cam
///     url: rtsp://10.0.0.5/stream1      # anything FFmpeg opens (rtsp, http, hls, udp, tcp)
///     stall: 10                         # seconds without a frame before reconnecting; default 10
///     reconnect: { initial: 1, max: 60 }  # backoff in seconds (doubling, with jitter); defaults shown
///   - id: batch
///     file: /data/clip.mp4              # processed once
/// ```
public struct SourceConfig: Sendable, Equatable {
    public var id: String
    public var kind: Kind
    public var lifecycle: Bool
    /// Capacity of the frame queue after the decoder. Files block on it; live streams drop the oldest frame.
    public var queue: Int
    public var location: ConfigLocation

    public enum Kind: Sendable, Equatable {
        case watch(WatchOptions)
        case url(StreamOptions)
        case file(path: String)
    }

    /// Whether frames arrive in real time (a live stream) and must never wait for a slow pipeline.
    public var isLive: Bool {
        if case .url = kind { return true }
        return false
    }

    public static let defaultQueue = 16
}

public struct WatchOptions: Sendable, Equatable {
    public var directory: String
    public var match: [String] = ["*.mp4", "*.mkv", "*.avi", "*.mov"]
    public var recursive = false
    public var settle: Double = 2
    public var done: DoneAction = .keep
    public var quarantine: String?
}

/// What happens to a watched file after it has been processed.
public enum DoneAction: Sendable, Equatable {
    case keep
    case delete
    case move(to: String)
}

public struct StreamOptions: Sendable, Equatable {
    public var url: String
    public var stall: Double = 10
    public var reconnectInitial: Double = 1
    public var reconnectMax: Double = 60
}

// MARK: - Sinks

/// One `sinks:` entry.
///
/// ```yaml
/// sinks:
///   - jsonl:
///       path: /var/log/actiond/actions.jsonl   # required
///       rotate: { size: 64MB, keep: 10 }       # optional; size in bytes or with KB/MB/GB (1024-based)
///       flush: every-event                     # every-event | interval; default every-event
///       interval: 1                            # seconds, only with `flush: interval`; default 1
///   - stdout: { format: json }                 # json | text; default json. `- stdout` alone works too
/// ```
public enum SinkConfig: Sendable, Equatable {
    case jsonl(JSONLSinkOptions)
    case stdout(StdoutSinkOptions)
}

public struct JSONLSinkOptions: Sendable, Equatable {
    public var path: String
    public var rotation: Rotation?
    public var flush: FlushPolicy = .everyEvent

    public struct Rotation: Sendable, Equatable {
        /// Rotate when the file would grow past this many bytes.
        public var size: Int64
        /// Rotated files kept (`actions.jsonl.1` … `.keep`).
        public var keep: Int
    }

    public enum FlushPolicy: Sendable, Equatable {
        /// fsync after every line: nothing written is lost on power failure.
        case everyEvent
        /// fsync at most every so many seconds.
        case interval(seconds: Double)
    }
}

public struct StdoutSinkOptions: Sendable, Equatable {
    public enum Format: String, Sendable, Equatable, CaseIterable {
        case json, text
    }
    public var format: Format = .json
}
