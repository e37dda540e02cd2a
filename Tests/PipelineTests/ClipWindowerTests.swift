// Clip windowing on timestamped items: fixed cases with exact times, edge cases, and a sweep of lengths,
// samplings, strides and stream lengths against a plain offline reference.
import Foundation
@testable import Pipeline
import XCTest

final class ClipWindowerTests: XCTestCase {
    /// Items 0..<n at `fps`, value = index.
    func frames(_ n: Int, fps: Double = 10, duration: Bool = false) -> [Timestamped<Int>] {
        (0..<n).map { Timestamped($0, at: Double($0) / fps, duration: duration ? 1 / fps : nil) }
    }

    func cut(_ items: [Timestamped<Int>], _ windowing: ClipWindowing) -> [Clip<Int>] {
        var windower = ClipWindower<Int>(windowing)
        var clips = items.compactMap { windower.push($0) }
        if let last = windower.finish() { clips.append(last) }
        return clips
    }

    func testOverlappingClipsWithExactTimes() {
        let clips = cut(frames(10), ClipWindowing(length: 4, stride: 2, partial: .pad))
        XCTAssertEqual(clips.map { $0.items.map(\.value) }, [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7], [6, 7, 8, 9]])
        XCTAssertEqual(clips.map(\.index), [0, 1, 2, 3])
        XCTAssertEqual(clips.map(\.padding), [0, 0, 0, 0])  // the last clip ends on the last item: no partial clip
        XCTAssertEqual(clips[1].start, 0.2, accuracy: 1e-12)
        XCTAssertEqual(clips[1].end, 0.6, accuracy: 1e-12)  // last item at 0.5 plus the 0.1 s spacing
    }

    func testClipIsEmittedOnTheItemThatCompletesIt() {
        var windower = ClipWindower<Int>(ClipWindowing(length: 3, stride: 3, partial: .drop))
        let emittedAt = frames(9).map { windower.push($0)?.index }
        XCTAssertEqual(emittedAt, [nil, nil, 0, nil, nil, 1, nil, nil, 2])
    }

    func testLastPartialClipIsPaddedByRepeatingItsLastItem() {
        let clips = cut(frames(11, duration: true), ClipWindowing(length: 4, stride: 2, partial: .pad))
        XCTAssertEqual(clips.count, 5)
        let last = clips[4]
        XCTAssertEqual(last.items.map(\.value), [8, 9, 10, 10])
        XCTAssertEqual(last.items.map(\.time), [0.8, 0.9, 1.0, 1.0])
        XCTAssertEqual(last.padding, 1)
        XCTAssertEqual(last.start, 0.8, accuracy: 1e-12)
        XCTAssertEqual(last.end, 1.1, accuracy: 1e-12)  // the last real item's end, not the padding's
    }

    func testLastPartialClipIsDroppedByTheDropRule() {
        let clips = cut(frames(11), ClipWindowing(length: 4, stride: 2, partial: .drop))
        XCTAssertEqual(clips.map { $0.items.first!.value }, [0, 2, 4, 6])
    }

    func testSamplingStrideTakesEveryNthItem() {
        // T = 3 at sampling 2 spans 5 items; a clip every 4 items.
        let clips = cut(frames(12), ClipWindowing(length: 3, sampling: 2, stride: 4, partial: .pad))
        XCTAssertEqual(clips.map { $0.items.map(\.value) }, [[0, 2, 4], [4, 6, 8], [8, 10, 10]])
        XCTAssertEqual(clips.map(\.padding), [0, 0, 1])
        XCTAssertEqual(clips[1].end, 0.9, accuracy: 1e-12)
    }

    func testStrideLongerThanTheClipSkipsItems() {
        let clips = cut(frames(13), ClipWindowing(length: 2, stride: 5, partial: .pad))
        XCTAssertEqual(clips.map { $0.items.map(\.value) }, [[0, 1], [5, 6], [10, 11]])
    }

    func testShortAndEmptyStreams() {
        let padded = cut(frames(3), ClipWindowing(length: 8, stride: 4, partial: .pad))
        XCTAssertEqual(padded.map { $0.items.map(\.value) }, [[0, 1, 2, 2, 2, 2, 2, 2]])
        XCTAssertEqual(padded.first?.padding, 5)
        XCTAssertTrue(cut(frames(3), ClipWindowing(length: 8, stride: 4, partial: .drop)).isEmpty)
        XCTAssertTrue(cut([], ClipWindowing(length: 8, stride: 4, partial: .pad)).isEmpty)
        let single = cut(frames(1), ClipWindowing(length: 2, stride: 1, partial: .pad))
        XCTAssertEqual(single.first?.end, 0)  // one item, no duration, no spacing: the clip ends where it starts
    }

    func testUnevenTimestampsKeepTheirOwnTimes() {
        let times = [0.0, 0.04, 0.1, 0.3, 0.31, 0.5]
        let items = times.enumerated().map { Timestamped($0.offset, at: $0.element) }
        let clips = cut(items, ClipWindowing(length: 3, stride: 3, partial: .pad))
        XCTAssertEqual(clips.map(\.start), [0.0, 0.3])
        // A clip is cut when its last item arrives, before the next one: it ends one item spacing (the last
        // one seen, 0.04 → 0.1) after its last item.
        XCTAssertEqual(clips[0].end, 0.1 + 0.06, accuracy: 1e-12)
        XCTAssertEqual(clips[1].end, 0.5 + 0.19, accuracy: 1e-12)
    }

    /// Plain offline reference: with all n items known, clip k starts at k × stride; full clips are those whose
    /// span fits; a partial clip is the first one that does not fit, if it starts inside the stream and
    /// covers an item no full clip covered.
    func referenceClips(n: Int, _ w: ClipWindowing) -> [[Int]] {
        var clips: [[Int]] = []
        var start = 0
        var covered = -1
        while start + w.span - 1 <= n - 1 {
            clips.append((0..<w.length).map { start + $0 * w.sampling })
            covered = start + w.span - 1
            start += w.stride
        }
        if w.partial == .pad, start <= n - 1, covered < n - 1 {
            var clip = (0..<w.length).map { start + $0 * w.sampling }.filter { $0 < n }
            while clip.count < w.length { clip.append(clip.last!) }
            clips.append(clip)
        }
        return clips
    }

    func testStreamingMatchesTheOfflineReferenceOverASweep() {
        var cases = 0
        for length in 1...5 {
            for sampling in 1...3 {
                for stride in 1...7 {
                    for partial in PartialClipRule.allCases {
                        let windowing = ClipWindowing(length: length, sampling: sampling, stride: stride,
                                                      partial: partial)
                        for n in 0...24 {
                            let got = cut(frames(n), windowing)
                            XCTAssertEqual(got.map { $0.items.map(\.value) }, referenceClips(n: n, windowing),
                                           "T=\(length) sampling=\(sampling) stride=\(stride) \(partial) n=\(n)")
                            XCTAssertEqual(got.map(\.index), Array(0..<got.count))
                            for clip in got {
                                XCTAssertEqual(clip.items.count, length)
                                let real = Set(clip.items.dropLast(clip.padding).map(\.value))
                                XCTAssertEqual(real.count, length - clip.padding)
                            }
                            cases += 1
                        }
                    }
                }
            }
        }
        XCTAssertEqual(cases, 5 * 3 * 7 * 2 * 25)
    }

    func testWindowStageStampsClipsWithTheirStartAndLength() async throws {
        var stage = ClipWindowStage<Int>(ClipWindowing(length: 2, stride: 2, partial: .pad))
        var out: [Timestamped<Clip<Int>>] = []
        for item in frames(5) { try await stage.process(item) { out.append($0) } }
        try await stage.finish { out.append($0) }
        XCTAssertEqual(out.map(\.time), [0, 0.2, 0.4])
        XCTAssertEqual(out.map(\.value.padding), [0, 0, 1])
        XCTAssertEqual(try XCTUnwrap(out[0].duration), 0.2, accuracy: 1e-12)
    }
}

