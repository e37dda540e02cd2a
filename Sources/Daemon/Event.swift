// The versioned records actiond writes to its logs (JSON Lines, schema v1): action events and lifecycle events.
// Lines are built by hand so key order and number formats are fixed byte for byte (docs/output.md).
import Foundation
import TextFormat
#if canImport(Glibc)
import Glibc
#endif

/// One recognised action segment, as written to the JSON Lines log (schema v1).
///
/// `start`/`end` are media seconds of the segment; `ts` is the wall-clock time the event was emitted.
public struct ActionEvent: Sendable, Equatable {
    /// Wall-clock time the event was emitted (written as ISO-8601 UTC with milliseconds).
    public var ts: Date
    /// The configured source id (`sources[].id`).
    public var source: String
    /// The file path or stream URL the segment came from.
    public var media: String
    /// The tracker's id of the person, or nil in whole-frame mode (written as `null`).
    public var track: Int?
    /// The action label from the model's label file.
    public var label: String
    /// The smoothed score of the segment (written with 4 decimals).
    public var score: Double
    /// Media time of the segment's start in seconds (written with 3 decimals).
    public var start: Double
    /// Media time of the segment's end in seconds (written with 3 decimals).
    public var end: Double
    /// The person's box `[x, y, width, height]` as the pipeline gives it, or nil (the key is then omitted).
    public var box: [Double]?
    /// The classifier model's name.
    public var model: String
    /// The hex SHA-256 of the classifier model file.
    public var modelSHA256: String

    /// Creates an event; `track` and `box` default to nil (whole-frame mode).
    public init(
        ts: Date, source: String, media: String, track: Int? = nil, label: String, score: Double,
        start: Double, end: Double, box: [Double]? = nil, model: String, modelSHA256: String
    ) {
        self.ts = ts
        self.source = source
        self.media = media
        self.track = track
        self.label = label
        self.score = score
        self.start = start
        self.end = end
        self.box = box
        self.model = model
        self.modelSHA256 = modelSHA256
    }

    /// The event as one JSON object without a trailing newline. Keys in this order:
    /// `v, ts, source, media, track, label, score, start, end, box, model, model_sha256`.
    public var jsonLine: String {
        var line = "{\"v\":\(outputSchemaVersion),\"ts\":\""
        line.reserveCapacity(192 + source.utf8.count + media.utf8.count + modelSHA256.utf8.count)
        line += LineFormat.timestamp(ts)
        line += "\",\"source\":" + jsonString(source)
        line += ",\"media\":" + jsonString(media)
        line += ",\"track\":" + (track.map { String($0) } ?? "null")
        line += ",\"label\":" + jsonString(label)
        line += ",\"score\":" + decimal(score, digits: 4)
        line += ",\"start\":" + decimal(start, digits: 3)
        line += ",\"end\":" + decimal(end, digits: 3)
        if let box {
            line += ",\"box\":[" + box.map(LineFormat.boxCoordinate).joined(separator: ",") + "]"
        }
        line += ",\"model\":" + jsonString(model)
        line += ",\"model_sha256\":" + jsonString(modelSHA256)
        line += "}"
        return line
    }

    /// The identity used to avoid re-emitting an event after a restart: source, media, track (-1 when nil),
    /// label and start (3 decimals, exactly as written), separated by U+001F.
    public var dedupeKey: String {
        Self.makeDedupeKey(
            source: source, media: media, track: track ?? -1, label: label, start: decimal(start, digits: 3))
    }

    /// Rebuilds `dedupeKey` from a line of the log, so the dedupe set can be restored after a crash.
    /// Returns nil for lifecycle lines, other schema versions and anything that is not a v1 action event.
    public static func dedupeKey(jsonLine: String) -> String? {
        guard let data = jsonLine.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data),
            let fields = object as? [String: Any],
            (fields["v"] as? NSNumber)?.doubleValue == Double(outputSchemaVersion),
            fields["event"] == nil,
            let source = fields["source"] as? String,
            let media = fields["media"] as? String,
            let label = fields["label"] as? String
        else { return nil }
        let track: Int
        switch fields["track"] {
        case is NSNull: track = -1
        case let number as NSNumber:
            // A fractional or out-of-range track id is not something this writer produces.
            let value = number.doubleValue
            guard value == value.rounded(), abs(value) < 9e15 else { return nil }
            track = Int(value)
        default: return nil
        }
        let start: String
        switch fields["start"] {
        case is NSNull: start = "null"  // a non-finite start is written as null
        case let number as NSNumber: start = decimal(number.doubleValue, digits: 3)
        default: return nil
        }
        return makeDedupeKey(source: source, media: media, track: track, label: label, start: start)
    }

    private static func makeDedupeKey(source: String, media: String, track: Int, label: String, start: String)
        -> String
    {
        "\(source)\u{1F}\(media)\u{1F}\(track)\u{1F}\(label)\u{1F}\(start)"
    }
}

