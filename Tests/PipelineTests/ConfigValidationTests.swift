// Every config validation error path: exact message and position. Model-card errors are in ModelCardTests.
import Foundation
@testable import Pipeline
import XCTest

final class ConfigValidationTests: XCTestCase {
    var sandbox: ConfigSandbox!

    override func setUpWithError() throws { sandbox = try ConfigSandbox(name.filter(\.isLetter)) }
    override func tearDown() { sandbox = nil }

    func stages(_ lines: String, extra: String = "") throws -> [String] {
        try sandbox.errors(ConfigSandbox.config(stages: lines, extra: extra))
    }

    // MARK: top level

    func testVersionMissingWrongAndMistyped() throws {
        XCTAssertEqual(try sandbox.errors("pipeline:\n  - decode\n"), [
            "1:1: the config needs `version`: the config schema version; write `version: 1` as the first line",
        ])
        XCTAssertEqual(try sandbox.errors("version: 2\npipeline:\n  - decode\n"), [
            "1:10: `version` must be 1 (the only config version this actiond reads), got 2",
        ])
        XCTAssertEqual(try sandbox.errors("version: \"1\"\npipeline:\n  - decode\n"), [
            "1:10: `version` must be a whole number, got a string (\"1\"); write it without quotes",
        ])
    }

    func testUnknownTopLevelKeySuggestsAndMissingPipeline() throws {
        XCTAssertEqual(try sandbox.errors("version: 1\npipline:\n  - decode\n"), [
            "1:1: the config needs `pipeline`: the ordered list of stages, starting with `- decode: { fps: 15 }`",
            "2:1: unknown key `pipline` in the config; did you mean `pipeline`? "
                + "(known keys: version, sources, models, pipeline, sinks, threads, journal, drain, metrics)",
        ])
    }

    /// `threads:` is the config's part of the one thread knob (after `--threads` and `ACTIOND_THREADS`).
    func testThreadsKey() throws {
        XCTAssertEqual(try sandbox.load("version: 1\nthreads: 2\npipeline:\n  - decode\n").threads, 2)
        XCTAssertNil(try sandbox.load("version: 1\npipeline:\n  - decode\n").threads)
        XCTAssertEqual(try sandbox.errors("version: 1\nthreads: 0\npipeline:\n  - decode\n"), [
            "2:10: `threads` must be between 1 and 256, got 0",
        ])
    }

    /// The service keys of `actiond run`: journal path (relative to the config), metrics on loopback only, drain.
    func testServiceKeys() throws {
        let config = try sandbox.load("""
            version: 1
            journal: state/journal.sqlite
            metrics: { listen: "localhost:9464" }
            drain: 3
            pipeline:
              - decode
            """)
        XCTAssertEqual(config.journal, sandbox.path("state/journal.sqlite"))
        XCTAssertEqual(config.metrics, MetricsListen(parsing: "127.0.0.1:9464"))
        XCTAssertEqual(config.drainSeconds, 3)
        let defaults = try sandbox.load("version: 1\njournal: /var/lib/x.sqlite\npipeline:\n  - decode\n")
        XCTAssertEqual(defaults.journal, "/var/lib/x.sqlite")
        XCTAssertNil(defaults.metrics)
        XCTAssertEqual(defaults.drainSeconds, PipelineConfig.defaultDrainSeconds)
        XCTAssertEqual(MetricsListen(parsing: "[::1]:80")?.description, "[::1]:80")
        XCTAssertEqual(try sandbox.errors("""
            version: 1
            metrics: { listen: "0.0.0.0:9464" }
            drain: -1
            pipeline:
              - decode
            """), [
            "2:20: `metrics.listen` must be HOST:PORT on the loopback interface (127.0.0.1:9464, [::1]:9464 or "
                + "localhost:9464; port 0…65535), got `0.0.0.0:9464`: metrics are never served to the network",
            "3:8: `drain` must be between 0 and 3600, got -1",
        ])
        XCTAssertEqual(try sandbox.errors("version: 1\nmetrics: { port: 9 }\npipeline:\n  - decode\n"), [
            "2:10: `metrics` needs `listen`: the loopback address to serve /metrics and /healthz on, e.g. "
                + "`listen: 127.0.0.1:9464`",
            "2:12: unknown key `port` in `metrics` (known keys: listen)",
        ])
    }

