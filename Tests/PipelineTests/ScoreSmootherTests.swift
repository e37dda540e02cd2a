// Smoothing per-clip scores into action segments: moving average, hysteresis, minimum length, ignored labels,
// per-track streams, and a random sweep against a plain offline reference.
import Foundation
@testable import Pipeline
import TestSupport
import XCTest

final class ScoreSmootherTests: XCTestCase {
    let labels = ["walk", "wave", "idle"]

    /// Clips of 1 s every 0.5 s (stride half the clip), with the given scores.
    func clips(_ scores: [[Float]]) -> [ClipScores] {
        scores.enumerated().map { ClipScores(start: Double($0.offset) * 0.5, end: Double($0.offset) * 0.5 + 1,
                                             scores: $0.element) }
    }

    func smooth(_ scores: [[Float]], _ options: SmoothOptions, labels: [String]? = nil) throws -> [ActionSegment] {
        var smoother = ScoreSmoother(labels: labels ?? self.labels, options: options)
        var segments: [ActionSegment] = []
        for clip in clips(scores) { segments += try smoother.push(clip) }
        return segments + smoother.finish()
    }

    func options(window: Int = 1, enter: Double = 0.6, exit: Double = 0.4, minLength: Double = 0,
                 ignore: [String] = []) -> SmoothOptions {
        var o = SmoothOptions()
        o.window = window
        o.enter = enter
        o.exit = exit
        o.minLength = minLength
        o.ignore = ignore
        return o
    }

    func testSegmentOpensAtEnterAndClosesBelowExit() throws {
        let segments = try smooth([[0.2, 0, 0], [0.7, 0, 0], [0.5, 0, 0], [0.3, 0, 0]], options())
        XCTAssertEqual(segments.count, 1)
        let walk = segments[0]
        XCTAssertEqual(walk.label, "walk")
        XCTAssertEqual(walk.start, 0.5)  // start of the clip that reached `enter`
        XCTAssertEqual(walk.end, 2.0)  // end of the last clip still at or above `exit`
        XCTAssertEqual(walk.score, 0.6, accuracy: 1e-6)  // mean of 0.7 and 0.5
        XCTAssertNil(walk.track)
    }

    func testHysteresisBridgesAFlickerThatAThresholdWouldSplit() throws {
        let flicker: [[Float]] = [[0.7, 0, 0], [0.45, 0, 0], [0.55, 0, 0], [0.45, 0, 0], [0.1, 0, 0]]
        let withHysteresis = try smooth(flicker, options(enter: 0.6, exit: 0.4))
        XCTAssertEqual(withHysteresis.map(\.start), [0])
        XCTAssertEqual(withHysteresis.map(\.end), [2.5])
        let plainThreshold = try smooth(flicker, options(enter: 0.5, exit: 0.5))
        XCTAssertEqual(plainThreshold.map(\.start), [0, 1.0])
        XCTAssertEqual(plainThreshold.map(\.end), [1.0, 2.0])
    }

    func testMovingAverageSuppressesASingleClipSpike() throws {
        let spike: [[Float]] = [[0.1, 0, 0], [0.1, 0, 0], [0.9, 0, 0], [0.1, 0, 0], [0.1, 0, 0]]
        XCTAssertEqual(try smooth(spike, options(window: 1)).count, 1)
        XCTAssertEqual(try smooth(spike, options(window: 3)).count, 0)  // (0.1 + 0.1 + 0.9) / 3 = 0.37 < 0.6
    }

    func testMovingAverageUsesFewerClipsAtTheStart() throws {
        var smoother = ScoreSmoother(labels: labels, options: options(window: 3))
        _ = try smoother.push(ClipScores(start: 0, end: 1, scores: [0.9, 0.1, 0]))
        XCTAssertEqual(smoother.smoothed[0], 0.9, accuracy: 1e-6)
        _ = try smoother.push(ClipScores(start: 0.5, end: 1.5, scores: [0.3, 0.1, 0]))
        XCTAssertEqual(smoother.smoothed[0], 0.6, accuracy: 1e-6)
        _ = try smoother.push(ClipScores(start: 1, end: 2, scores: [0.3, 0.4, 0]))
        _ = try smoother.push(ClipScores(start: 1.5, end: 2.5, scores: [0.0, 0.4, 0]))
        XCTAssertEqual(smoother.smoothed[0], 0.2, accuracy: 1e-6)  // the 0.9 has left the window
        XCTAssertEqual(smoother.smoothed[1], 0.3, accuracy: 1e-6)
    }

