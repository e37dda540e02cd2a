// Each classifier kind end to end on the tiny random-weight models in Fixtures/models (tools/stages/
// make_test_models.py) and a clip made here: tensor shapes, fusion against a hand computation, the encoder cache
// against the one-graph model, dataset tensors against what classify feeds, segments from smoothing.
import Flow
import Foundation
import Media
import ONNX
import Pipeline
import Stages
import Tensor
import XCTest

enum StagesFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func cardPath(_ name: String) -> String { root.appendingPathComponent("models/\(name).yaml").path }
    static func card(_ name: String) throws -> ModelCard { try ModelCardLoader.load(path: cardPath(name)) }
    static func pipeline(_ name: String) throws -> PipelineConfig {
        try ConfigLoader.load(path: root.appendingPathComponent("pipelines/\(name).yaml").path)
    }

    static let frameCount = 30
    static let decode: DecodeOptions = {
        var options = DecodeOptions()
        options.fps = 15
        options.size = PixelSize(width: 160, height: 120)
        return options
    }()

    /// A 2 s, 15 fps, 160×120 clip: a textured background and a checkered square moving right 3 px a frame.
    static let video: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stages-tests-\(getpid()).mp4").path
        try? FileManager.default.removeItem(atPath: path)
        let encoder = try! VideoEncoder(path: path, settings: EncoderSettings(width: 160, height: 120,
                                                                               frameRate: FrameRate(15)))
        for i in 0..<frameCount {
            var pixels = [UInt8](repeating: 0, count: 160 * 120 * 3)
            for y in 0..<120 {
                for x in 0..<160 {
                    let o = (y * 160 + x) * 3
                    let inSquare = x >= 20 + 3 * i && x < 60 + 3 * i && y >= 40 && y < 80
                    let checker: UInt8 = ((x - 20 - 3 * i) / 20 + (y - 40) / 20) % 2 == 0 ? 250 : 110
                    pixels[o] = inSquare ? checker : UInt8((x * 3 + y * 5) % 200)
                    pixels[o + 1] = inSquare ? 40 : UInt8((x * 7 + y * 2) % 180)
                    pixels[o + 2] = inSquare ? 40 : UInt8((x + y * 9) % 160)
                }
            }
            try! encoder.append(Image(width: 160, height: 120, format: .rgb24, pixels: pixels),
                                time: Double(i) / 15)
        }
        try! encoder.finish()
        return path
    }()

    static func records(flow: Bool) throws -> [Timestamped<FrameRecord>] {
        var records = try DecodeSource(path: video, options: decode).frames()
        if flow {
            var computer = FlowComputer(options: FlowOptions())
            for i in records.indices { records[i].value.flow = try computer.next(records[i].value.image) }
        }
        return records
    }

    static func clips(_ records: [Timestamped<FrameRecord>], card: ModelCard, clip: Int, stride: Int,
                      partial: PartialClipRule = .pad) -> [Clip<FrameRecord>] {
        var options = ClassifyOptions(model: "actions")
        options.clip = clip
        options.stride = stride
        options.partial = partial
        var windower = ClipWindower<FrameRecord>(ClassifyStage.windowing(card: card, options: options))
        var result = records.compactMap { windower.push($0) }
        if let last = windower.finish() { result.append(last) }
        return result
    }
}

final class ClassifierTests: XCTestCase {
    func testDecodeGivesTimestampedFramesAtTheConfiguredRateAndSize() throws {
        let records = try StagesFixtures.records(flow: true)
        XCTAssertEqual(records.count, StagesFixtures.frameCount)
        for (i, record) in records.enumerated() {
            XCTAssertEqual(record.time, Double(i) / 15, accuracy: 1e-6)
            XCTAssertEqual(record.value.image.width, 160)
            XCTAssertEqual(record.value.image.height, 120)
            XCTAssertEqual(record.value.flow?.width, 160)
        }
        // The square moves right 3 px per frame: inside it (4 px in from its edges) the flow points right, the
        // background stays still. (DIS `fast` recovers about half of the motion inside the flat 20 px blocks;
        // `medium` more — a property of the preset, see the preset test below.)
        let flow = records[10].value.flow!
        var square = SIMD2<Float>.zero, background = SIMD2<Float>.zero
        for y in 44..<76 { for x in (24 + 30)..<(56 + 30) { square += flow[x, y] } }
        for y in 90..<110 { for x in 10..<150 { background += flow[x, y] } }
        XCTAssertGreaterThan(square.x / 1024, 1)
        XCTAssertEqual(square.y / 1024, 0, accuracy: 0.5)
        XCTAssertEqual(background.x / 2800, 0, accuracy: 0.2)
        // The field is the Flow module's DIS from the previous frame's gray image, initialised with its field.
        let expected = try OpticalFlow(method: .dis, preset: .fast).flow(
            from: GrayConversion.gray(records[9].value.image), to: GrayConversion.gray(records[10].value.image),
            initial: records[9].value.flow)
        XCTAssertEqual(flow, expected)
        XCTAssertTrue(records[0].value.flow!.values.allSatisfy { $0 == 0 }, "the first frame has no motion")
    }