final class TrackClipWindowerTests: XCTestCase {
    func testEachTrackOwnsItsClipsAndALostTrackIsFlushedByTheRule() {
        var windower = TrackClipWindower<String>(ClipWindowing(length: 3, stride: 3, partial: .pad))
        var clips: [(Int, [String])] = []
        // Track 1 is seen in frames 0-5, track 2 in frames 2-6; track 2 is lost after frame 6.
        for frame in 0..<7 {
            let time = Double(frame) / 10
            for track in [1, 2] where (track == 1 && frame <= 5) || (track == 2 && frame >= 2) {
                if let clip = windower.push(Timestamped("t\(track)f\(frame)", at: time), track: track) {
                    clips.append((track, clip.items.map(\.value)))
                }
            }
        }
        XCTAssertEqual(clips.map(\.0), [1, 2, 1])
        XCTAssertEqual(clips.map(\.1), [
            ["t1f0", "t1f1", "t1f2"], ["t2f2", "t2f3", "t2f4"], ["t1f3", "t1f4", "t1f5"],
        ])
        XCTAssertEqual(windower.activeTracks, [1, 2])
        let lost = windower.lose(2)
        XCTAssertEqual(lost?.items.map(\.value), ["t2f5", "t2f6", "t2f6"])
        XCTAssertEqual(lost?.padding, 1)
        XCTAssertEqual(windower.activeTracks, [1])
        XCTAssertNil(windower.lose(2))  // already released
        XCTAssertTrue(windower.finish().isEmpty)  // track 1 ended exactly on a clip boundary
        XCTAssertEqual(windower.activeTracks, [])
    }

    func testDropRuleAndEndOfStreamOrder() {
        var dropping = TrackClipWindower<Int>(ClipWindowing(length: 4, stride: 2, partial: .drop))
        for i in 0..<3 { _ = dropping.push(Timestamped(i, at: Double(i)), track: 9) }
        XCTAssertNil(dropping.lose(9))

        var padding = TrackClipWindower<Int>(ClipWindowing(length: 4, stride: 2, partial: .pad))
        _ = padding.push(Timestamped(0, at: 1.0), track: 5)
        _ = padding.push(Timestamped(1, at: 0.5), track: 7)
        _ = padding.push(Timestamped(2, at: 1.0), track: 3)
        let flushed = padding.finish()
        XCTAssertEqual(flushed.map(\.track), [7, 3, 5])  // by start time, then track id
        XCTAssertEqual(flushed.map(\.clip.padding), [3, 3, 3])
    }
}