    func testNotAMappingEmptyAndSyntaxErrors() throws {
        XCTAssertEqual(try sandbox.errors("- decode\n- smooth\n"), [
            "1:1: the config must be a mapping of `key: value` lines, got a list",
        ])
        XCTAssertEqual(try sandbox.errors(""), ["1:1: the file is empty; expected a YAML mapping"])
        XCTAssertEqual(try sandbox.errors("version: 1\npipeline:\n  - decode: {fps: 15\n"), [
            "4:1: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping at line 3); "
                + "check indentation, quotes and `:` after keys",
        ])
        XCTAssertEqual(try sandbox.errors("version: 1\nversion: 1\npipeline:\n  - decode\n"), [
            "1:1: key `version` appears more than once in one mapping; keep one of each",
        ])
    }

    func testMissingConfigFile() throws {
        XCTAssertThrowsError(try ConfigLoader.load(path: sandbox.path("nope.yaml"))) { error in
            XCTAssertEqual((error as? ConfigError)?.description,
                           "\(sandbox.path("nope.yaml")):1:1: error: no such config file")
        }
        XCTAssertThrowsError(try ConfigLoader.load(path: sandbox.path("models"))) { error in
            XCTAssertEqual((error as? ConfigError)?.diagnostics.first?.message, "this is a folder, not a config file")
        }
    }

    func testPipelineShape() throws {
        XCTAssertEqual(try sandbox.errors("version: 1\npipeline: decode\n"), [
            "2:11: `pipeline` must be a list of stages (each line starts with `- `, e.g. `- decode: { fps: 15 }`), "
                + "got a string (\"decode\")",
        ])
        XCTAssertEqual(try sandbox.errors("version: 1\npipeline: []\n"), [
            "2:11: `pipeline` must list at least one stage, starting with `- decode`",
        ])
        XCTAssertEqual(try sandbox.errors("version: 1\npipeline:\n  - [decode]\n"), [
            "3:5: each stage is one `- kind: { options }` entry with kind `decode`, `detect`, `track`, `pose`, "
                + "`flow`, `classify` or `smooth`, got a list",
        ])
    }

    // MARK: models

    func testMissingCardFileAndNonCardPath() throws {
        let errors = try sandbox.errors("""
            version: 1
            models:
              actions: models/missing.yaml
              raw: models/actions.onnx
              number: 7
            pipeline:
              - decode
            """)
        XCTAssertEqual(errors, [
            "3:12: model card `models/missing.yaml` for model `actions` not found (looked for models/missing.yaml); "
                + "paths under `models:` are relative to this config file's folder (\(sandbox.root.path))",
            "4:8: model `raw` must name the model card (the .yaml beside the .onnx), not `models/actions.onnx`",
            "5:11: model card `7` for model `number` not found (looked for 7); paths under `models:` are relative "
                + "to this config file's folder (\(sandbox.root.path))",
        ])
    }

    func testUndeclaredModelWithSuggestionAndWithoutModelsSection() throws {
        XCTAssertEqual(try stages("  - decode\n  - classify: { model: actons }"), [
            "11:24: model `actons` is not declared under `models:`; did you mean `actions`? "
                + "(declared: person, tracker, pose, actions, twostream, cnnrnn)",
        ])
        XCTAssertEqual(try sandbox.errors("version: 1\npipeline:\n  - decode\n  - detect: { model: person }\n"), [
            "4:22: model `person` is not declared under `models:`; add it, e.g. "
                + "`models: { person: models/person.yaml }`",
        ])
    }

    func testCardOfWrongKindForStage() throws {
        let errors = try stages("""
              - decode
              - detect: { model: actions }
              - track: { model: person }
              - pose: { model: tracker }
              - classify: { model: pose }
            """)
        XCTAssertEqual(errors, [
            "11:22: model `actions` (models/actions.yaml) has kind `3d`, but `detect` needs a model with card kind "
                + "`detector`",
            "12:21: model `person` (models/person.yaml) has kind `detector`, but `track` needs a model with card "
                + "kind `tracker`",
            "13:20: model `tracker` (models/tracker.yaml) has kind `tracker`, but `pose` needs a pose model: a "
                + "detector card with `format: ultralytics-pose` or a card of kind `pose`",
            "14:24: model `pose` (models/pose.yaml) has kind `pose`, but `classify` needs a classifier (card kind "
                + "`3d`, `two-stream`, `cnn-rnn` or `2d`)",
        ])
    }

