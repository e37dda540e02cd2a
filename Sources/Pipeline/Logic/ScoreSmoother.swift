// Turns a stream of per-clip score vectors into action segments: a moving average over the last `window`
// clips, per-label hysteresis (open at `enter`, close below `exit`), and a minimum segment length.
import Foundation

/// The scores of one classified clip, in the classifier's label order.
public struct ClipScores: Sendable, Equatable {
    public var start: Double
    public var end: Double
    public var scores: [Float]
    /// Track id in per-track mode; nil for whole-frame clips.
    public var track: Int?
    /// The track's mean box over the clip, in source pixels (per-track mode).
    public var box: PixelRect?

    public init(start: Double, end: Double, scores: [Float], track: Int? = nil, box: PixelRect? = nil) {
        self.start = start
        self.end = end
        self.scores = scores
        self.track = track
        self.box = box
    }

    /// The best label's index (the first of equal scores), nil for an empty vector.
    public var best: Int? { scores.indices.max { scores[$0] < scores[$1] } }
}

/// A stretch of media during which one action was recognised.
public struct ActionSegment: Sendable, Equatable, CustomStringConvertible {
    public var label: String
    /// Mean smoothed score over the clips in the segment.
    public var score: Double
    /// Media seconds: start of the first clip, end of the last clip in the segment.
    public var start: Double
    public var end: Double
    public var track: Int?
    /// The track's mean box over the segment, in source pixels (per-track mode).
    public var box: PixelRect?

    public init(label: String, score: Double, start: Double, end: Double, track: Int? = nil, box: PixelRect? = nil) {
        self.label = label
        self.score = score
        self.start = start
        self.end = end
        self.track = track
        self.box = box
    }

    public var length: Double { end - start }
    public var description: String {
        String(format: "%@ %.3f [%.3f, %.3f]", label, score, start, end) + (track.map { " track \($0)" } ?? "")
    }
}

/// A score vector did not have one score per label.
public struct ScoreCountMismatch: Error, Sendable, CustomStringConvertible {
    public var expected: Int
    public var got: Int
    public var description: String { "a clip has \(got) scores, but the classifier has \(expected) labels" }
}

/// Smooths one stream of clip scores (one track, or the whole frame). Pure logic over timestamped values.
///
/// Every label is tracked on its own: a segment opens on the first clip whose smoothed score reaches `enter`,
/// stays open while the smoothed score is at least `exit`, and closes on the first clip below `exit` (ending
/// where the last clip at or above `exit` ends). With enter > 0.5 and softmax scores at most one label is open.
public struct ScoreSmoother: Sendable {
    public let labels: [String]
    public let options: SmoothOptions
    private let ignored: Set<Int>
    private var recent: [[Float]] = []
    private var open: [Int: OpenSegment] = [:]

    private struct OpenSegment: Sendable {
        var start: Double
        var end: Double
        var scoreSum: Double
        var clips: Int
        var boxes: [PixelRect]
    }

    public init(labels: [String], options: SmoothOptions) {
        self.labels = labels
        self.options = options
        ignored = Set(labels.indices.filter { options.ignore.contains(labels[$0]) })
    }

    /// The moving average of the last `window` clips (fewer at the start of the stream).
    public var smoothed: [Double] {
        guard !recent.isEmpty else { return [] }
        var sums = [Double](repeating: 0, count: labels.count)
        for scores in recent { for (i, score) in scores.enumerated() { sums[i] += Double(score) } }
        return sums.map { $0 / Double(recent.count) }
    }

    /// Adds the next clip (in time order); returns the segments it closes, by start then label order.
    public mutating func push(_ clip: ClipScores, track: Int? = nil) throws(ScoreCountMismatch) -> [ActionSegment] {
        guard clip.scores.count == labels.count else {
            throw ScoreCountMismatch(expected: labels.count, got: clip.scores.count)
        }
        recent.append(clip.scores)
        if recent.count > options.window { recent.removeFirst(recent.count - options.window) }
        let smoothed = self.smoothed
        var closed: [ActionSegment] = []
        for label in labels.indices where !ignored.contains(label) {
            let score = smoothed[label]
            if var segment = open[label] {
                if score >= options.exit {
                    segment.end = clip.end
                    segment.scoreSum += score
                    segment.clips += 1
                    if let box = clip.box { segment.boxes.append(box) }
                    open[label] = segment
                } else {
                    open[label] = nil
                    if let done = finished(label, segment, track: track ?? clip.track) { closed.append(done) }
                }
            } else if score >= options.enter {
                open[label] = OpenSegment(start: clip.start, end: clip.end, scoreSum: score, clips: 1,
                                          boxes: clip.box.map { [$0] } ?? [])
            }
        }
        return closed
    }

