// Multi-person association, one step per processed frame: every track's box is predicted (BoxKalman), the
// detections are split by score (ByteTrack's high / low), and tracks are matched to detections by optimal
// assignment (LinearAssignment) on a cost that mixes box overlap with an appearance cue: a Siamese tracker's
// response at each detection, searched around the track's prediction. Tracks the detector misses are followed
// by the cue's own search peak while it is confident; a track lost for longer than `maxLost` frames is removed.
//
// States: tentative (new, not yet reported) → confirmed (matched `confirm` frames in a row) → lost (no match on
// this frame; kept, predicted and searched, and re-found with its id) → removed (reported once, then dropped).
import Vocabulary

/// The knobs of association. Defaults suit the embedded detector at 15 processed frames per second.
public struct TrackerSettings: Sendable, Equatable {
    /// Detections at or above this score take part in the first association and may start tracks.
    public var high: Double = 0.5
    /// Detections from here up to `high` are only matched to confirmed tracks the first pass left (ByteTrack's
    /// second association); below it they are ignored.
    public var low: Double = 0.1
    /// A detection must score this much to start a track (above `high`, so doubtful boxes never start one).
    public var start: Double = 0.6
    /// The box overlap (IoU) that lets a track and a detection be matched on boxes alone.
    public var iou: Double = 0.3
    /// Matched frames in a row before a tentative track is confirmed (1: at once).
    public var confirm: Int = 2
    /// Frames a confirmed track may go without a detection before it is removed.
    public var maxLost: Int = 30
    /// Weight of the appearance cue in the matching score, 0…1 (0: boxes only).
    public var appearance: Double = 0.5
    /// Appearance probability at which a detection matches a track without box overlap (re-finding a lost track
    /// far from its prediction), and at which a search peak follows a track the detector missed.
    public var refind: Double = 0.8

    public init() {}
}

/// Where a track stands on a frame.
public enum TrackPhase: String, Sendable, Equatable, CaseIterable {
    case tentative, confirmed, lost, removed
}

/// What placed a track's box on this frame.
public enum TrackEvidence: String, Sendable, Equatable {
    /// A detection was matched to it.
    case detection
    /// No detection; the appearance search found it.
    case search
    /// Neither: the box is the motion model's prediction.
    case prediction
}

/// One track on one frame, as the tracker reports it.
public struct TrackedPerson: Sendable, Equatable {
    public var id: Int
    /// The filtered box (the Kalman state after this frame's measurement), in the pixels the detections were in.
    public var box: PixelRect
    public var phase: TrackPhase
    public var evidence: TrackEvidence
    /// The matched detection's score, the search peak's probability, or 0 for a prediction.
    public var score: Double
    /// The index, in this frame's detections, of the detection matched to the track.
    public var detection: Int?
}

/// What an appearance cue found for one track around its prediction.
public struct AppearanceResponse: Sendable, Equatable {
    /// Probabilities that the track's person is centred at grid points: `values[row * columns + column]` at
    /// (`originX + column * spacing`, `originY + row * spacing`) in frame pixels.
    public var values: [Double]
    public var rows: Int
    public var columns: Int
    public var originX: Double
    public var originY: Double
    public var spacing: Double
    /// The best place for the track (the response peak, after the cue's penalties) and its probability.
    public var peak: PixelRect
    public var confidence: Double

    public init(values: [Double], rows: Int, columns: Int, originX: Double, originY: Double, spacing: Double,
                peak: PixelRect, confidence: Double) {
        precondition(values.count == rows * columns && rows > 0 && columns > 0 && spacing > 0)
        self.values = values
        self.rows = rows
        self.columns = columns
        self.originX = originX
        self.originY = originY
        self.spacing = spacing
        self.peak = peak
        self.confidence = confidence
    }