    /// A detector must know the classes the stage keeps, and `pose` needs keypoints from its model.
    func testDetectClassesAndPoseNeedKeypoints() throws {
        let errors = try stages("""
              - decode
              - detect: { model: person, classes: [person, dog] }
              - pose: { model: person }
            """)
        XCTAssertEqual(errors, [
            "11:39: model `person` has no class `dog` (its labels, from models/person-labels.txt: "
                + "person); set `classes` to the detector's name for people",
            "12:20: model `person` (models/person.yaml) gives boxes without keypoints (`format: ultralytics-detect`); "
                + "`pose` needs `format: ultralytics-pose` or a card of kind `pose`",
        ])
    }

    // MARK: stage entries and options

    func testUnknownStageKindSuggests() throws {
        XCTAssertEqual(try stages("  - decode\n  - clasify: { model: actions }\n  - smooth"), [
            "11:5: unknown stage `clasify`; did you mean `classify`? "
                + "(stages: decode, detect, track, pose, flow, classify, smooth)",
        ])  // no cascade: `smooth` after an unreadable stage is not reported as unwired
        XCTAssertEqual(try stages("  - decode\n  - segment"), [
            "11:5: unknown stage `segment` (stages: decode, detect, track, pose, flow, classify, smooth)",
        ])
    }

    func testUnknownOptionSuggests() throws {
        XCTAssertEqual(try stages("  - decode\n  - detect: { model: person, treshold: 0.3 }"), [
            "11:30: unknown key `treshold` in `detect` options; did you mean `threshold`? "
                + "(known keys: model, threshold, iou, max, classes, agnostic)",
        ])
        XCTAssertEqual(try stages("  - decode: { fps: 15, codec: h264 }"), [
            "10:24: unknown key `codec` in `decode` options (known keys: fps, size, resize)",
        ])
    }

    func testWrongTypes() throws {
        let errors = try stages("""
              - decode: { fps: "15", size: 320by240, resize: fit }
              - detect: { model: person, max: 2.5, classes: { a: b } }
              - track: { kind: iou, max_lost: many }
              - classify: { model: actions, per: tracks }
              - smooth: { window: [3], enter: yes }
            """)
        XCTAssertEqual(errors, [
            "10:20: `fps` must be a number greater than 0 and less than or equal to 240, got a string (\"15\"); "
                + "write it without quotes",
            "10:32: `size` must be a size written WIDTHxHEIGHT such as 320x240, got a string (\"320by240\")",
            "10:50: `resize` must be `stretch`, `crop` or `letterbox`, got `fit`",
            "11:35: `max` must be a whole number between 1 and 10000, got a number (2.5)",
            "11:49: `classes` must be a string or a list of strings, got a mapping",
            "12:35: `max_lost` must be a whole number between 0 and 100000, got a string (\"many\")",
            "13:38: `per` must be `frame` or `track`, got `tracks`; did you mean `track`?",
            "14:23: `window` must be a whole number between 1 and 1000, got a list",
            "14:35: `enter` must be a number between 0 and 1, got a boolean (yes)",
        ])
    }

    func testOutOfRange() throws {
        let errors = try stages("""
              - decode: { fps: 0 }
              - detect: { model: person, threshold: 1.5, iou: -0.1 }
              - flow: { bound: 0 }
              - classify: { model: actions, stride: 0, segments: 100 }
              - smooth: { window: 0, min_length: -1 }
            """)
        XCTAssertEqual(errors, [
            "10:20: `fps` must be greater than 0 and less than or equal to 240, got 0",
            "11:41: `threshold` must be between 0 and 1, got 1.5",
            "11:51: `iou` must be between 0 and 1, got -0.1",
            "12:20: `bound` must be greater than 0, got 0",
            "13:41: `stride` must be between 1 and 1024, got 0",
            "13:54: `segments` must be between 1 and 64, got 100",
            "14:23: `window` must be between 1 and 1000, got 0",
            "14:38: `min_length` must be between 0 and 86400, got -1",
        ])
    }