    func testFlowStagePresetIsTheFlowModulesPresetAndTheDatasetFollowsTheCard() throws {
        var options = FlowOptions()
        options.preset = .medium
        var computer = FlowComputer(options: options)
        let records = try StagesFixtures.records(flow: false)
        var fields: [FlowField] = []
        for record in records.prefix(11) { fields.append(try computer.next(record.value.image)) }
        let expected = try OpticalFlow(method: .dis, preset: .medium).flow(
            from: GrayConversion.gray(records[9].value.image), to: GrayConversion.gray(records[10].value.image),
            initial: fields[9])
        XCTAssertEqual(fields[10], expected)
        // `medium` works down to half size and recovers more of the square's 3 px per frame than `fast`, which
        // works from a quarter (the flat 20 px checker blocks defeat both in places).
        func meanInSquare(_ field: FlowField) -> Float {
            var square = SIMD2<Float>.zero
            for y in 44..<76 { for x in (24 + 30)..<(56 + 30) { square += field[x, y] } }
            return square.x / 1024
        }
        let fast = try StagesFixtures.records(flow: true)[10].value.flow!
        XCTAssertGreaterThan(meanInSquare(fields[10]), 2)
        XCTAssertGreaterThan(meanInSquare(fields[10]), meanInSquare(fast) + 0.5,
                             "medium \(meanInSquare(fields[10])) px, fast \(meanInSquare(fast)) px")
        // A dataset for a card that names its training preset computes that flow; without one, `fast`.
        var card = try StagesFixtures.card("ts")
        XCTAssertEqual(DatasetServing(card: card).flow.preset, .fast)
        card.flow?.preset = .medium
        XCTAssertEqual(DatasetServing(card: card).flow.preset, .medium)
    }

    func testThreeDFeedsTheClipInTheCardsLayoutAndScoresIt() throws {
        let card = try StagesFixtures.card("r3d")
        let classifier = try ClipClassifier(card: card)
        let clips = StagesFixtures.clips(try StagesFixtures.records(flow: false), card: card, clip: 8, stride: 4)
        // 30 frames, 8 per clip every 4: starts 0…20, then a padded clip at 24 (6 real frames).
        XCTAssertEqual(clips.map(\.items.first!.time).map { Int(($0 * 15).rounded()) }, [0, 4, 8, 12, 16, 20, 24])
        XCTAssertEqual(clips.last?.padding, 2)
        let scores = try classifier.scores(clips[1].items)
        XCTAssertEqual(classifier.lastFeeds.count, 1)
        let fed = classifier.lastFeeds[0].tensor
        XCTAssertEqual(fed.shape, [3, 8, 32, 32])
        // NCTHW: element (c, t, y, x) is frame t's preprocessed plane c.
        let values = fed.floats
        for (c, t, y, x) in [(0, 0, 0, 0), (1, 3, 5, 7), (2, 7, 31, 31), (0, 5, 16, 9)] {
            let frame = Preprocess.frame(clips[1].items[t].value.image, card: card).values
            XCTAssertEqual(values[((c * 8 + t) * 32 + y) * 32 + x], frame[(c * 32 + y) * 32 + x])
        }
        XCTAssertEqual(scores.count, 4)
        XCTAssertEqual(scores.reduce(0, +), 1, accuracy: 1e-5)
        // The graph's logits through softmax, computed apart.
        let runner = try CompiledGraph(path: card.onnx!, inputName: "clip", outputName: "logits", shape: fed.shape)
            .makeRunner()
        let logits = try runner.run(fed).floats
        let top = logits.max()!
        let sum = logits.map { exp(Double($0 - top)) }.reduce(0, +)
        for i in 0..<4 { XCTAssertEqual(Double(scores[i]), exp(Double(logits[i] - top)) / sum, accuracy: 1e-6) }
    }