    /// The probability at a point (bilinear between grid points), nil outside the grid.
    public func probability(x: Double, y: Double) -> Double? {
        let gx = (x - originX) / spacing, gy = (y - originY) / spacing
        guard gx >= 0, gy >= 0, gx <= Double(columns - 1), gy <= Double(rows - 1) else { return nil }
        let x0 = min(Int(gx), max(columns - 2, 0)), y0 = min(Int(gy), max(rows - 2, 0))
        let x1 = min(x0 + 1, columns - 1), y1 = min(y0 + 1, rows - 1)
        let fx = gx - Double(x0), fy = gy - Double(y0)
        let top = values[y0 * columns + x0] * (1 - fx) + values[y0 * columns + x1] * fx
        let bottom = values[y1 * columns + x0] * (1 - fx) + values[y1 * columns + x1] * fx
        return top * (1 - fy) + bottom * fy
    }
}

/// An appearance model of the tracked people (a Siamese tracker): searches around predictions and keeps one
/// template per track.
public protocol AppearanceCue: AnyObject {
    /// The response of each track's template around its predicted box, by track id. Tracks without a template
    /// are left out.
    func search(_ tracks: [(id: Int, box: PixelRect)]) throws -> [Int: AppearanceResponse]
    /// Track `id` is at `box` on this frame, matched to a detection. `fresh`: the track was just confirmed (make
    /// its template); `confident`: the match is sure and unoccluded, the template may be refreshed.
    func observe(id: Int, box: PixelRect, fresh: Bool, confident: Bool) throws
    /// Track `id` is gone: drop its template.
    func forget(id: Int)
}

/// Follows the people of one video. Deterministic: the same detections (and cue) give the same ids.
public struct MultiTracker: Sendable {
    struct Track: Sendable {
        var id: Int
        var kalman: BoxKalman
        var phase: TrackPhase
        var hits: Int
        var lostFrames = 0
        var hasTemplate = false
        /// The size of the last detection matched: a search peak measures a position, not a size.
        var size: (width: Double, height: Double)
    }

    public let settings: TrackerSettings
    private var tracks: [Track] = []
    private var nextID = 1

    public init(settings: TrackerSettings = TrackerSettings()) {
        self.settings = settings
    }

    /// Tracks alive now (tentative, confirmed or lost).
    public var count: Int { tracks.count }