    func testMissingRequiredOptions() throws {
        let errors = try stages("""
              - decode
              - detect: {}
              - track: { max_lost: 3 }
              - pose:
              - classify: { per: frame }
            """)
        XCTAssertEqual(errors, [
            "11:13: `detect` needs `model`: the name of a model declared under `models:`",
            "12:12: `track` needs `model`: a `siamese` tracker needs its model (a name under `models:` with card "
                + "kind tracker); or use `kind: iou` to track by box overlap alone",
            "13:10: `pose` needs `model`: the name of a model declared under `models:`",
            "14:15: `classify` needs `model`: the name of a model declared under `models:`",
        ])
    }

    func testModelOnIOUTracker() throws {
        let lines = "  - decode\n  - detect: { model: person }\n  - track: { kind: iou, model: tracker }"
        XCTAssertEqual(try stages(lines), [
            "12:25: `model` only applies to `kind: siamese`; an `iou` tracker uses no model",
        ])
    }

    func testTrackThresholdsMustBeOrderedAndAppearanceNeedsSiamese() throws {
        XCTAssertEqual(try stages("  - decode\n  - detect: { model: person }\n"
                                  + "  - track: { kind: iou, high: 0.4, low: 0.5, appearance: 0.3, refind: 0.9 }"), [
            "12:36: `low` (0.5) must not exceed `high` (0.4)",
            "12:46: `appearance` only applies to `kind: siamese`",
            "12:63: `refind` only applies to `kind: siamese`",
        ])
        XCTAssertEqual(try stages("  - decode\n  - detect: { model: person }\n"
                                  + "  - track: { model: tracker, high: 0.7, start: 0.6, confirm: 0 }"), [
            "12:41: `start` (0.6) must be at least `high` (0.7): a detection too weak for the first association "
                + "cannot start a track",
            "12:62: `confirm` must be between 1 and 1000, got 0",
        ])
        // `start` follows a raised `high` when not given.
        let config = try sandbox.load(ConfigSandbox.config(stages: "  - decode\n  - detect: { model: person }\n"
                                                           + "  - track: { model: tracker, high: 0.8 }"))
        guard case let .track(options) = config.stages[2].options else { return XCTFail("no track stage") }
        XCTAssertEqual(options.start, 0.8)
        XCTAssertEqual(options.confirm, 2)
    }

    func testOptionsBesideInsteadOfInsideAndTwoKindsInOneEntry() throws {
        XCTAssertEqual(try stages("  - decode:\n    fps: 10\n  - smooth: {}\n    classify: { model: actions }"), [
            "11:5: `fps` is written beside `decode`, not inside it: indent the options under `decode:` "
                + "(or write `- decode: { fps: ... }`)",
            "12:5: `smooth` takes `clipScores`, but no earlier stage gives it; add a `classify` stage before this one",
            "13:5: each stage is its own `-` entry: put `classify` on a new line starting with `- `",
        ])
    }

    func testDuplicateStage() throws {
        XCTAssertEqual(try stages("  - decode\n  - flow\n  - flow: { method: dis }"), [
            "12:5: stage `flow` appears twice (first at line 11); each stage kind runs once per pipeline",
        ])
    }

    // MARK: wiring

    func testTwoStreamWithoutFlow() throws {
        XCTAssertEqual(try stages("  - decode\n  - classify: { model: twostream }"), [
            "11:5: `classify` with kind `two-stream` takes `flow`, but no earlier stage gives it; add a `flow` stage "
                + "before this one",
        ])
        XCTAssertEqual(try stages("  - decode\n  - classify: { model: twostream }\n  - flow"), [
            "11:5: `classify` with kind `two-stream` takes `flow`, but no earlier stage gives it; move the `flow` "
                + "stage (line 12) before this one",
        ])
    }

    func testPerTrackWithoutTracker() throws {
        XCTAssertEqual(try stages("  - decode\n  - classify: { model: actions, per: track }"), [
            "11:5: `classify` with `per: track` takes `tracks`, but no earlier stage gives it; add a `track` stage "
                + "before this one (tracking needs `detect` first)",
        ])
        let noDetector = "  - decode\n  - track: { kind: iou }\n  - classify: { model: actions, per: track }"
        XCTAssertEqual(try stages(noDetector), [
            "11:5: `track` takes `detections`, but no earlier stage gives it; add a `detect` stage before this one",
        ])
    }