    func testMinimumLengthDropsShortSegmentsAndKeepsOneOfExactlyThatLength() throws {
        let scores: [[Float]] = [[0.9, 0, 0], [0.1, 0, 0], [0.1, 0, 0], [0.9, 0, 0], [0.9, 0, 0], [0.1, 0, 0]]
        // First segment: one clip, 1.0 s; second: two clips, 1.5 s.
        XCTAssertEqual(try smooth(scores, options(minLength: 0)).map(\.length), [1.0, 1.5])
        XCTAssertEqual(try smooth(scores, options(minLength: 1.5)).map(\.length), [1.5])
        XCTAssertEqual(try smooth(scores, options(minLength: 1.51)).map(\.length), [])
    }

    func testFinishClosesOpenSegmentsInStartOrder() throws {
        let scores: [[Float]] = [[0, 0.8, 0], [0.7, 0.8, 0], [0.7, 0.8, 0]]
        let segments = try smooth(scores, options(enter: 0.6, exit: 0.4))
        XCTAssertEqual(segments.map(\.label), ["wave", "walk"])
        XCTAssertEqual(segments.map(\.start), [0, 0.5])
        XCTAssertEqual(segments.map(\.end), [2.0, 2.0])
    }

    func testIgnoredLabelsAreNeverReported() throws {
        let scores: [[Float]] = [[0, 0, 0.9], [0, 0, 0.9], [0.8, 0, 0.1]]
        XCTAssertEqual(try smooth(scores, options(ignore: ["idle"])).map(\.label), ["walk"])
        XCTAssertEqual(try smooth(scores, options()).map(\.label), ["idle", "walk"])
    }

    func testScoreCountMustMatchLabels() {
        var smoother = ScoreSmoother(labels: labels, options: options())
        XCTAssertThrowsError(try smoother.push(ClipScores(start: 0, end: 1, scores: [0.5, 0.5]))) { error in
            XCTAssertEqual("\(error)", "a clip has 2 scores, but the classifier has 3 labels")
        }
    }

    func testSmoothStageKeepsTracksApart() async throws {
        var stage = SmoothStage(labels: labels, options: options())
        var out: [ActionSegment] = []
        let packets: [(Int, Double, [Float])] = [
            (1, 0, [0.9, 0, 0]), (2, 0, [0, 0.9, 0]), (1, 0.5, [0.9, 0, 0]), (2, 0.5, [0, 0.1, 0]), (1, 1, [0.2, 0, 0]),
        ]
        for (track, start, scores) in packets {
            let clip = ClipScores(start: start, end: start + 1, scores: scores, track: track)
            try await stage.process(Timestamped(clip, at: start)) { out.append($0.value) }
        }
        try await stage.finish { out.append($0.value) }
        XCTAssertEqual(out, [
            ActionSegment(label: "wave", score: 0.9, start: 0, end: 1, track: 2),
            ActionSegment(label: "walk", score: 0.9, start: 0, end: 1.5, track: 1),
        ].map { segment in
            var s = segment
            s.score = Double(Float(0.9))
            return s
        })
    }