    /// One frame: associates `detections` with the tracks and reports every track that is not tentative
    /// (confirmed and lost ones, and those removed on this frame, once), sorted by id. With `frame` (the
    /// picture's rectangle), a lost track whose predicted box has left it is removed at once.
    public mutating func step(_ detections: [Detection], cue: AppearanceCue? = nil, frame: PixelRect? = nil) throws
        -> [TrackedPerson]
    {
        for index in tracks.indices {
            // A track not detected on the last frame (lost, or followed by search) keeps moving as it did, but
            // stops changing size: its size velocity came from boxes that were being hidden or cut by the frame edge.
            if tracks[index].lostFrames > 0 { tracks[index].kalman.holdSize() }
            tracks[index].kalman.predict()
        }
        let high = detections.indices.filter { Double(detections[$0].score) >= settings.high }
        // The appearance cue is asked only where boxes are ambiguous: a track whose prediction overlaps exactly
        // one high detection well, with no other box or track near either, matches on its box alone (searched
        // later only if it ends up unmatched).
        let withTemplate = tracks.filter { $0.phase != .tentative && $0.hasTemplate }
        let ambiguous = cue == nil ? [] : withTemplate.filter { !isClear($0, high: high, detections: detections) }
        var responses = try cue?.search(ambiguous.map { ($0.id, $0.kalman.box) }) ?? [:]

        let low = detections.indices.filter {
            let s = Double(detections[$0].score)
            return s >= settings.low && s < settings.high
        }
        var matchOf: [Int: Int] = [:]  // track index → detection index

        // 1. Confirmed and lost tracks against the high detections: overlap and appearance.
        let established = tracks.indices.filter { tracks[$0].phase != .tentative }
        var freeHigh = high
        for (t, d) in match(established, freeHigh, detections, responses, useAppearance: true) {
            matchOf[t] = d
            freeHigh.removeAll { $0 == d }
        }
        // 2. Confirmed tracks still unmatched against the low detections: overlap only, stricter.
        let unmatchedConfirmed = established.filter { matchOf[$0] == nil && tracks[$0].phase == .confirmed }
        for (t, d) in match(unmatchedConfirmed, low, detections, [:], useAppearance: false,
                                        minimumIoU: max(settings.iou, 0.5)) {
            matchOf[t] = d
        }
        // 3. Tentative tracks against the high detections left: overlap only.
        let tentative = tracks.indices.filter { tracks[$0].phase == .tentative }
        for (t, d) in match(tentative, freeHigh, detections, [:], useAppearance: false) {
            matchOf[t] = d
            freeHigh.removeAll { $0 == d }
        }

        // Tracks left unmatched that were not searched yet: searched now, to follow them or let them go.
        if let cue {
            let late = tracks.indices.filter { index in
                matchOf[index] == nil && tracks[index].phase == .confirmed && tracks[index].hasTemplate
                    && responses[tracks[index].id] == nil
            }
            if !late.isEmpty {
                responses.merge(try cue.search(late.map { (tracks[$0].id, tracks[$0].kalman.box) })) { a, _ in a }
            }
        }

        var reports: [TrackedPerson] = []
        var removed: [Int] = []
        let matchedBoxes = matchOf.values.map { detections[$0].box }
        for index in tracks.indices {
            var track = tracks[index]
            if let d = matchOf[index] {
                let detection = detections[d]
                track.kalman.update(detection.box)
                track.size = (detection.box.width, detection.box.height)
                track.hits += 1
                track.lostFrames = 0
                var fresh = false
                if track.phase == .tentative {
                    if track.hits >= settings.confirm { track.phase = .confirmed; fresh = true }
                } else {
                    track.phase = .confirmed
                }
                if track.phase == .confirmed, let cue {
                    // Refresh the template only from a sure, unoccluded view of the person.
                    let crowded = matchedBoxes.contains { $0 != detection.box && $0.iou(detection.box) > 0.1 }
                    // A track not searched this frame was clear of everyone else: its view is sure.
                    let agrees = responses[track.id].map { r in
                        (r.probability(x: detection.box.centre.x, y: detection.box.centre.y) ?? 0) >= 0.5 } ?? true
                    let confident = Double(detection.score) >= settings.high && !crowded && agrees
                    try cue.observe(id: track.id, box: detection.box, fresh: fresh || !track.hasTemplate,
                                    confident: confident)
                    track.hasTemplate = true
                }
                if track.phase == .confirmed {
                    reports.append(TrackedPerson(id: track.id, box: track.kalman.box, phase: .confirmed,
                                                 evidence: .detection, score: Double(detection.score), detection: d))
                }
            } else if track.phase == .tentative {
                removed.append(index)  // a tentative track that misses a frame was a false start
            } else if let response = responses[track.id], response.confidence >= settings.refind,
                      !matchedBoxes.contains(where: { $0.iou(response.peak) > 0.3 }),
                      track.lostFrames < settings.maxLost {
                // The detector missed the person; the search found them. Followed, but it counts toward removal
                // so a search that latched onto the background cannot keep a track forever.
                let c = response.peak.centre
                track.kalman.update(PixelRect(x: c.x - track.size.width / 2, y: c.y - track.size.height / 2,
                                              width: track.size.width, height: track.size.height),
                                    confidence: response.confidence)
                track.phase = .confirmed
                track.lostFrames += 1
                reports.append(TrackedPerson(id: track.id, box: track.kalman.box, phase: .confirmed,
                                             evidence: .search, score: response.confidence, detection: nil))
            } else {
                track.lostFrames += 1
                let gone = frame.map { track.kalman.box.iou($0) == 0 } ?? false
                if track.lostFrames > settings.maxLost || gone {
                    track.phase = .removed
                    removed.append(index)
                } else {
                    track.phase = .lost
                }
                reports.append(TrackedPerson(id: track.id, box: track.kalman.box, phase: track.phase,
                                             evidence: .prediction, score: 0, detection: nil))
            }
            tracks[index] = track
        }
        for index in removed.reversed() {
            if tracks[index].hasTemplate { cue?.forget(id: tracks[index].id) }
            tracks.remove(at: index)
        }
        // 4. New tracks from high detections nobody took, best first.
        for d in freeHigh.sorted(by: { detections[$0].score > detections[$1].score || (detections[$0].score
                                       == detections[$1].score && $0 < $1) })
        where Double(detections[d].score) >= settings.start {
            let box = detections[d].box
            var track = Track(id: nextID, kalman: BoxKalman(box), phase: .tentative, hits: 1,
                              size: (box.width, box.height))
            nextID += 1
            if settings.confirm <= 1 {
                track.phase = .confirmed
                if let cue {
                    try cue.observe(id: track.id, box: detections[d].box, fresh: true, confident: true)
                    track.hasTemplate = true
                }
                reports.append(TrackedPerson(id: track.id, box: track.kalman.box, phase: .confirmed,
                                             evidence: .detection, score: Double(detections[d].score), detection: d))
            }
            tracks.append(track)
        }
        return reports.sorted { $0.id < $1.id }
    }