    func testSmoothWithoutClassifierAndStagesBeforeDecode() throws {
        XCTAssertEqual(try stages("  - decode\n  - smooth"), [
            "11:5: `smooth` takes `clipScores`, but no earlier stage gives it; add a `classify` stage before this one",
        ])
        XCTAssertEqual(try stages("  - flow\n  - decode"), [
            "10:5: `flow` takes `frames`, but no earlier stage gives it; move the `decode` stage (line 11) before "
                + "this one",
        ])
        XCTAssertEqual(try stages("  - pose: { model: pose }"), [
            "10:5: `pose` takes `frames`, but no earlier stage gives it; add a `decode` stage before this one",
            "10:5: `pose` takes `detections`, but no earlier stage gives it; add a `detect` stage before this one",
        ])
    }

    // MARK: classifier against its card

    func testClassifierKindAndClipMustMatchCard() throws {
        XCTAssertEqual(try stages("  - decode\n  - classify: { model: actions, kind: cnn-rnn, clip: 8 }"), [
            "11:39: `kind: cnn-rnn` does not match model `actions`, whose card (models/actions.yaml) says `3d`; "
                + "remove `kind` to use the card's",
            "11:54: `clip: 8` does not match model `actions`, whose card (models/actions.yaml) takes 16 frames; "
                + "remove `clip` to use the card's value",
        ])
        XCTAssertEqual(try stages("  - decode\n  - flow\n  - classify: { model: twostream, clip: 6 }"), [
            "12:41: `clip: 6` is too short for model `twostream`: its flow network stacks 10 flow fields, which take "
                + "11 frames; use clip >= 11",
        ])
    }

    func testDecodeRateMustMatchCardTrainingRate() throws {
        XCTAssertEqual(try stages("  - decode: { fps: 10 }\n  - classify: { model: actions }"), [
            "10:20: model `actions` was trained on clips at 15 fps (card models/actions.yaml: fps 15, stride 1), "
                + "but `decode` samples 10 fps; set `fps: 15` in `decode`",
        ])
        try sandbox.write("models/strided.yaml", """
            kind: 3d
            onnx: actions.onnx
            input: { layout: NCTHW, frames: 8, stride: 2, fps: 12.5, size: 112x112 }
            output: { kind: logits, labels: labels.txt }
            """)
        let config = "version: 1\nmodels: { a: models/strided.yaml }\npipeline:\n  - decode\n  - classify: { model: a }"
        XCTAssertEqual(try sandbox.errors(config), [
            "4:5: model `a` was trained on clips at 12.5 fps (card models/strided.yaml: fps 12.5, stride 2), but "
                + "`decode` samples 15 fps, which gives 7.5 fps; set `fps: 25` in `decode`",
        ])
    }

    func testFlowBoundAndIgnoredLabelsMustMatchCard() throws {
        let errors = try stages("""
              - decode
              - flow: { bound: 15 }
              - classify: { model: twostream }
              - smooth: { ignore: [idel, jump] }
            """)
        XCTAssertEqual(errors, [
            "11:20: `bound: 15` differs from the flow bound model `twostream` was trained with (20 in "
                + "models/twostream.yaml); remove `bound` to use the card's",
            "13:23: `ignore` names `idel`, which is not a label of model `twostream`; did you mean `idle`? "
                + "(labels: walk, run, sit-down, stand-up, wave, idle)",
            "13:23: `ignore` names `jump`, which is not a label of model `twostream` "
                + "(labels: walk, run, sit-down, stand-up, wave, idle)",
        ])
    }

