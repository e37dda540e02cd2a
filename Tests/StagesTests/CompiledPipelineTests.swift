// A config compiled once: the model store compiles each graph once and shares its weights between runners
// (checked by running two runners at once against one alone), and the classify stage keeps per-track clip state
// (driven here one packet at a time, as a tracker would feed it, against the offline classifier on the same crops).
import Foundation
import ONNX
import Pipeline
import Stages
import Tensor
import TestSupport
import XCTest

final class CompiledPipelineTests: XCTestCase {
    func testEachGraphIsCompiledOncePerStoreAndRecompiledWhenItsFileChanges() throws {
        let store = ModelStore()
        let config = try StagesFixtures.pipeline("ts")
        let first = try CompiledPipeline(config: config, store: store)
        let second = try CompiledPipeline(config: config, store: store)
        XCTAssertEqual(store.compilations.count, 2)  // the RGB and the flow graph
        XCTAssertEqual(Set(store.compilations.values), [1])
        XCTAssertEqual(Set(first.graphs.map(ObjectIdentifier.init)), Set(second.graphs.map(ObjectIdentifier.init)))
        // A model file replaced on disk is a new graph: compiled again at the next load.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("r3d.onnx").path
        try FileManager.default.copyItem(atPath: StagesFixtures.root.appendingPathComponent("models/r3d.onnx").path,
                                         toPath: copy)
        let a = try store.graph(model: "m", path: copy, input: nil, output: nil, shape: [3, 8, 32, 32])
        let b = try store.graph(model: "m", path: copy, input: nil, output: nil, shape: [3, 8, 32, 32])
        XCTAssertTrue(a === b)
        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, copy, &times, 0), 0)
        let c = try store.graph(model: "m", path: copy, input: nil, output: nil, shape: [3, 8, 32, 32])
        XCTAssertFalse(a === c)
        XCTAssertEqual(store.compilations["m\t\(copy)"], 2)
        // What a reload no longer uses is forgotten.
        store.retain(only: first.graphs)
        XCTAssertEqual(store.count, 2)
    }

    func testRunnersOverOneCompiledGraphRunAtTheSameTimeWithTheirOwnBuffers() async throws {
        let graph = try CompiledGraph(path: StagesFixtures.root.appendingPathComponent("models/r3d.onnx").path,
                                      inputName: nil, outputName: nil, shape: [3, 8, 32, 32])
        var generator = SystemRandomNumberGenerator()
        let inputs = (0..<12).map { _ in
            Tensor(shape: [3, 8, 32, 32], floats: (0..<(3 * 8 * 32 * 32)).map { _ in Float.random(in: -1...1, using: &generator) })
        }
        // One runner alone gives the reference outputs.
        let alone = graph.makeRunner()
        let expected = try inputs.map { try alone.run($0).floats }
        // Two runners, each on its own thread at the same time, over the same weights.
        let runners = [graph.makeRunner(), graph.makeRunner()]
        XCTAssertEqual(runners[0].session.constantBytes, graph.constantBytes)
        let results = try await withThrowingTaskGroup(of: (Int, [[Float]]).self) { group in
            for (index, runner) in runners.enumerated() {
                group.addTask {
                    var outputs: [[Float]] = []
                    for _ in 0..<5 {
                        for input in inputs { outputs.append(try runner.run(input).floats) }
                    }
                    return (index, outputs)
                }
            }
            var all: [Int: [[Float]]] = [:]
            for try await (index, outputs) in group { all[index] = outputs }
            return all
        }
        for index in 0..<2 {
            XCTAssertEqual(results[index], Array(repeating: expected, count: 5).flatMap { $0 }, "runner \(index)")
        }
    }

    func testPerTrackClipsFollowEachTracksSquareAndATracksEndFlushesItsClip() async throws {
        let card = try StagesFixtures.card("r3d")
        var options = ClassifyOptions(model: "actions")
        options.per = .track
        options.clip = 8
        options.stride = 8
        options.partial = .pad
        var harness = OneStageHarness(try ClassifyStage(card: card, options: options))
        XCTAssertEqual(harness.stage.inputs.map(\.name), ["frames", "tracks"])
        let records = try StagesFixtures.records(flow: false)
        // Track 1 follows the moving square over all 30 frames; track 2 stands still for frames 0–11 and is
        // removed at frame 12; track 3 is tentative throughout (never classified).
        func box1(_ i: Int) -> PixelRect { PixelRect(x: Double(20 + 3 * i), y: 40, width: 40, height: 40) }
        let box2 = PixelRect(x: 100, y: 10, width: 30, height: 50)
        var out: [(frame: Int, scores: ClipScores)] = []
        for (i, record) in records.enumerated() {
            var tracks = [TrackBox(id: 1, box: box1(i)), TrackBox(id: 3, box: box2, state: .tentative)]
            if i < 12 { tracks.append(TrackBox(id: 2, box: box2)) }
            if i == 12 { tracks.append(TrackBox(id: 2, box: box2, state: .removed)) }
            for emitted in try await harness.feed(time: record.time, duration: record.duration,
                                                  [record.value.image, tracks]) {
                XCTAssertEqual(emitted.port, "clipScores")
                out.append((i, emitted.packet.value as! ClipScores))
            }
        }
        for emitted in try await harness.finish() { out.append((records.count, emitted.packet.value as! ClipScores)) }

        // When each clip came out: track 1 every 8 frames and its padded rest at the end; track 2's first clip at
        // frame 7 and its 4-frame rest when it was removed (frame 12), padded by the `partial` rule.
        XCTAssertEqual(out.map(\.frame), [7, 7, 12, 15, 23, 30])
        XCTAssertEqual(out.map(\.scores.track), [1, 2, 2, 1, 1, 1])
        XCTAssertEqual(out.map(\.scores.start), [0, 0, 8, 8, 16, 24].map { records[$0].time })

        // Each clip scored exactly what the offline classifier gives for the same frames cut from the track's
        // person square (the crop `dataset --crop person` cuts).
        let offline = try ClipClassifier(card: card)
        for track in [1, 2] {
            let tube = records.enumerated().compactMap { i, record -> Timestamped<FrameRecord>? in
                guard track == 1 || i < 12 else { return nil }
                var item = record
                item.value.box = track == 1 ? box1(i) : box2
                return item
            }
            let clips = StagesFixtures.clips(tube, card: card, clip: 8, stride: 8)
            let got = out.filter { $0.scores.track == track }.map(\.scores)
            XCTAssertEqual(clips.count, got.count, "track \(track)")
            for (clip, scores) in zip(clips, got) {
                let boxes = clip.items.compactMap(\.value.box)
                let region = try XCTUnwrap(PixelRect.personSquare(around: boxes, width: 160, height: 120))
                XCTAssertEqual(try offline.scores(clip.items, track: track, region: region), scores.scores)
                // The mean box over the clip, in source pixels (the decode size is the source size here).
                let mean = try XCTUnwrap(scores.box)
                XCTAssertEqual(mean.x, boxes.map(\.x).reduce(0, +) / Double(boxes.count), accuracy: 1e-9)
                XCTAssertEqual(mean.width, 40 + (track == 1 ? 0 : -10), accuracy: 1e-9)
            }
        }
        // The crop matters: track 1's first clip is not what the whole frame gives.
        let whole = try offline.scores(StagesFixtures.clips(records, card: card, clip: 8, stride: 8)[0].items)
        XCTAssertNotEqual(whole, out[0].scores.scores)
    }

    func testStagesThisBuildCannotRunAreRefusedAtTheirLines() throws {
        // The schema example (decode → detect → track → pose → flow → classify per track → smooth).
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("PipelineTests/Fixtures/example/pipeline.yaml").path
        let config = try ConfigLoader.load(path: example)
        let refused = CompiledPipeline.unsupportedStages(config)
        // detect and track run; a top-down pose model and per-track clips do not yet.
        XCTAssertEqual(refused.map(\.line), [33, 35])
        guard refused.count == 2 else { return }
        XCTAssertTrue(refused[0].message.hasPrefix("top-down pose models (card kind `pose`"), refused[0].message)
        XCTAssertTrue(refused[1].message.hasPrefix("`per: track` (classifying each tracked person) is not supported"),
                      refused[1].message)
        XCTAssertThrowsError(try CompiledPipeline(config: config, store: ModelStore())) { error in
            let lines = (error as? ConfigError)?.diagnostics.filter { $0.file == example }.map(\.line) ?? []
            XCTAssertEqual(Array(lines.prefix(2)), [33, 35], "\(error)")
        }
    }
}