/// A value of a lifecycle event's extra field.
public enum LifecycleValue: Sendable, Equatable {
    /// A JSON string.
    case string(String)
    /// A JSON integer.
    case int(Int)
    /// Written with 3 decimals (durations in seconds); non-finite values are written as `null`.
    case double(Double)
    /// `true` or `false`.
    case bool(Bool)

    /// The value as JSON text.
    var jsonText: String {
        switch self {
        case .string(let text): return jsonString(text)
        case .int(let number): return String(number)
        case .double(let number): return decimal(number, digits: 3)
        case .bool(let flag): return flag ? "true" : "false"
        }
    }
}

/// Something that happened to a source (up, down, reconnect, quarantine, …), written to the same log as the
/// action events when a source asks for it, told apart by its `event` key.
public struct LifecycleEvent: Sendable, Equatable {
    /// What happened; the raw value is the `event` field.
    public enum Kind: String, Sendable, CaseIterable {
        case sourceUp = "source_up"
        case sourceDown = "source_down"
        case reconnect
        case quarantine
        case fileDone = "file_done"
        case fileSkipped = "file_skipped"
        case configReload = "config_reload"
    }

    /// Wall-clock time of the event.
    public var ts: Date
    /// The configured source id.
    public var source: String
    /// What happened.
    public var kind: Kind
    /// The file or URL concerned, or nil (the key is then omitted).
    public var media: String?
    /// Extra keys in the order they are written (e.g. `reason`, `attempt`, `delay`, `outage`). A key that repeats
    /// a fixed key (`v`, `ts`, `source`, `event`, `media`) or an earlier extra key is not written, so every line
    /// has unique keys.
    public var fields: [(String, LifecycleValue)]

    /// Creates a lifecycle event.
    public init(ts: Date, source: String, kind: Kind, media: String? = nil, fields: [(String, LifecycleValue)] = []) {
        self.ts = ts
        self.source = source
        self.kind = kind
        self.media = media
        self.fields = fields
    }

    /// The event as one JSON object without a trailing newline:
    /// `{"v":1,"ts":…,"source":…,"event":…,"media":…,<extra fields in order>}`.
    public var jsonLine: String {
        var line = "{\"v\":\(outputSchemaVersion),\"ts\":\"" + LineFormat.timestamp(ts) + "\""
        line += ",\"source\":" + jsonString(source)
        line += ",\"event\":" + jsonString(kind.rawValue)
        if let media { line += ",\"media\":" + jsonString(media) }
        var used: Set<String> = ["v", "ts", "source", "event", "media"]
        for (key, value) in fields where used.insert(key).inserted {
            line += "," + jsonString(key) + ":" + value.jsonText
        }
        line += "}"
        return line
    }

    /// Equal when every field is, the extra fields compared in order.
    public static func == (lhs: LifecycleEvent, rhs: LifecycleEvent) -> Bool {
        lhs.ts == rhs.ts && lhs.source == rhs.source && lhs.kind == rhs.kind && lhs.media == rhs.media
            && lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}

/// The `v` field of every line this version writes.
public let outputSchemaVersion = 1

/// `s` as a JSON string literal, quotes included: `TextFormat.jsonString`, under the name the service's
/// status text uses.
func jsonEscaped(_ s: String) -> String { jsonString(s) }

/// The box and time formats of output lines, in one place so the JSON and text renderings agree (numbers:
/// `TextFormat.decimal`).
enum LineFormat {
    /// A box coordinate: 2 decimals with trailing zeros dropped (`104`, `40.5`, `12.25`).
    static func boxCoordinate(_ value: Double) -> String {
        var text = decimal(value, digits: 2)
        guard text != "null" else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// `date` as ISO-8601 UTC with milliseconds, e.g. `2026-11-21T10:00:03.120Z` (rounded to the nearest ms).
    static func timestamp(_ date: Date) -> String {
        var milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        // Dates beyond what time_t and Int64 arithmetic can hold are not produced by a clock; write the epoch.
        if !milliseconds.isFinite || abs(milliseconds) > 2.5e17 { milliseconds = 0 }
        let total = Int64(milliseconds)
        var seconds = total / 1000
        var millis = total % 1000
        if millis < 0 {
            millis += 1000
            seconds -= 1
        }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func padded(_ number: Int32, _ width: Int) -> String {
            let text = String(number)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        return padded(parts.tm_year + 1900, 4) + "-" + padded(parts.tm_mon + 1, 2) + "-" + padded(parts.tm_mday, 2)
            + "T" + padded(parts.tm_hour, 2) + ":" + padded(parts.tm_min, 2) + ":" + padded(parts.tm_sec, 2)
            + "." + padded(Int32(millis), 3) + "Z"
    }
}