    func testFlowPresetIsParsedAndMustMatchTheCardsTrainingFlow() throws {
        let sandbox = try ConfigSandbox("flowpreset")
        try sandbox.write("models/medium.yaml", """
            kind: two-stream
            onnx: rgb.onnx
            input: { layout: NCHW, size: 224x224 }
            output: { kind: logits, labels: labels.txt }
            flow: { onnx: flow.onnx, bound: 20, stack: 10, preset: medium }
            """)
        let header = "version: 1\nmodels: { m: models/medium.yaml }\npipeline:\n  - decode\n"
        let config = try sandbox.load(header + "  - flow: { preset: medium }\n  - classify: { model: m }")
        guard case let .flow(options) = config.stages[1].options else { return XCTFail("no flow stage") }
        XCTAssertEqual(options.preset, .medium)
        XCTAssertEqual(config.model(named: "m")?.card.flow?.preset, .medium)
        XCTAssertEqual(try sandbox.errors(header + "  - flow\n  - classify: { model: m }"), [
            "5:5: model `m` was trained on DIS `medium` flow (card models/medium.yaml: flow.preset medium), but "
                + "the `flow` stage computes DIS `fast` flow; set `method: dis, preset: medium` in `flow`",
        ])
        XCTAssertEqual(try sandbox.errors(header + "  - flow: { method: farneback }\n  - classify: { model: m }"), [
            "5:21: model `m` was trained on DIS `medium` flow (card models/medium.yaml: flow.preset medium), but "
                + "the `flow` stage computes Farneback flow; set `method: dis, preset: medium` in `flow`",
        ])
        XCTAssertEqual(try sandbox.errors(header + "  - flow: { preset: slow }\n  - classify: { model: m }"), [
            "5:21: `preset` must be `ultrafast`, `fast` or `medium`, got `slow`",
        ])
        XCTAssertEqual(try sandbox.errors(header + "  - flow: { method: farneback, preset: fast }"), [
            "5:40: `preset` applies to `method: dis` only; this stage computes `farneback`",
        ])
        // A card without `preset` accepts any flow stage (a model exported elsewhere says nothing of DIS).
        XCTAssertNoThrow(try sandbox.load("""
            version: 1
            models: { t: models/twostream.yaml }
            pipeline: [decode, { flow: { preset: ultrafast } }, { classify: { model: t } }]
            """))
    }

    func testExitAboveEnter() throws {
        XCTAssertEqual(try stages("  - decode\n  - classify: { model: actions }\n  - smooth: { exit: 0.7 }"), [
            "12:21: `exit` (0.7) must not be above `enter` (0.6): a segment opens at `enter` and stays open until "
                + "the score falls below `exit`",
        ])
    }

    // MARK: sources

    func testSourceErrors() throws {
        let errors = try sandbox.errors("""
            version: 1
            sources:
              - id: inbox
                watch: /in
                stall: 3
              - id: inbox
                file: /a.mp4
              - watch: /x
              - id: two
                watch: /y
                url: rtsp://cam/1
              - id: cam
                url: cam.local/stream
              - id: nothing
              - id: "bad id"
                file: /b.mp4
                done: delete
            pipeline:
              - decode
            """)
        XCTAssertEqual(errors, [
            "5:5: `stall` only applies to `url` sources; this source is a `watch` source",
            "6:9: source id `inbox` is already used at line 3; each source needs its own id",
            "8:5: a source needs `id`: a unique name used in events and logs, e.g. `id: inbox`",
            "11:10: a source has exactly one of `watch`, `url` or `file`; this one has `watch` and `url`: split it "
                + "into one source each",
            "13:10: `url` must be a stream URL such as rtsp://host/path (schemes: rtsp, rtsps, rtmp, rtmps, http, "
                + "https, udp, tcp, srt, rtp, hls), got `cam.local/stream`; for a local file use `file:`",
            "14:5: a source needs `watch`: each source has one of `watch` (a folder), `url` (a live stream) or "
                + "`file` (one file)",
            "15:9: source `id` may contain letters, digits, `-`, `_` and `.`, got `bad id`",
            "17:5: `done` only applies to `watch` sources; this source is a `file` source",
        ])
    }

    func testWatchAndStreamOptionErrors() throws {
        let errors = try sandbox.errors("""
            version: 1
            sources:
              - id: inbox
                watch: /in
                match: []
                done: archive
                settle: -1
                recursive: maybe
              - id: cam
                url: rtsp://cam/1
                reconnect: { initial: 10, max: 5, jitter: 0.1 }
                queue: 0
            pipeline:
              - decode
            """)
        XCTAssertEqual(errors, [
            "5:12: `match` must not be empty",
            "6:11: `done` must be `keep`, `delete` or `move:FOLDER` (e.g. move:/var/lib/actiond/done), got `archive`",
            "7:13: `settle` must be between 0 and 3600, got -1",
            "8:16: `recursive` must be true or false, got a string (\"maybe\")",
            "11:36: `reconnect.max` (5s) must be at least `initial` (10s)",
            "11:39: unknown key `jitter` in `reconnect` (known keys: initial, max)",
            "12:12: `queue` must be between 1 and 4096, got 0",
        ])
        XCTAssertEqual(try sandbox.errors("version: 1\nsources: inbox\npipeline:\n  - decode\n"), [
            "2:10: `sources` must be a list (each entry starts with `- id: ...`), got a string (\"inbox\")",
        ])
    }

