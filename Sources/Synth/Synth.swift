// Rendering whole clips: a scene's frames through the H.264 encoder plus the ground-truth JSON beside them,
// one clip or a batch in parallel (clips are independent: clip i's seed is derived from the run seed and i).
import Dispatch
import Foundation
import Media

public struct SynthError: Error, CustomStringConvertible, Sendable {
    public var clip: Int
    public var path: String
    public var reason: String
    public var underlying: MediaError?

    public var description: String {
        "cannot render clip \(clip) to \(path): \(reason)" + (underlying.map { " (\($0.summary))" } ?? "")
    }
}

public enum Synth {
    /// File stem of clip `clip` of a run with `seed`, e.g. `s42-c00003`.
    public static func clipName(seed: UInt64, clip: Int) -> String {
        var number = String(clip)
        while number.count < 5 { number = "0" + number }
        return "s\(seed)-c\(number)"
    }

    /// Ground truth of a clip without drawing backgrounds or encoding video (same bytes as `renderClip`'s).
    public static func groundTruth(options: SynthOptions, seed: UInt64, clip: Int) -> GroundTruth {
        let scene = ClipScene(options: options, seed: seed, clip: clip)
        var collector = TruthCollector(scene: scene)
        var canvas = Canvas(width: options.width, height: options.height)
        for i in 0..<scene.frameCount {
            collector.add(scene.renderFrame(i, composite: false, reusing: &canvas).people)
        }
        return collector.truth(video: clipName(seed: seed, clip: clip) + ".mp4")
    }

    /// Renders clip `clip` into `directory` as `<name>.mp4` and `<name>.json`; returns its ground truth.
    @discardableResult
    public static func renderClip(options: SynthOptions, seed: UInt64, clip: Int, directory: String)
        throws(SynthError) -> GroundTruth
    {
        let name = clipName(seed: seed, clip: clip)
        let videoPath = (directory as NSString).appendingPathComponent(name + ".mp4")
        let jsonPath = (directory as NSString).appendingPathComponent(name + ".json")
        let scene = ClipScene(options: options, seed: seed, clip: clip)
        var collector = TruthCollector(scene: scene)
        do {
            let encoder = try VideoEncoder(
                path: videoPath,
                settings: EncoderSettings(width: options.width, height: options.height,
                                          frameRate: FrameRate(options.fps), codec: .h264, quality: scene.quality))
            var canvas = Canvas(width: options.width, height: options.height)
            for i in 0..<scene.frameCount {
                let frame = scene.renderFrame(i, reusing: &canvas)
                collector.add(frame.people)
                try encoder.append(Image(width: options.width, height: options.height, format: .rgb24,
                                         pixels: frame.pixels, time: Double(i) / Double(options.fps)))
            }
            try encoder.finish()
        } catch {
            throw SynthError(clip: clip, path: videoPath, reason: "encoding failed", underlying: error)
        }
        let truth = collector.truth(video: name + ".mp4")
        do {
            try Data(truth.json().utf8).write(to: URL(fileURLWithPath: jsonPath), options: .atomic)
        } catch {
            throw SynthError(clip: clip, path: jsonPath, reason: "cannot write the ground truth: \(error)")
        }
        return truth
    }

    /// Renders clips `clips` in parallel on `jobs` threads; `progress` is called (serialised) after each clip
    /// with the number done. Stops handing out clips after the first failure and throws it.
    public static func renderClips(options: SynthOptions, seed: UInt64, clips: Range<Int>, directory: String,
                                   jobs: Int = 2, progress: @Sendable (Int) -> Void = { _ in })
        throws(SynthError)
    {
        let state = BatchState(next: clips.lowerBound)
        let end = clips.upperBound
        DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, clips.count))) { _ in
            while let clip = state.take(below: end) {
                do throws(SynthError) {
                    try renderClip(options: options, seed: seed, clip: clip, directory: directory)
                    state.finished(report: progress)
                } catch {
                    state.fail(error)
                }
            }
        }
        if let error = state.error { throw error }
    }
}

/// Work queue shared by the batch workers: the next clip number, the count done and the first error.
private final class BatchState: @unchecked Sendable {
    // Every field is read and written only under `lock`.
    private let lock = NSLock()
    private var next: Int
    private var done = 0
    private(set) var error: SynthError?

    init(next: Int) { self.next = next }

    func take(below end: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard error == nil, next < end else { return nil }
        next += 1
        return next - 1
    }

    /// Counts a finished clip and reports the count, under the lock so reports never interleave.
    func finished(report: (Int) -> Void) {
        lock.lock(); defer { lock.unlock() }
        done += 1
        report(done)
    }

    func fail(_ e: SynthError) {
        lock.lock(); defer { lock.unlock() }
        if error == nil { error = e }
    }
}

/// Accumulates per-frame person truths into the clip's ground truth.
struct TruthCollector {
    let scene: ClipScene
    var frames: [Int: [PersonFrameTruth]] = [:]

    init(scene: ClipScene) { self.scene = scene }

    mutating func add(_ people: [Int: PersonFrameTruth]) {
        for (id, frame) in people { frames[id, default: []].append(frame) }
    }

    func truth(video: String) -> GroundTruth {
        let people = scene.performers.sorted { $0.id < $1.id }.map { performer in
            PersonTruth(id: performer.id, segments: scene.segments(of: performer),
                        frames: (frames[performer.id] ?? []).sorted { $0.index < $1.index })
        }
        let o = scene.options
        return GroundTruth(video: video, width: o.width, height: o.height, fps: o.fps, frames: scene.frameCount,
                           seconds: rounded(o.seconds, 4), seed: scene.seed, clip: scene.clip, people: people)
    }
}
