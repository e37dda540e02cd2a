// The daemon's metrics registry: counters, gauges and histograms with labels, rendered in the Prometheus text
// exposition format 0.0.4 for `/metrics`. Thread-safe; every update takes one short lock.
import Foundation
import Synchronization

/// A registry of named metric families, each a set of series told apart by their labels.
///
/// A family's kind (counter, gauge, histogram), help text and histogram buckets are fixed by its first update.
/// Updates that do not fit (a gauge update of a counter, a negative counter increment, an invalid metric or
/// label name, a histogram observation with other buckets) are not applied: a metrics mistake must never take the
/// daemon down. They are counted in ``rejectedUpdates`` so a test can catch them.
///
/// ```swift
/// let metrics = Metrics()
/// metrics.add("actiond_frames_decoded_total", labels: ["source": "door-cam"], help: "Frames decoded.")
/// metrics.set("actiond_source_up", 1, labels: ["source": "door-cam"], help: "1 while the source delivers.")
/// metrics.observe("actiond_stage_latency_seconds", 0.012, labels: ["stage": "classify"], help: "Stage latency.")
/// print(metrics.render())
/// ```
public final class Metrics: Sendable {
    /// Histogram upper bounds (seconds) for stage latencies: 1 ms to 10 s, about three per decade.
    public static let latencyBuckets: [Double] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    /// The Content-Type of ``render()``'s output, for the HTTP response.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    /// One series' state. Histogram counts are per bucket (not cumulative); render accumulates them.
    enum Sample: Sendable {
        case scalar(Double)
        case histogram(counts: [UInt64], sum: Double, count: UInt64)
    }

    struct Family: Sendable {
        var kind: Kind
        var help: String
        var buckets: [Double]
        var series: [LabelSet: Sample]
    }

    /// Label pairs sorted by name: the identity of a series within its family.
    struct LabelSet: Hashable, Sendable, Comparable {
        var pairs: [Pair]

        struct Pair: Hashable, Sendable {
            var name: String
            var value: String
        }

        init(_ labels: [String: String]) {
            pairs = labels.map { Pair(name: $0.key, value: $0.value) }.sorted { $0.name < $1.name }
        }

        static func < (lhs: LabelSet, rhs: LabelSet) -> Bool {
            for (l, r) in zip(lhs.pairs, rhs.pairs) {
                if l.name != r.name { return l.name < r.name }
                if l.value != r.value { return l.value < r.value }
            }
            return lhs.pairs.count < rhs.pairs.count
        }
    }

    struct State: Sendable {
        var families: [String: Family] = [:]
        var rejected = 0
    }

    private let state = Mutex(State())

    /// Creates an empty registry.
    public init() {}

    /// Adds `value` (default 1, must be ≥ 0) to a counter. Counter names should end in `_total`.
    public func add(_ name: String, _ value: Double = 1, labels: [String: String] = [:], help: String) {
        guard value >= 0 else {  // also rejects NaN: counters only go up
            state.withLock { $0.rejected += 1 }
            return
        }
        update(name, kind: .counter, labels: labels, help: help, buckets: []) { sample in
            if case .scalar(let old) = sample { sample = .scalar(old + value) }
        }
    }

    /// Sets a gauge to `value`.
    public func set(_ name: String, _ value: Double, labels: [String: String] = [:], help: String) {
        update(name, kind: .gauge, labels: labels, help: help, buckets: []) { sample in
            sample = .scalar(value)
        }
    }

    /// Records one observation in a histogram. `buckets` are upper bounds; they are sorted and de-duplicated, and
    /// the `+Inf` bucket is implicit. A family keeps the buckets of its first observation.
    public func observe(
        _ name: String, _ value: Double, labels: [String: String] = [:], help: String,
        buckets: [Double] = Metrics.latencyBuckets
    ) {
        guard value.isFinite else {
            state.withLock { $0.rejected += 1 }
            return
        }
        let bounds = buckets == Metrics.latencyBuckets ? buckets : Array(Set(buckets.filter { $0.isFinite })).sorted()
        update(name, kind: .histogram, labels: labels, help: help, buckets: bounds) { sample in
            guard case .histogram(var counts, let sum, let count) = sample else { return }
            // The first bound ≥ value; values above every bound land in +Inf, the extra last slot.
            let slot = bounds.firstIndex { value <= $0 } ?? bounds.count
            counts[slot] += 1
            sample = .histogram(counts: counts, sum: sum + value, count: count + 1)
        }
    }