    func testTracksThatStopSendingClipsAreClosedAndReleased() async throws {
        var stage = SmoothStage(labels: labels, options: options(), trackTimeout: 2)
        var out: [ActionSegment] = []
        func send(_ track: Int, _ start: Double, _ scores: [Float]) async throws {
            let clip = ClipScores(start: start, end: start + 1, scores: scores, track: track)
            try await stage.process(Timestamped(clip, at: start)) { out.append($0.value) }
        }
        try await send(1, 0, [0.9, 0, 0])  // track 1: one clip, its segment stays open
        try await send(2, 0, [0, 0.9, 0])
        for step in 1...6 { try await send(2, Double(step) * 0.5, [0, 0.9, 0]) }
        XCTAssertEqual(out, [])  // a clip starting at 3.0 is exactly 2 s after track 1's last clip ended: kept
        XCTAssertEqual(stage.openTracks, [1, 2])
        try await send(2, 3.5, [0, 0.9, 0])  // more than 2 s: track 1 is closed and released
        XCTAssertEqual(out.map(\.label), ["walk"])
        XCTAssertEqual(out.first?.track, 1)
        XCTAssertEqual(out.first?.end, 1)
        XCTAssertEqual(stage.openTracks, [2])
        try await stage.finish { out.append($0.value) }
        XCTAssertEqual(out.map(\.track), [1, 2])
        XCTAssertEqual(out.last?.end, 4.5)
        XCTAssertEqual(stage.openTracks, [])
    }

    /// Offline reference: smooth the whole sequence first, then scan each label for runs.
    func reference(_ clips: [ClipScores], labels: [String], _ o: SmoothOptions) -> [ActionSegment] {
        var smoothed: [[Double]] = []
        for i in clips.indices {
            let window = clips[max(0, i - o.window + 1)...i]
            smoothed.append(labels.indices.map { l in
                window.map { Double($0.scores[l]) }.reduce(0, +) / Double(window.count)
            })
        }
        var segments: [(closedAt: Int, segment: ActionSegment)] = []
        for l in labels.indices where !o.ignore.contains(labels[l]) {
            var i = 0
            while i < clips.count {
                guard smoothed[i][l] >= o.enter else { i += 1; continue }
                var j = i
                while j + 1 < clips.count, smoothed[j + 1][l] >= o.exit { j += 1 }
                let scores = smoothed[i...j].map { $0[l] }
                let segment = ActionSegment(label: labels[l], score: scores.reduce(0, +) / Double(scores.count),
                                            start: clips[i].start, end: clips[j].end)
                if segment.length >= o.minLength - 1e-9 { segments.append((j + 1, segment)) }
                i = j + 1
            }
        }
        // Streaming order: by the clip that closes the segment (end of stream last), then start, then label.
        return segments.sorted {
            ($0.closedAt, $0.segment.start, labels.firstIndex(of: $0.segment.label)!)
                < ($1.closedAt, $1.segment.start, labels.firstIndex(of: $1.segment.label)!)
        }.map(\.segment)
    }

    func testStreamingMatchesTheOfflineReferenceOnRandomScores() throws {
        var generator = SplitMix64(seed: 7)
        for trial in 0..<300 {
            let count = Int.random(in: 0...40, using: &generator)
            let raw: [[Float]] = (0..<count).map { _ in
                let a = Float.random(in: 0...1, using: &generator), b = Float.random(in: 0...(1 - a), using: &generator)
                return [a, b, 1 - a - b]
            }
            let enter = Double.random(in: 0.3...0.9, using: &generator)
            let o = options(window: Int.random(in: 1...5, using: &generator), enter: enter,
                            exit: Double.random(in: 0.1...enter, using: &generator),
                            minLength: [0, 1, 1.5, 3].randomElement(using: &generator)!,
                            ignore: trial % 3 == 0 ? ["idle"] : [])
            let got = try smooth(raw, o)
            let expected = reference(clips(raw), labels: labels, o)
            XCTAssertEqual(got.count, expected.count, "trial \(trial)")
            for (g, e) in zip(got, expected) {
                XCTAssertEqual(g.label, e.label, "trial \(trial)")
                XCTAssertEqual(g.start, e.start, "trial \(trial)")
                XCTAssertEqual(g.end, e.end, "trial \(trial)")
                XCTAssertEqual(g.score, e.score, accuracy: 1e-9, "trial \(trial)")
            }
        }
    }
}