    func testTwoStreamFusesSoftmaxesWithTheCardsWeightAndAveragesSegments() throws {
        let card = try StagesFixtures.card("ts")
        XCTAssertEqual(card.flow?.weight, 0.4)
        let rgbNet = try CompiledGraph(path: card.onnx!, inputName: "rgb", outputName: "logits", shape: [3, 32, 32])
            .makeRunner()
        let flowNet = try CompiledGraph(path: card.flow!.onnx, inputName: "flow", outputName: "logits",
                                        shape: [6, 32, 32]).makeRunner()
        let clip = StagesFixtures.clips(try StagesFixtures.records(flow: true), card: card, clip: 16, stride: 8)[0]
        for segments in [1, 2] {
            let classifier = try ClipClassifier(card: card, segments: segments)
            let scores = try classifier.scores(clip.items)
            XCTAssertEqual(classifier.lastFeeds.map(\.role), Array(repeating: [GraphRole.main, .flow], count: segments)
                .flatMap { $0 })
            var expected = [Double](repeating: 0, count: 4)
            for s in 0..<segments {
                let rgb = classifier.lastFeeds[2 * s].tensor, flow = classifier.lastFeeds[2 * s + 1].tensor
                XCTAssertEqual(rgb.shape, [3, 32, 32])
                XCTAssertEqual(flow.shape, [6, 32, 32])
                let pr = Preprocess.softmax(try rgbNet.run(rgb).floats)
                let pf = Preprocess.softmax(try flowNet.run(flow).floats)
                for i in 0..<4 { expected[i] += (0.6 * Double(pr[i]) + 0.4 * Double(pf[i])) / Double(segments) }
            }
            for i in 0..<4 { XCTAssertEqual(Double(scores[i]), expected[i], accuracy: 1e-6) }
        }
        // One segment: the RGB net sees the centre frame (item 7 of 16), the flow net fields 7, 8, 9.
        let classifier = try ClipClassifier(card: card)
        _ = try classifier.scores(clip.items)
        XCTAssertEqual(classifier.lastFeeds[0].tensor.floats,
                       Preprocess.frame(clip.items[7].value.image, card: card).values)
        let stacked = classifier.lastFeeds[1].tensor.floats
        for (k, item) in [7, 8, 9].enumerated() {
            let encoded = ClipInputs.encodedFlow(clip.items[item].value.flow!, card: card)
            XCTAssertEqual(Array(stacked[(2 * k * 1024)..<((2 * k + 2) * 1024)]), encoded)
        }
        XCTAssertTrue(stacked.allSatisfy { $0 >= -1 && $0 <= 1 })
    }

    func testTwoDAveragesEveryFramesProbabilitiesRunningEachFrameOnce() throws {
        let card = try StagesFixtures.card("rgb2d")
        let classifier = try ClipClassifier(card: card)
        let runner = try CompiledGraph(path: card.onnx!, inputName: "rgb", outputName: "logits", shape: [3, 32, 32])
            .makeRunner()
        let clips = StagesFixtures.clips(try StagesFixtures.records(flow: false), card: card, clip: 8, stride: 4)
        for (n, clip) in clips.prefix(2).enumerated() {
            let scores = try classifier.scores(clip.items)
            // The first clip runs all 8 frames; the second only its 4 new ones (frames 4-7 are cached).
            XCTAssertEqual(classifier.lastFeeds.count, n == 0 ? 8 : 4)
            var expected = [Double](repeating: 0, count: 4)
            for item in clip.items {
                let frame = Preprocess.clipTensor([Preprocess.frame(item.value.image, card: card)], layout: .nchw)
                let p = Preprocess.softmax(try runner.run(frame).floats)
                for i in 0..<4 { expected[i] += Double(p[i]) / 8 }
            }
            for i in 0..<4 { XCTAssertEqual(Double(scores[i]), expected[i], accuracy: 1e-6) }
        }
    }

    func testCNNRNNEncoderCacheScoresLikeTheOneGraphModel() throws {
        let whole = try ClipClassifier(card: StagesFixtures.card("crnn"))
        let split = try ClipClassifier(card: StagesFixtures.card("crnn-split"))
        let records = try StagesFixtures.records(flow: false)
        let clips = StagesFixtures.clips(records, card: whole.card, clip: 6, stride: 3)
        XCTAssertEqual(clips.count, 9)
        for clip in clips {
            let a = try whole.scores(clip.items), b = try split.scores(clip.items)
            XCTAssertEqual(whole.lastFeeds[0].tensor.shape, [6, 3, 32, 32])
            XCTAssertEqual(split.lastFeeds.last?.role, .head)
            XCTAssertEqual(split.lastFeeds.last?.tensor.shape, [6, 8])
            for i in 0..<4 { XCTAssertEqual(a[i], b[i], accuracy: 1e-5) }
        }
        // Overlapping clips share frames: each of the 30 frames was encoded once (54 without the cache).
        XCTAssertEqual(split.encoderRuns, 30)
    }

    func testSegmentsOutsideTwoStreamAreRejectedWithClearErrors() throws {
        var options = ClassifyOptions(model: "actions")
        options.clip = 8
        options.segments = 3
        XCTAssertThrowsError(try ClassifyStage(card: StagesFixtures.card("r3d"), options: options)) { error in
            XCTAssertTrue("\(error)".contains("two-stream classifiers only"), "\(error)")
        }
    }

