// Loads a pipeline config file and everything it references (model cards, labels), validating all of it
// before any frame is decoded. Problems are collected, not thrown one by one, and reported sorted by position.
import Foundation
import Yams

public enum ConfigLoader {
    /// The config versions this build reads.
    public static let supportedVersion = 1

    /// Loads and validates the config at `path` and the model cards it names.
    /// Throws `ConfigError` listing every problem found, each with `file:line:col`.
    public static func load(path: String) throws(ConfigError) -> PipelineConfig {
        let log = DiagnosticLog()
        let file = YAMLFile(path: path, log: log)
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            file.error(!exists ? "no such config file" : isDirectory.boolValue ? "this is a folder, not a config file"
                       : "cannot read the config file (permissions?)", line: 1, column: 1)
            throw ConfigError(log.sorted)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            file.error("the config file is not UTF-8 text", line: 1, column: 1)
            throw ConfigError(log.sorted)
        }
        return try load(text: text, path: path, log: log)
    }

    /// Validates config `text` as if read from `path` (whose folder model-card paths are relative to).
    public static func load(text: String, path: String) throws(ConfigError) -> PipelineConfig {
        try load(text: text, path: path, log: DiagnosticLog())
    }

    private static func load(text: String, path: String, log: DiagnosticLog) throws(ConfigError) -> PipelineConfig {
        let file = YAMLFile(path: path, log: log)
        let parser = ConfigParser(file: file, directory: (path as NSString).deletingLastPathComponent)
        let config = file.parse(text).flatMap(parser.parse)
        guard var config, log.isEmpty else {
            if log.isEmpty { file.error("the config could not be read", line: 1, column: 1) }
            throw ConfigError(log.sorted)
        }
        config.warnings = log.warnings
        return config
    }
}

/// One config file being parsed.
final class ConfigParser {
    let file: YAMLFile
    /// Folder of the config file: model-card paths are relative to it.
    let directory: String
    /// The first `pipeline:` entry that is not a stage, so wiring checks after it can be skipped.
    var unreadableStage: Node?
    /// Paths the service will watch or write, recorded as they are read.
    var paths: [ConfigPath] = []

    func record(_ path: String?, _ role: ConfigPath.Role, at node: Node?) {
        guard let path, !path.isEmpty else { return }
        paths.append(ConfigPath(path: path, role: role, location: location(node)))
    }

    init(file: YAMLFile, directory: String) {
        self.file = file
        self.directory = directory
    }

    func location(_ node: Node?) -> ConfigLocation {
        ConfigLocation(file: file.path, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1)
    }

    func parse(_ root: Node) -> PipelineConfig? {
        guard let top = MappingReader(file: file, node: root, what: "the config") else { return nil }
        let version = top.int("version", in: NumberRange(),
                              required: "the config schema version; write `version: 1` as the first line")
        if let version, version != ConfigLoader.supportedVersion {
            file.error("`version` must be \(ConfigLoader.supportedVersion) (the only config version this actiond "
                       + "reads), got \(version)", at: top.value("version"))
        }
        let sources = top.value("sources").map(parseSources) ?? []
        let models = top.value("models").map(parseModels) ?? []
        var stages: [ParsedStage] = []
        if let node = top.value("pipeline") {
            stages = parseStages(node)
        } else {
            top.missing("pipeline", "the ordered list of stages, starting with `- decode: { fps: 15 }`")
        }
        let sinks = top.value("sinks").map(parseSinks) ?? []
        let threads = top.int("threads", in: .between(1, 256))
        let service = parseService(top)
        top.finish()

        var checker = StageChecker(file: file, models: models, stages: stages, unreadable: unreadableStage)
        let resolved = checker.check()
        guard let version else { return nil }
        var config = PipelineConfig(file: file.path, version: version, sources: sources,
                                    models: models.compactMap(\.loaded), stages: resolved, sinks: sinks,
                                    threads: threads, journal: service.journal, metrics: service.metrics,
                                    drainSeconds: service.drain)
        config.paths = paths
        return config
    }