    /// The stream ended: closes every open segment.
    public mutating func finish(track: Int? = nil) -> [ActionSegment] {
        let closing = open.sorted { ($0.value.start, $0.key) < ($1.value.start, $1.key) }
        open.removeAll()
        recent.removeAll()
        return closing.compactMap { finished($0.key, $0.value, track: track) }
    }

    private func finished(_ label: Int, _ segment: OpenSegment, track: Int?) -> ActionSegment? {
        // A small tolerance so a segment of exactly `min_length` seconds computed from clip times is kept.
        guard segment.end - segment.start >= options.minLength - 1e-9 else { return nil }
        return ActionSegment(label: labels[label], score: segment.scoreSum / Double(segment.clips),
                             start: segment.start, end: segment.end, track: track, box: .mean(segment.boxes))
    }
}

/// Without a `smooth` stage, each clip is a segment of its best label: the one path from clip scores to
/// segments when no smoothing is asked for (the graph always ends in segments).
public struct BestLabelStage: Stage {
    public typealias Input = ClipScores
    public typealias Output = ActionSegment
    public let name = "segments"
    private let labels: [String]

    public init(labels: [String]) { self.labels = labels }

    public mutating func process(_ input: Timestamped<ClipScores>, emit: Emit<ActionSegment>) async throws {
        let clip = input.value
        guard clip.scores.count == labels.count, let top = clip.best else {
            throw ScoreCountMismatch(expected: labels.count, got: clip.scores.count)
        }
        let segment = ActionSegment(label: labels[top], score: Double(clip.scores[top]), start: clip.start,
                                    end: clip.end, track: clip.track, box: clip.box)
        try await emit(Timestamped(segment, at: segment.start, duration: segment.length))
    }
}

/// The smoother as a stage: clip scores in, segments out. Per-track clips are smoothed per track.
///
/// Its YAML is `smooth` (see `SmoothOptions`). A track whose clips stop arriving (the person left) is closed
/// once another clip starts more than `trackTimeout` media seconds after that track's last clip ended, so a
/// service running for months holds state only for the tracks it currently sees.
public struct SmoothStage: Stage {
    public typealias Input = ClipScores
    public typealias Output = ActionSegment
    public let name: String
    private let labels: [String]
    private let options: SmoothOptions
    private let trackTimeout: Double
    private var byTrack: [Int?: (smoother: ScoreSmoother, lastEnd: Double)] = [:]

    public init(name: String = "smooth", labels: [String], options: SmoothOptions, trackTimeout: Double = 5) {
        self.name = name
        self.labels = labels
        self.options = options
        self.trackTimeout = trackTimeout
    }

    /// Tracks (nil: the whole frame) with state held.
    public var openTracks: [Int?] { byTrack.keys.sorted { ($0 ?? -1) < ($1 ?? -1) } }

    public mutating func process(_ input: Timestamped<ClipScores>, emit: Emit<ActionSegment>) async throws {
        let clip = input.value
        let expired = byTrack.filter { $0.key != clip.track && $0.value.lastEnd < clip.start - trackTimeout }
        var closing: [ActionSegment] = []
        for (track, entry) in expired {
            var smoother = entry.smoother
            closing += smoother.finish(track: track)
            byTrack[track] = nil
        }
        var smoother = byTrack[clip.track]?.smoother ?? ScoreSmoother(labels: labels, options: options)
        closing += try smoother.push(clip)
        byTrack[clip.track] = (smoother, clip.end)
        try await emitSorted(closing, emit)
    }

    public mutating func finish(emit: Emit<ActionSegment>) async throws {
        var closing: [ActionSegment] = []
        for (track, entry) in byTrack {
            var smoother = entry.smoother
            closing += smoother.finish(track: track)
        }
        byTrack.removeAll()
        try await emitSorted(closing, emit)
    }

    private func emitSorted(_ segments: [ActionSegment], _ emit: Emit<ActionSegment>) async throws {
        let sorted = segments.sorted { ($0.start, $0.track ?? -1, $0.label) < ($1.start, $1.track ?? -1, $1.label) }
        for segment in sorted { try await emit(Timestamped(segment, at: segment.start, duration: segment.length)) }
    }
}