    func testSignaturesComeFromTheGraphAndCardsAreCheckedAgainstThem() throws {
        let card = try StagesFixtures.card("r3d")
        let signature = try ONNXSignatureProvider().signature(ofGraphAt: card.onnx!)
        XCTAssertEqual(signature.inputs, [TensorSignature(name: "clip", elementType: "float32",
                                                          shape: [1, 3, 8, 32, 32].map(TensorDim.fixed))])
        XCTAssertEqual(signature.outputs.map(\.name), ["logits"])
        XCTAssertEqual(signature.outputs.first?.shape, [.fixed(1), .fixed(4)])
        for name in ["r3d", "ts", "crnn", "crnn-split"] {
            XCTAssertEqual(try StagesFixtures.card(name).check(with: ONNXSignatureProvider()), [], name)
        }
        // A card that says 16 frames for an 8-frame graph fails at its `frames` field.
        let lying = try temporaryCard("""
            kind: 3d
            onnx: \(card.onnx!)
            input: { layout: NCTHW, frames: 16, size: 32x32 }
            output: { kind: logits, labels: labels.txt }
            """, labels: ["idle", "walk", "wave", "jump"])
        let diagnostics = lying.check(with: ONNXSignatureProvider())
        XCTAssertEqual(diagnostics.count, 1)
        XCTAssertTrue(diagnostics.first?.message.contains("T (frames) is 8, but the card implies 16") ?? false,
                      "\(diagnostics)")
    }

    func testGraphRunGivesTheSmoothedSegmentsOfItsClipScores() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stages-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("p.yaml").path
        try """
            version: 1
            models: { actions: \(StagesFixtures.cardPath("ts")) }
            pipeline:
              - decode: { fps: 15, size: 160x120 }
              - flow
              - classify: { model: actions, clip: 8, stride: 2 }
              - smooth: { window: 2, enter: 0.27, exit: 0.26 }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(path: path)
        let tapped = Gathered<ClipScores>()
        let store = ModelStore()
        let compiled = try CompiledPipeline(config: config, store: store)
        let graph = try compiled.file(StagesFixtures.video, onClipScores: { tapped.append($0) })
        let out = Gathered<ActionSegment>()
        let report = try await graph.run { packet in out.append(packet.value as! ActionSegment) }
        XCTAssertEqual(report.stages.map(\.name), ["flow", "classify", "scores", "smooth"])
        // The frames fan out to flow and classify, which joins them with the flow of the same time.
        XCTAssertEqual(report.queues.map(\.name), ["decode → flow", "decode → classify (frames)",
                                                   "flow → classify (flow)", "classify → scores", "scores → smooth",
                                                   "smooth → sink"])
        XCTAssertEqual(report.stages.map(\.stats.unmatched), [0, 0, 0, 0])
        XCTAssertEqual(report.stages[1].stats.packetsIn, StagesFixtures.frameCount)
        // The two graphs of the two-stream card were compiled once, by the config load, not by the run.
        XCTAssertEqual(store.compilations.values.sorted(), [1, 1])
        // 30 frames, clips of 8 every 2: starts 0…22 (12 clips) and none padded.
        XCTAssertEqual(tapped.values.count, 12)
        // The running graph scored exactly what the offline path (the one `dataset` uses) scores.
        let offline = try ClipClassifier(card: StagesFixtures.card("ts"))
        let clips = StagesFixtures.clips(try StagesFixtures.records(flow: true), card: offline.card, clip: 8,
                                         stride: 2)
        XCTAssertEqual(try clips.map { try offline.scores($0.items) }, tapped.values.map(\.scores))
        XCTAssertEqual(clips.map(\.start), tapped.values.map(\.start))
        var smoother = ScoreSmoother(labels: compiled.labels, options: {
            var options = SmoothOptions()
            options.window = 2
            options.enter = 0.27
            options.exit = 0.26
            return options
        }())
        var expected: [ActionSegment] = []
        for clip in tapped.values { expected += try smoother.push(clip) }
        expected += smoother.finish()
        XCTAssertFalse(expected.isEmpty, "the test needs at least one segment to compare")
        XCTAssertEqual(out.values, expected)
        for segment in out.values {
            XCTAssertTrue(segment.start >= 0 && segment.end <= 2.0 + 1e-9 && segment.start < segment.end)
        }
    }
}

/// Values appended from the pipeline's tasks.
final class Gathered<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Value] = []
    func append(_ value: Value) { lock.withLock { items.append(value) } }
    var values: [Value] { lock.withLock { items } }
}