    // MARK: service keys (`actiond run`)

    /// `journal:`, `metrics:` and `drain:`. Relative journal paths are resolved against the config's folder.
    func parseService(_ top: MappingReader) -> (journal: String?, metrics: MetricsListen?, drain: Double) {
        var journal = top.string("journal")
        if let path = journal, !path.hasPrefix("/") {
            journal = directory.isEmpty ? path : (directory as NSString).appendingPathComponent(path)
        }
        record(journal, .journalFile, at: top.value("journal"))
        let drain = top.number("drain", in: .between(0, 3600)) ?? PipelineConfig.defaultDrainSeconds
        guard let node = top.value("metrics") else { return (journal, nil, drain) }
        guard let reader = MappingReader(file: file, node: node, what: "`metrics`") else {
            return (journal, nil, drain)
        }
        defer { reader.finish() }
        guard let listen = reader.string("listen", required: "the loopback address to serve /metrics and "
                                         + "/healthz on, e.g. `listen: 127.0.0.1:9464`") else {
            return (journal, nil, drain)
        }
        guard let metrics = MetricsListen(parsing: listen) else {
            file.error("`metrics.listen` must be HOST:PORT on the loopback interface (127.0.0.1:9464, [::1]:9464 or "
                       + "localhost:9464; port 0…65535), got `\(listen)`: metrics are never served to the network",
                       at: reader.value("listen"))
            return (journal, nil, drain)
        }
        return (journal, metrics, drain)
    }

    // MARK: models

    /// A `models:` entry as written, with its card if that loaded.
    struct DeclaredModel {
        var name: String
        var keyNode: Node
        var pathNode: Node
        var loaded: ModelReference?
    }