    // MARK: sinks

    func testSinkErrors() throws {
        let errors = try sandbox.errors("""
            version: 1
            pipeline:
              - decode
            sinks:
              - jsonl: { rotate: { size: 12 } }
              - jsonl: { path: /log/a.jsonl, rotate: { size: 64 parsecs, keep: 0 }, interval: 5 }
              - jsonl: { path: /log/b.jsonl, flush: sometimes }
              - stdout
              - stdout: { format: xml }
              - kafka: { topic: x }
              - jsnol: {}
            """)
        XCTAssertEqual(errors, [
            "5:12: `jsonl` needs `path`: the log file to append events to, e.g. `path: /var/log/actiond/actions.jsonl`",
            "5:30: `size` must be between 1KB and 1PB, got 12",
            "6:50: `size` must be a number of bytes or a size such as 512KB, 64MB or 1GB, got a string "
                + "(\"64 parsecs\")",
            "6:68: `keep` must be between 1 and 1000, got 0",
            "6:73: `interval` only applies with `flush: interval`",
            "7:41: `flush` must be `every-event` or `interval`, got `sometimes`",
            "9:5: `stdout` is already a sink (line 8); list it once",
            "10:5: unknown sink `kafka` (sinks: jsonl, stdout)",
            "11:5: unknown sink `jsnol`; did you mean `jsonl`? (sinks: jsonl, stdout)",
        ])
        XCTAssertEqual(try sandbox.errors("""
            version: 1
            pipeline: [decode]
            sinks:
              - jsonl: { path: /log/a.jsonl }
              - jsonl: { path: /log/a.jsonl }
            """), [
            "5:5: two `jsonl` sinks write to `/log/a.jsonl` (the first at line 4); give each its own file",
        ])
    }

    // MARK: collecting and sorting

    func testErrorsFromConfigAndCardsAreAllReportedSortedByFileThenPosition() throws {
        try sandbox.write("models/bad.yaml", "kind: 3d\nonnx: actions.onnx\ninput: { layout: NCHW, size: 112x112 }\n"
                          + "output: { kind: logits, labels: labels.txt }\n")
        let errors = try sandbox.errors("""
            version: 1
            models: { bad: models/bad.yaml }
            pipeline:
              - smooth: { window: 0 }
              - decode: { fps: 300 }
            zzz: 1
            """)
        XCTAssertEqual(errors, [
            "4:5: `smooth` takes `clipScores`, but no earlier stage gives it; add a `classify` stage before this one",
            "4:23: `window` must be between 1 and 1000, got 0",
            "5:20: `fps` must be greater than 0 and less than or equal to 240, got 300",
            "6:1: unknown key `zzz` in the config (known keys: version, sources, models, pipeline, sinks, threads, journal, drain, metrics)",
            "bad.yaml:3:8: `input` needs `frames`: the number of frames in one clip the network takes, e.g. "
                + "`frames: 16`",
            "bad.yaml:3:18: a `3d` model takes a clip: `layout` must be `NCTHW` or `NTCHW`, got NCHW",
        ])
        let error: ConfigError
        do {
            _ = try ConfigLoader.load(path: sandbox.path("pipeline.yaml"))
            return XCTFail("expected errors")
        } catch let thrown {
            error = thrown
        }
        XCTAssertEqual(error.diagnostics[0].description,
                       "\(sandbox.path("pipeline.yaml")):4:5: error: `smooth` takes `clipScores`, but no earlier "
                       + "stage gives it; add a `classify` stage before this one")
    }

