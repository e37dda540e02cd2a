// The committed example config read back in full: every value it sets, and the defaults it leaves.
import Foundation
@testable import Pipeline
import XCTest

final class ExampleConfigTests: XCTestCase {
    func testExampleConfigRoundTrip() throws {
        let path = ConfigSandbox.exampleDirectory.appendingPathComponent("pipeline.yaml").path
        let config = try ConfigLoader.load(path: path)
        let dir = ConfigSandbox.exampleDirectory.path
        XCTAssertEqual(config.version, 1)
        XCTAssertEqual(config.file, path)

        XCTAssertEqual(config.sources.map(\.id), ["inbox", "door-cam", "batch"])
        var watch = WatchOptions(directory: "/var/lib/actiond/inbox")
        watch.match = ["*.mp4", "*.mkv"]
        watch.recursive = true
        watch.settle = 5
        watch.done = .move(to: "/var/lib/actiond/done")
        watch.quarantine = "/var/lib/actiond/quarantine"
        XCTAssertEqual(config.sources[0].kind, .watch(watch))
        XCTAssertTrue(config.sources[0].lifecycle)
        XCTAssertEqual(config.sources[0].queue, SourceConfig.defaultQueue)
        XCTAssertFalse(config.sources[0].isLive)
        XCTAssertEqual(config.sources[0].location.line, 7)
        XCTAssertEqual(config.sources[1].kind, .url(StreamOptions(url: "rtsp://10.0.0.5/stream1", stall: 5,
                                                                  reconnectInitial: 0.5, reconnectMax: 30)))
        XCTAssertEqual(config.sources[1].queue, 8)
        XCTAssertFalse(config.sources[1].lifecycle)
        XCTAssertTrue(config.sources[1].isLive)
        XCTAssertEqual(config.sources[2].kind, .file(path: "/data/clip.mp4"))

        XCTAssertEqual(config.models.map(\.name), ["person", "tracker", "pose", "actions"])
        XCTAssertEqual(config.models.map(\.cardPath), ["person", "tracker", "pose", "actions-two-stream"].map {
            "\(dir)/models/\($0).yaml"
        })
        let tsn = try XCTUnwrap(config.model(named: "actions")?.card)
        XCTAssertEqual(tsn.name, "actions-tsn")
        XCTAssertEqual(tsn.kind, .twoStream)
        XCTAssertEqual(tsn.onnx, "\(dir)/models/actions-rgb.onnx")
        XCTAssertEqual(tsn.input.layout, .nchw)
        XCTAssertEqual(tsn.input.frames, 1)
        XCTAssertEqual(tsn.input.fps, 15)
        XCTAssertEqual(tsn.input.size, PixelSize(width: 224, height: 224))
        XCTAssertEqual(tsn.input.mean, [0.485, 0.456, 0.406])
        XCTAssertEqual(tsn.flow, ModelCard.FlowStream(onnx: "\(dir)/models/actions-flow.onnx", input: nil, bound: 20,
                                                      stack: 10, weight: 0.6))
        XCTAssertEqual(tsn.graphs.map(\.role), [.main, .flow])
        XCTAssertEqual(tsn.labels, ["walk", "run", "sit-down", "stand-up", "wave", "idle"])

        // The 3D-CNN card beside it (used by the validation tests) with every input field set.
        let actions = try ModelCardLoader.load(path: "\(dir)/models/actions.yaml")
        XCTAssertEqual(actions.name, "actions-r2plus1d")
        XCTAssertEqual(actions.kind, .threeD)
        XCTAssertEqual(actions.onnx, "\(dir)/models/actions.onnx")
        XCTAssertEqual(actions.input.layout, .ncthw)
        XCTAssertEqual(actions.input.frames, 16)
        XCTAssertEqual(actions.input.fps, 15)
        XCTAssertEqual(actions.input.size, PixelSize(width: 112, height: 112))
        XCTAssertEqual(actions.input.resize, .crop)
        XCTAssertEqual(actions.input.mean, [0.43216, 0.394666, 0.37645])
        XCTAssertEqual(actions.input.std, [0.22803, 0.22145, 0.216989])
        XCTAssertEqual(actions.input.colour, .rgb)
        XCTAssertEqual(actions.input.pixels, .unit)
        XCTAssertEqual(actions.output.kind, .logits)
        XCTAssertEqual(actions.labels, ["walk", "run", "sit-down", "stand-up", "wave", "idle"])
        let pose = try XCTUnwrap(config.model(named: "pose")?.card)
        XCTAssertEqual(pose.name, "pose")  // default: file name
        XCTAssertEqual(pose.input.colour, .bgr)
        XCTAssertEqual(pose.input.pixels, .byte)
        XCTAssertEqual(pose.input.frames, 1)
        XCTAssertEqual(pose.input.size, PixelSize(width: 192, height: 256))
        XCTAssertEqual(config.model(named: "person")?.card.input.resize, .letterbox)
        XCTAssertEqual(config.model(named: "tracker")?.card.input.mean, [0, 0, 0])
        XCTAssertEqual(config.model(named: "tracker")?.card.input.std, [1, 1, 1])

        XCTAssertEqual(config.stages.map(\.kind), [.decode, .detect, .track, .pose, .flow, .classify, .smooth])
        XCTAssertEqual(config.stages.map(\.location.line), [30, 31, 32, 33, 34, 35, 36])
        var decode = DecodeOptions()
        decode.resize = .stretch
        XCTAssertEqual(config.stages[0].options, .decode(decode))
        var detect = DetectOptions(model: "person")
        detect.threshold = 0.4
        detect.iou = 0.5
        detect.maxDetections = 20
        XCTAssertEqual(config.stages[1].options, .detect(detect))
        var track = TrackOptions()
        track.model = "tracker"
        track.maxLost = 30
        track.confirm = 2
        track.iou = 0.25
        track.low = 0.4
        XCTAssertEqual(config.stages[2].options, .track(track))
        var poseOptions = PoseOptions(model: "pose")
        poseOptions.threshold = 0.2
        XCTAssertEqual(config.stages[3].options, .pose(poseOptions))
        var flow = FlowOptions()
        flow.method = .farneback
        flow.size = PixelSize(width: 160, height: 120)
        flow.bound = 20
        XCTAssertEqual(config.stages[4].options, .flow(flow))
        var classify = ClassifyOptions(model: "actions")
        classify.kind = .twoStream
        classify.per = .track
        classify.clip = 16
        classify.stride = 4
        classify.partial = .drop
        XCTAssertEqual(config.stages[5].options, .classify(classify))
        XCTAssertEqual(config.stages[5].ports, StagePorts(takes: [.frames, .flow, .tracks], gives: [.clipScores]))
        var smooth = SmoothOptions()
        smooth.window = 5
        smooth.enter = 0.7
        smooth.exit = 0.3
        smooth.minLength = 1.5
        smooth.ignore = ["idle"]
        XCTAssertEqual(config.stages[6].options, .smooth(smooth))

        XCTAssertEqual(config.sinks, [
            .jsonl(JSONLSinkOptions(path: "/var/log/actiond/actions.jsonl",
                                    rotation: .init(size: 64 << 20, keep: 10), flush: .interval(seconds: 2))),
            .stdout(StdoutSinkOptions(format: .text)),
        ])
        XCTAssertEqual(config.warnings, [])
    }

    /// Loading from text and from the file give the same config, and loading twice gives equal configs.
    func testLoadingIsDeterministic() throws {
        let url = ConfigSandbox.exampleDirectory.appendingPathComponent("pipeline.yaml")
        let fromFile = try ConfigLoader.load(path: url.path)
        let fromText = try ConfigLoader.load(text: String(contentsOf: url, encoding: .utf8), path: url.path)
        XCTAssertEqual(fromFile, fromText)
    }
}