    func parseModels(_ node: Node) -> [DeclaredModel] {
        guard let reader = MappingReader(file: file, node: node, what: "`models`", nullIsEmpty: true) else { return [] }
        var result: [DeclaredModel] = []
        var cards: [String: ModelCard] = [:]  // one load per card file, however many names point at it
        for entry in reader.entries {
            reader.allow(entry.key)
            var declared = DeclaredModel(name: entry.key, keyNode: entry.keyNode, pathNode: entry.value)
            defer { result.append(declared) }
            guard let relative = file.string(entry.value, named: "models.\(entry.key)") else { continue }
            let cardPath = relative.hasPrefix("/") ? relative : (directory as NSString).appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: cardPath, isDirectory: &isDirectory), !isDirectory.boolValue
            else {
                let folder = directory.isEmpty ? "." : directory
                file.error("model card `\(relative)` for model `\(entry.key)` not found (looked for \(cardPath)); "
                           + "paths under `models:` are relative to this config file's folder (\(folder))",
                           at: entry.value)
                continue
            }
            if !(relative.hasSuffix(".yaml") || relative.hasSuffix(".yml")) {
                file.error("model `\(entry.key)` must name the model card (the .yaml beside the .onnx), not "
                           + "`\(relative)`", at: entry.value)
                continue
            }
            let card = cards[cardPath] ?? ModelCardLoader.load(path: cardPath, log: file.log)
            cards[cardPath] = card
            if let card { declared.loaded = ModelReference(name: entry.key, cardPath: cardPath, card: card) }
        }
        reader.finish()
        return result
    }

    // MARK: sources

    static let sourceKinds = ["watch", "url", "file"]
    static let watchKeys = ["match", "recursive", "settle", "done", "quarantine"]
    static let streamKeys = ["stall", "reconnect"]
    static let streamSchemes = ["rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt", "rtp", "hls"]

    func parseSources(_ node: Node) -> [SourceConfig] {
        if isNull(node) { return [] }
        guard let items = node.sequence else {
            file.error("`sources` must be a list (each entry starts with `- id: ...`), got \(describe(node))", at: node)
            return []
        }
        var result: [SourceConfig] = []
        var ids: [String: Node] = [:]
        for item in items {
            guard let source = parseSource(item) else { continue }
            if let first = ids[source.id] {
                file.error("source id `\(source.id)` is already used at line \(first.mark?.line ?? 0); "
                           + "each source needs its own id", at: MappingReader(file: file, node: item, what: "")?
                    .value("id"))
                continue
            }
            ids[source.id] = MappingReader(file: file, node: item, what: "")?.value("id")
            result.append(source)
        }
        return result
    }

    func parseSource(_ node: Node) -> SourceConfig? {
        guard let reader = MappingReader(file: file, node: node, what: "a source") else { return nil }
        defer { reader.finish() }
        let id = reader.string("id", required: "a unique name used in events and logs, e.g. `id: inbox`")
        if let id, id.contains(where: { !($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
            file.error("source `id` may contain letters, digits, `-`, `_` and `.`, got `\(id)`", at: reader.value("id"))
        }
        let present = Self.sourceKinds.filter(reader.has)
        reader.allow("watch", "url", "file")
        let lifecycle = reader.bool("lifecycle") ?? false
        let queue = reader.int("queue", in: .between(1, 4096)) ?? SourceConfig.defaultQueue
        guard present.count == 1, let kindName = present.first else {
            if present.isEmpty {
                reader.missing("watch", "each source has one of `watch` (a folder), `url` (a live stream) "
                               + "or `file` (one file)")
            } else {
                file.error("a source has exactly one of `watch`, `url` or `file`; this one has "
                           + "\(listing(present, conjunction: "and")): split it into one source each",
                           at: reader.value(present[1]))
            }
            reader.allow(contentsOf: Self.watchKeys + Self.streamKeys)
            return nil
        }
        // Keys of the other kinds get a precise message instead of "unknown key".
        let foreign = (kindName == "watch" ? [] : Self.watchKeys.map { ($0, "watch") })
            + (kindName == "url" ? [] : Self.streamKeys.map { ($0, "url") })
        for (key, owner) in foreign where reader.has(key) {
            file.error("`\(key)` only applies to `\(owner)` sources; this source is a `\(kindName)` source",
                       at: reader.entries.first { $0.key == key }?.keyNode)
            reader.allow(key)
        }
        let kind: SourceConfig.Kind?
        switch kindName {
        case "watch": kind = parseWatch(reader)
        case "url": kind = parseStream(reader)
        default: kind = reader.string("file").map { .file(path: $0) }
        }
        guard let id, let kind else { return nil }
        return SourceConfig(id: id, kind: kind, lifecycle: lifecycle, queue: queue, location: location(node))
    }

    func parseWatch(_ reader: MappingReader) -> SourceConfig.Kind? {
        guard let directory = reader.string("watch") else { return nil }
        record(directory, .watchFolder, at: reader.value("watch"))
        var options = WatchOptions(directory: directory)
        if let match = reader.strings("match") { options.match = match }
        if let recursive = reader.bool("recursive") { options.recursive = recursive }
        if let settle = reader.number("settle", in: .between(0, 3600)) { options.settle = settle }
        if let node = reader.value("done"), let text = file.string(node, named: "done") {
            if text == "keep" {
                options.done = .keep
            } else if text == "delete" {
                options.done = .delete
            } else if text.hasPrefix("move:"), text.count > 5 {
                options.done = .move(to: String(text.dropFirst(5)))
                record(String(text.dropFirst(5)), .doneFolder, at: node)
            } else {
                file.error("`done` must be `keep`, `delete` or `move:FOLDER` (e.g. move:/var/lib/actiond/done), "
                           + "got `\(text)`", at: node)
            }
        }
        options.quarantine = reader.string("quarantine")
        record(options.quarantine, .quarantineFolder, at: reader.value("quarantine"))
        return .watch(options)
    }

    func parseStream(_ reader: MappingReader) -> SourceConfig.Kind? {
        guard let url = reader.string("url") else { return nil }
        let scheme = url.range(of: "://").map { String(url[..<$0.lowerBound]).lowercased() }
        if scheme.map({ !Self.streamSchemes.contains($0) }) ?? true {
            file.error("`url` must be a stream URL such as rtsp://host/path (schemes: "
                       + "\(Self.streamSchemes.joined(separator: ", "))), got `\(url)`; for a local file use `file:`",
                       at: reader.value("url"))
            return nil
        }
        var options = StreamOptions(url: url)
        if let stall = reader.number("stall", in: .between(0.1, 3600)) { options.stall = stall }
        if let node = reader.value("reconnect"),
           let backoff = MappingReader(file: file, node: node, what: "`reconnect`") {
            if let initial = backoff.number("initial", in: .positive) { options.reconnectInitial = initial }
            if let max = backoff.number("max", in: .positive) { options.reconnectMax = max }
            if options.reconnectMax < options.reconnectInitial {
                file.error("`reconnect.max` (\(formatNumber(options.reconnectMax))s) must be at least `initial` "
                           + "(\(formatNumber(options.reconnectInitial))s)", at: backoff.value("max") ?? node)
            }
            backoff.finish()
        }
        return .url(options)
    }

    // MARK: sinks

    func parseSinks(_ node: Node) -> [SinkConfig] {
        if isNull(node) { return [] }
        guard let items = node.sequence else {
            file.error("`sinks` must be a list (each entry starts with `- jsonl:` or `- stdout`), got "
                       + describe(node), at: node)
            return []
        }
        var result: [SinkConfig] = []
        var paths: [String: Node] = [:]
        var stdoutNode: Node?
        for item in items {
            guard let (kind, kindNode, options) = singleKeyEntry(item, what: "sink", kinds: ["jsonl", "stdout"])
            else { continue }
            switch kind {
            case "jsonl":
                guard let sink = parseJSONL(options) else { continue }
                if let first = paths[sink.path] {
                    file.error("two `jsonl` sinks write to `\(sink.path)` (the first at line \(first.mark?.line ?? 0));"
                               + " give each its own file", at: kindNode)
                    continue
                }
                paths[sink.path] = kindNode
                result.append(.jsonl(sink))
            default:
                if let first = stdoutNode {
                    file.error("`stdout` is already a sink (line \(first.mark?.line ?? 0)); list it once", at: kindNode)
                    continue
                }
                stdoutNode = kindNode
                guard let reader = MappingReader(file: file, node: options, what: "`stdout` options", nullIsEmpty: true)
                else { continue }
                var sink = StdoutSinkOptions()
                if let format = reader.choice("format", of: StdoutSinkOptions.Format.allCases.map(\.rawValue)) {
                    sink.format = StdoutSinkOptions.Format(rawValue: format)!
                }
                reader.finish()
                result.append(.stdout(sink))
            }
        }
        return result
    }

    func parseJSONL(_ node: Node) -> JSONLSinkOptions? {
        guard let reader = MappingReader(file: file, node: node, what: "`jsonl` options", nullIsEmpty: true)
        else { return nil }
        defer { reader.finish() }
        let path = reader.string("path", required: "the log file to append events to, e.g. "
                                 + "`path: /var/log/actiond/actions.jsonl`")
        record(path, .sinkFile, at: reader.value("path"))
        var rotation: JSONLSinkOptions.Rotation?
        if let rotateNode = reader.value("rotate"),
           let rotate = MappingReader(file: file, node: rotateNode, what: "`rotate`") {
            var size: Int64?
            if let sizeNode = rotate.value("size") {
                size = byteSize(sizeNode)
            } else {
                rotate.missing("size", "the size at which the log is rotated, e.g. `size: 64MB`")
            }
            let keep = rotate.int("keep", in: .between(1, 1000)) ?? 5
            rotate.finish()
            if let size { rotation = JSONLSinkOptions.Rotation(size: size, keep: keep) }
        }
        var flush = JSONLSinkOptions.FlushPolicy.everyEvent
        let policy = reader.choice("flush", of: ["every-event", "interval"])
        let interval = reader.number("interval", in: .between(0.001, 3600))
        if policy == "interval" {
            flush = .interval(seconds: interval ?? 1)
        } else if interval != nil {
            let key = reader.entries.first { $0.key == "interval" }?.keyNode
            file.error("`interval` only applies with `flush: interval`", at: key)
        }
        guard let path else { return nil }
        return JSONLSinkOptions(path: path, rotation: rotation, flush: flush)
    }

    /// `64MB`, `512 KiB`, `1G` or a plain number of bytes. Units are 1024-based, as in logrotate.
    func byteSize(_ node: Node) -> Int64? {
        let fail = {
            self.file.error("`size` must be a number of bytes or a size such as 512KB, 64MB or 1GB, got "
                            + describe(node), at: node)
        }
        guard case .scalar = node, let text = node.string?.trimmingCharacters(in: .whitespaces) else {
            fail()
            return nil
        }
        let digits = text.prefix { $0.isNumber || $0 == "." }
        let unit = text.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).uppercased()
        let kib = 1024.0, mib = kib * 1024, gib = mib * 1024
        let multipliers: [String: Double] = ["": 1, "B": 1, "K": kib, "KB": kib, "KIB": kib, "M": mib, "MB": mib,
                                             "MIB": mib, "G": gib, "GB": gib, "GIB": gib]
        guard let value = Double(digits), let multiplier = multipliers[unit] else {
            fail()
            return nil
        }
        let bytes = value * multiplier
        guard bytes >= 1024, bytes <= 1e15 else {
            file.error("`size` must be between 1KB and 1PB, got \(text)", at: node)
            return nil
        }
        return Int64(bytes)
    }

    /// A list entry that is one `kind: options` pair (or a bare `kind`). Returns the kind, its key node and the
    /// options node (null when bare). Reports entries with zero or several keys, and unknown kinds.
    func singleKeyEntry(_ item: Node, what: String, kinds: [String]) -> (String, Node, Node)? {
        let kindList = listing(kinds)
        if case .scalar = item, !isNull(item), let name = item.string {
            guard kinds.contains(name) else {
                unknownKind(name, at: item, what: what, kinds: kinds)
                return nil
            }
            return (name, item, Node.scalar(.init("", .implicit, .plain, item.mark)))
        }
        guard let mapping = item.mapping, !mapping.isEmpty else {
            file.error("each \(what) is one `- kind: { options }` entry with kind \(kindList), got \(describe(item))",
                       at: item)
            return nil
        }
        let entries = Array(mapping)
        guard let name = entries[0].key.string else {
            file.error("a \(what) kind must be a word (\(kindList)), got \(describe(entries[0].key))",
                       at: entries[0].key)
            return nil
        }
        guard kinds.contains(name) else {
            unknownKind(name, at: entries[0].key, what: what, kinds: kinds)
            return nil
        }
        // Extra keys are reported, and the first kind is kept so later checks do not cascade from this one.
        for extra in entries.dropFirst() {
            let extraName = extra.key.string ?? "?"
            if kinds.contains(extraName) {
                file.error("each \(what) is its own `-` entry: put `\(extraName)` on a new line starting with `- `",
                           at: extra.key)
            } else {
                file.error("`\(extraName)` is written beside `\(name)`, not inside it: indent the options under "
                           + "`\(name):` (or write `- \(name): { \(extraName): ... }`)", at: extra.key)
            }
        }
        return (name, entries[0].key, entries[0].value)
    }

    func unknownKind(_ name: String, at node: Node, what: String, kinds: [String]) {
        var message = "unknown \(what) `\(name)`"
        if let guess = suggestion(for: name, among: kinds) { message += "; did you mean `\(guess)`?" }
        message += " (\(what)s: \(kinds.joined(separator: ", ")))"
        file.error(message, at: node)
    }
}

extension MappingReader {
    func allow(contentsOf keys: [String]) {
        for key in keys { allow(key) }
    }
}