    /// A track that boxes alone match without doubt: its prediction overlaps exactly one high detection by at
    /// least 0.5 IoU, and neither comes near (IoU > 0.05) any other detection or another track's prediction.
    private func isClear(_ track: Track, high: [Int], detections: [Detection]) -> Bool {
        let predicted = track.kalman.box
        let close = high.filter { predicted.iou(detections[$0].box) >= 0.5 }
        guard close.count == 1 else { return false }
        let mine = detections[close[0]].box
        for (index, detection) in detections.enumerated() where index != close[0] {
            if detection.box.iou(mine) > 0.05 || detection.box.iou(predicted) > 0.05 { return false }
        }
        for other in tracks where other.id != track.id && other.phase != .tentative {
            if other.kalman.box.iou(predicted) > 0.05 || other.kalman.box.iou(mine) > 0.05 { return false }
        }
        return true
    }

    /// Optimal matching of `trackIndices` to `detectionIndices`. Similarity = (1 − a)·IoU + a·P(appearance at
    /// the detection's centre) when the track has a response, else IoU. A pair is allowed when the IoU reaches
    /// `minimumIoU`, or the appearance probability reaches `refind`.
    private func match(_ trackIndices: [Int], _ detectionIndices: [Int], _ detections: [Detection],
                       _ responses: [Int: AppearanceResponse], useAppearance: Bool, minimumIoU: Double? = nil)
        -> [(track: Int, detection: Int)]
    {
        guard !trackIndices.isEmpty, !detectionIndices.isEmpty else { return [] }
        let minIoU = minimumIoU ?? settings.iou
        let a = useAppearance ? settings.appearance : 0
        var cost = [Double](repeating: .infinity, count: trackIndices.count * detectionIndices.count)
        for (r, t) in trackIndices.enumerated() {
            let predicted = tracks[t].kalman.box
            let response = useAppearance ? responses[tracks[t].id] : nil
            for (c, d) in detectionIndices.enumerated() {
                let box = detections[d].box
                let overlap = predicted.iou(box)
                var similarity = overlap
                var allowed = overlap >= minIoU
                if let response, a > 0 {
                    let p = response.probability(x: box.centre.x, y: box.centre.y) ?? 0
                    similarity = (1 - a) * overlap + a * p
                    allowed = allowed || p >= settings.refind
                }
                if allowed { cost[r * detectionIndices.count + c] = 1 - similarity }
            }
        }
        return LinearAssignment.solve(cost: cost, rows: trackIndices.count, columns: detectionIndices.count,
                                      limit: 1 + 1e-9).map { (trackIndices[$0.row], detectionIndices[$0.column]) }
    }
}