    func testWarningsForUnusedWorkAndModels() throws {
        let config = try sandbox.load("""
            version: 1
            models:
              person: models/person.yaml
              actions: models/actions.yaml
              spare: models/pose.yaml
            pipeline:
              - decode
              - detect: { model: person }
              - classify: { model: actions }
            """)
        XCTAssertEqual(config.warnings.map { "\($0.line):\($0.column): \($0.severity): \($0.message)" }, [
            "5:3: warning: model `spare` is declared but no stage uses it",
            "8:5: warning: `detect` runs on every frame, but no later stage takes its `detections` (`track` or "
                + "`pose` would); remove it to save the time",
        ])
        let used = try sandbox.load(ConfigSandbox.config(stages: """
              - decode
              - detect: { model: person }
              - track: { model: tracker }
              - pose: { model: pose }
              - flow
              - classify: { model: twostream, per: track }
            """))
        XCTAssertEqual(used.warnings.map(\.message), [
            "model `actions` is declared but no stage uses it",
            "model `cnnrnn` is declared but no stage uses it",
            // The detect stage's default threshold (0.5) hides the tracker's weak boxes (its `low`, 0.1).
            "`detect` keeps boxes scoring 0.5 or more, but `track` matches boxes from `low` (0.1) up: set the "
                + "detect threshold to 0.1 so partly hidden people keep their tracks",
        ])
    }

    func testWarningForDecodingSmallerThanTheClassifierInput() throws {
        let small = try sandbox.load("""
            version: 1
            models: { actions: models/actions.yaml }
            pipeline:
              - decode: { size: 96x72 }
              - classify: { model: actions }
            """)
        XCTAssertEqual(small.warnings.map { "\($0.line):\($0.column): \($0.message)" }, [
            "4:21: `decode` frames (96x72) are smaller than the input of model `actions` (112x112): clips will be "
                + "upscaled; decode at 112x112 or larger",
        ])
        let fine = try sandbox.load("version: 1\nmodels: { actions: models/actions.yaml }\npipeline:\n"
                                    + "  - decode: { size: 160x120 }\n  - classify: { model: actions }\n")
        XCTAssertEqual(fine.warnings, [])
    }

    func testValidMinimalConfigsWithDefaults() throws {
        let config = try sandbox.load("version: 1\npipeline:\n  - decode\n")
        XCTAssertEqual(config.stages.count, 1)
        XCTAssertEqual(config.decode, DecodeOptions())
        XCTAssertEqual(config.decode?.fps, 15)
        XCTAssertEqual(config.decode?.size, PixelSize(width: 320, height: 240))
        XCTAssertEqual(config.decode?.resize, .letterbox)
        XCTAssertTrue(config.sources.isEmpty && config.sinks.isEmpty && config.models.isEmpty)

        // Classifier defaults come from the card: kind, clip = frames, stride = clip / 2.
        let twoStream = try sandbox.load(ConfigSandbox.config(
            stages: "  - decode\n  - flow\n  - classify: { model: twostream }\n  - smooth"))
        guard case let .classify(options) = twoStream.stages[2].options else { return XCTFail("not classify") }
        XCTAssertEqual(options.kind, .twoStream)
        XCTAssertEqual(options.clip, 16)
        XCTAssertEqual(options.stride, 8)
        XCTAssertEqual(options.per, .frame)
        XCTAssertEqual(options.partial, .pad)
        XCTAssertEqual(twoStream.stages[2].ports, StagePorts(takes: [.frames, .flow], gives: [.clipScores]))
        guard case let .smooth(smooth) = twoStream.stages[3].options else { return XCTFail("not smooth") }
        XCTAssertEqual(smooth, SmoothOptions())

        let cnnRNN = try sandbox.load(ConfigSandbox.config(
            stages: "  - decode\n  - classify: { model: cnnrnn, stride: 3 }"))
        guard case let .classify(rnn) = cnnRNN.stages[1].options else { return XCTFail("not classify") }
        XCTAssertEqual(rnn.kind, .cnnRNN)
        XCTAssertEqual(rnn.clip, 8)
        XCTAssertEqual(rnn.stride, 3)
        XCTAssertEqual(cnnRNN.model(named: "cnnrnn")?.card.encoder?.output, "features")

        // Bare `- stdout` and null options are accepted.
        let sinks = try sandbox.load("version: 1\npipeline:\n  - decode:\nsinks:\n  - stdout\n")
        XCTAssertEqual(sinks.sinks, [.stdout(StdoutSinkOptions())])
    }
}