    /// Removes one series (a source taken out of the config on reload should not keep reporting `source_up`).
    /// Removing the last series of a family removes the family. Returns whether the series existed.
    @discardableResult
    public func remove(_ name: String, labels: [String: String] = [:]) -> Bool {
        state.withLock { state in
            let key = LabelSet(labels)
            guard state.families[name]?.series.removeValue(forKey: key) != nil else { return false }
            if state.families[name]?.series.isEmpty == true { state.families[name] = nil }
            return true
        }
    }

    /// The current value of a counter or gauge series, or `nil` if there is none. For a histogram, ask for
    /// `<name>_count` or `<name>_sum`.
    public func value(_ name: String, labels: [String: String] = [:]) -> Double? {
        let key = LabelSet(labels)
        return state.withLock { state -> Double? in
            if let family = state.families[name], case .scalar(let value)? = family.series[key] { return value }
            for suffix in ["_count", "_sum"] where name.hasSuffix(suffix) {
                let base = String(name.dropLast(suffix.count))
                guard let family = state.families[base], family.kind == .histogram,
                    case .histogram(_, let sum, let count)? = family.series[key]
                else { continue }
                return suffix == "_count" ? Double(count) : sum
            }
            return nil
        }
    }

    /// How many updates were not applied (kind mismatch, invalid name, negative counter increment).
    public var rejectedUpdates: Int { state.withLock { $0.rejected } }

    /// The registry in the Prometheus text format 0.0.4: families sorted by name, each with `# HELP` and `# TYPE`,
    /// series sorted by their labels, label values escaped; histograms as cumulative `_bucket{le="…"}` series
    /// ending in `le="+Inf"`, then `_sum` and `_count`. Ends with a newline (or is empty).
    public func render() -> String {
        let families = state.withLock { $0.families }
        var out = ""
        for name in families.keys.sorted() {
            let family = families[name]!
            out += "# HELP \(name) \(Self.escapeHelp(family.help))\n"
            out += "# TYPE \(name) \(family.kind.rawValue)\n"
            for labels in family.series.keys.sorted() {
                switch family.series[labels]! {
                case .scalar(let value):
                    out += "\(name)\(Self.render(labels.pairs)) \(Self.format(value))\n"
                case .histogram(let counts, let sum, let count):
                    var cumulative: UInt64 = 0
                    for (index, bucketCount) in counts.enumerated() {
                        cumulative += bucketCount
                        let bound = index < family.buckets.count ? Self.format(family.buckets[index]) : "+Inf"
                        let pairs = labels.pairs + [LabelSet.Pair(name: "le", value: bound)]
                        out += "\(name)_bucket\(Self.render(pairs)) \(cumulative)\n"
                    }
                    out += "\(name)_sum\(Self.render(labels.pairs)) \(Self.format(sum))\n"
                    out += "\(name)_count\(Self.render(labels.pairs)) \(count)\n"
                }
            }
        }
        return out
    }

    // MARK: - Internals

    private func update(
        _ name: String, kind: Kind, labels: [String: String], help: String, buckets: [Double],
        _ apply: (inout Sample) -> Void
    ) {
        let valid =
            Self.isValidMetricName(name)
            && labels.keys.allSatisfy { Self.isValidLabelName($0) && !(kind == .histogram && $0 == "le") }
        let key = LabelSet(labels)
        state.withLock { state in
            guard valid else {
                state.rejected += 1
                return
            }
            if let family = state.families[name], family.kind != kind || family.buckets != buckets {
                state.rejected += 1
                return
            }
            let empty: Sample = kind == .histogram
                ? .histogram(counts: Array(repeating: 0, count: buckets.count + 1), sum: 0, count: 0) : .scalar(0)
            // Updated in place: copying the family out of the dictionary would copy all its series every time.
            apply(&state.families[name, default: Family(kind: kind, help: help, buckets: buckets, series: [:])]
                .series[key, default: empty])
        }
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    static func isValidMetricName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return false
        }
        return name.utf8.allSatisfy { isWordByte($0) || $0 == UInt8(ascii: ":") }
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved for Prometheus itself).
    static func isValidLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first),
            !name.hasPrefix("__")
        else { return false }
        return name.utf8.allSatisfy(isWordByte)
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    private static func render(_ pairs: [LabelSet.Pair]) -> String {
        if pairs.isEmpty { return "" }
        return "{" + pairs.map { "\($0.name)=\"\(escapeLabelValue($0.value))\"" }.joined(separator: ",") + "}"
    }

    /// Label values escape backslash, double quote and line feed.
    static func escapeLabelValue(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {  // scalars: "\r\n" is one Character, and its \n must be escaped too
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Help text escapes backslash and line feed only.
    static func escapeHelp(_ help: String) -> String {
        help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Integers without a fraction ("3", not "3.0"), other values in Swift's shortest round-trip form, which
    /// Prometheus parses ("0.25", "1e-05"); infinities and NaN as the format spells them.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
