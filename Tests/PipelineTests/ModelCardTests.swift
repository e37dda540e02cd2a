// Model cards: every validation error with its position, and the check of a card against hand-built ONNX
// graph signatures (what the Stages layer will build from the ONNX loader).
import Foundation
@testable import Pipeline
import XCTest

final class ModelCardTests: XCTestCase {
    var sandbox: ConfigSandbox!

    override func setUpWithError() throws { sandbox = try ConfigSandbox(name.filter(\.isLetter)) }
    override func tearDown() { sandbox = nil }

    func card(_ yaml: String) throws -> ModelCard {
        try sandbox.write("models/card.yaml", yaml)
        return try ModelCardLoader.load(path: sandbox.path("models/card.yaml"))
    }

    func errors(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        try sandbox.write("models/card.yaml", yaml)
        do {
            _ = try ModelCardLoader.load(path: sandbox.path("models/card.yaml"))
            XCTFail("expected card errors", file: file, line: line)
            return []
        } catch {
            return error.diagnostics.map {
                "\($0.line):\($0.column): " + $0.message.replacingOccurrences(of: sandbox.root.path + "/", with: "")
            }
        }
    }

    // MARK: card validation

    func testRequiredSections() throws {
        XCTAssertEqual(try errors("name: x\n"), [
            "1:1: the model card needs `kind`: what the model is: `3d`, `two-stream`, `cnn-rnn`, `2d`, `detector`, "
                + "`pose` or `tracker`",
            "1:1: the model card needs `onnx`: the ONNX graph file beside the card, e.g. `onnx: card.onnx`",
            "1:1: the model card needs `input`: how to feed the network (layout, size, mean, std, ...)",
            "1:1: the model card needs `output`: what the network gives (`kind`, and `labels` for scores)",
        ])
        XCTAssertEqual(try errors("kind: 3d\nonnx: actions.onnx\ninput: {}\noutput: {}\n"), [
            "3:8: `input` needs `layout`: the tensor layout, `NCHW`, `NCTHW` or `NTCHW`",
            "3:8: `input` needs `size`: the network's input size, WIDTHxHEIGHT such as 112x112",
            "3:8: `input` needs `frames`: the number of frames in one clip the network takes, e.g. `frames: 16`",
            "4:9: `output` needs `kind`: what the graph gives, `logits`, `probabilities`, `detections`, `heatmaps` or "
                + "`features`",
        ])
    }

    func testUnknownKindAndKeysSuggest() throws {
        XCTAssertEqual(try errors("""
            kind: 3-d
            onnx: actions.onnx
            input: { layout: NCTHW, frames: 16, size: 112x112, color: bgr }
            output: { kind: logits, labels: labels.txt }
            weights: x
            """), [
            "1:7: `kind` must be `3d`, `two-stream`, `cnn-rnn`, `2d`, `detector`, `pose` or `tracker`, got `3-d`; "
                + "did you mean `3d`?",
            "3:52: unknown key `color` in `input`; did you mean `colour`? (known keys: name, layout, frames, stride, "
                + "fps, size, resize, mean, std, colour, pixels, fill)",
            "5:1: unknown key `weights` in the model card (known keys: kind, name, onnx, input, output, flow, "
                + "encoder, head, siamese)",
        ])
    }

    func testLayoutFramesAndOutputMustFitKind() throws {
        XCTAssertEqual(try errors("""
            kind: 3d
            onnx: actions.onnx
            input: { layout: NCHW, size: 112x112 }
            output: { kind: detections }
            """), [
            "3:8: `input` needs `frames`: the number of frames in one clip the network takes, e.g. `frames: 16`",
            "3:18: a `3d` model takes a clip: `layout` must be `NCTHW` or `NTCHW`, got NCHW",
            "4:17: a `3d` model gives `logits` or `probabilities`, not `detections`",
        ])
        XCTAssertEqual(try errors("""
            kind: detector
            onnx: person.onnx
            input: { layout: NCTHW, frames: 4, size: 320x320 }
            output: { kind: logits, labels: labels.txt }
            """), [
            "3:18: a `detector` model takes one frame: `layout` must be `NCHW`, got NCTHW",
            "3:33: a `detector` model looks at one frame at a time: `frames` must be 1, got 4",
            "4:17: a `detector` model gives `detections`, not `logits`",
        ])
    }

    /// A detector card says how its rows are laid out and names its classes; keypoint keys need the pose format.
    func testDetectorCardFormatLabelsAndKeypoints() throws {
        XCTAssertEqual(try errors("""
            kind: detector
            onnx: person.onnx
            input: { layout: NCHW, size: 320x320, resize: letterbox }
            output: { kind: detections }
            """), [
            "4:9: `output` needs `labels`: a labels file with the detector's class names, one per line in output "
                + "order (e.g. `person` alone for a person detector; the 80 COCO names for a COCO model)",
        ])
        XCTAssertEqual(try errors("""
            kind: detector
            onnx: person.onnx
            input: { layout: NCHW, size: 320x320, resize: letterbox }
            output: { kind: detections, labels: labels.txt, format: yolo, keypoints: 17 }
            """), [
            "4:57: `format` must be `ultralytics-detect` or `ultralytics-pose`, got `yolo`",
            "4:74: `keypoints` only applies to `format: ultralytics-pose`",
        ])
        XCTAssertEqual(try errors("""
            kind: 2d
            onnx: actions.onnx
            input: { layout: NCHW, size: 112x112 }
            output: { kind: logits, labels: labels.txt, format: ultralytics-pose }
            """), [
            "4:53: `format` only applies to a `detections` output",
        ])
        let card = try card("""
            kind: detector
            onnx: person.onnx
            input: { layout: NCHW, size: 320x256, resize: letterbox }
            output: { kind: detections, labels: labels.txt, format: ultralytics-pose, keypoint_values: 2 }
            """)
        XCTAssertEqual(card.output.format, .ultralyticsPose)
        XCTAssertEqual(card.output.keypoints, 17)
        XCTAssertEqual(card.output.keypointValues, 2)
        XCTAssertEqual(card.input.fill, 114, "detectors pad like Ultralytics by default")
    }

    func testValueErrorsInInput() throws {
        XCTAssertEqual(try errors("""
            kind: 2d
            onnx: actions.onnx
            input:
              layout: nchw
              size: 112
              mean: [0.5, 0.5]
              std: [0.2, 0, 0.2]
              pixels: float
              stride: 0
            output: { kind: probabilities, labels: labels.txt }
            """), [
            "4:11: `layout` must be `NCHW`, `NCTHW` or `NTCHW`, got `nchw`; did you mean `NCHW`?",
            "5:9: `size` must be a size written WIDTHxHEIGHT such as 320x240, got a number (112)",
            "6:9: `mean` must have 3 numbers (one per colour channel), got 2",
            "7:14: `each number of `std`` must be greater than 0, got 0",
            "8:11: `pixels` must be `unit` or `byte`, got `float`",
            "9:11: `stride` must be between 1 and 64, got 0",
        ])
    }

    func testLabelsAndFilesMustExist() throws {
        XCTAssertEqual(try errors("""
            kind: 3d
            onnx: missing.onnx
            input: { layout: NCTHW, frames: 16, size: 112x112 }
            output: { kind: logits }
            """), [
            "2:7: graph `missing.onnx` not found (looked for models/missing.onnx); paths in a model card are relative "
                + "to the card's folder (models)",
            "4:9: `output` needs `labels`: a labels file (one label per line, in output order) for a `logits` output, "
                + "e.g. `labels: labels.txt`",
        ])
        try sandbox.write("models/empty.txt", "\n\n")
        try sandbox.write("models/twice.txt", "walk\nrun\nwalk\n")
        XCTAssertEqual(try errors("""
            kind: 3d
            onnx: actions.onnx
            input: { layout: NCTHW, frames: 16, size: 112x112 }
            output: { kind: logits, labels: empty.txt }
            """), ["4:33: labels file models/empty.txt has no labels; write one label per line, in output order"])
        XCTAssertEqual(try errors("""
            kind: 3d
            onnx: actions.onnx
            input: { layout: NCTHW, frames: 16, size: 112x112 }
            output: { kind: logits, labels: twice.txt }
            """), [
            "4:33: labels file models/twice.txt lists `walk` twice (labels 1 and 3); each output needs its own label",
        ])
        XCTAssertEqual(try errors("""
            kind: 3d
            onnx: actions.onnx
            input: { layout: NCTHW, frames: 16, size: 112x112 }
            output: { kind: logits, labels: nope.txt }
            """), [
            "4:33: labels file `nope.txt` not found (looked for models/nope.txt); paths in a model card are relative "
                + "to the card's folder (models)",
        ])
    }

    func testTwoStreamNeedsFlowAndOthersMustNotHaveIt() throws {
        XCTAssertEqual(try errors("""
            kind: two-stream
            onnx: rgb.onnx
            input: { layout: NCHW, size: 224x224 }
            output: { kind: logits, labels: labels.txt }
            """), [
            "1:1: the model card needs `flow`: a two-stream card describes its flow network (`onnx`, `bound`, "
                + "`stack`, `weight`)",
        ])
        XCTAssertEqual(try errors("""
            kind: two-stream
            onnx: rgb.onnx
            input: { layout: NCHW, size: 224x224 }
            output: { kind: logits, labels: labels.txt }
            flow: { onnx: flow.onnx, bound: -2, weight: 2 }
            """), [
            "5:7: `flow` needs `stack`: how many flow fields are stacked (2 × stack channels), e.g. `stack: 10`",
            "5:33: `bound` must be greater than 0, got -2",
            "5:45: `weight` must be between 0 and 1, got 2",
        ])
        XCTAssertEqual(try errors("""
            kind: two-stream
            onnx: rgb.onnx
            input: { layout: NCHW, size: 224x224 }
            output: { kind: logits, labels: labels.txt }
            flow: { onnx: flow.onnx, bound: 20, stack: 10, preset: medum }
            """), ["5:56: `preset` must be `ultrafast`, `fast` or `medium`, got `medum`; did you mean `medium`?"])
        XCTAssertEqual(try errors("""
            kind: 3d
            onnx: actions.onnx
            input: { layout: NCTHW, frames: 16, size: 112x112 }
            output: { kind: logits, labels: labels.txt }
            flow: { onnx: flow.onnx, bound: 20, stack: 10 }
            """), ["5:7: `flow` only applies to two-stream cards; this card has kind `3d`"])
    }

    func testCNNRNNForms() throws {
        XCTAssertEqual(try errors("""
            kind: cnn-rnn
            onnx: actions.onnx
            encoder: { onnx: encoder.onnx }
            head: { onnx: head.onnx }
            input: { layout: NCHW, frames: 8, size: 112x112 }
            output: { kind: logits, labels: labels.txt }
            """), ["2:7: a cnn-rnn card has either `onnx` (one graph) or `encoder` + `head` (two graphs), not both"])
        XCTAssertEqual(try errors("""
            kind: cnn-rnn
            encoder: { onnx: encoder.onnx }
            input: { layout: NCHW, frames: 8, size: 112x112 }
            output: { kind: logits, labels: labels.txt }
            """), [
            "1:1: the model card needs `head`: the recurrent graph that goes with `encoder` (`head: { onnx: ... }`)",
        ])
        XCTAssertEqual(try errors("""
            kind: cnn-rnn
            encoder: { onnx: encoder.onnx }
            head: { onnx: head.onnx }
            input: { layout: NTCHW, frames: 8, size: 112x112 }
            output: { kind: logits, labels: labels.txt }
            """), [
            "4:18: a split cnn-rnn card feeds its encoder one frame at a time: `layout` must be NCHW, got NTCHW",
        ])
        XCTAssertEqual(try errors("""
            kind: 3d
            onnx: actions.onnx
            head: { onnx: head.onnx }
            input: { layout: NCTHW, frames: 8, size: 112x112 }
            output: { kind: logits, labels: labels.txt }
            """), ["3:7: `encoder` and `head` only apply to cnn-rnn cards; this card has kind `3d`"])
        let single = try card("""
            kind: cnn-rnn
            onnx: actions.onnx
            input: { layout: NTCHW, frames: 8, size: 112x112 }
            output: { kind: logits, labels: labels.txt }
            """)
        XCTAssertEqual(single.graphs.map(\.role), [.main])
    }

    func testValidCardsAndDefaults() throws {
        let twoStream = try card("""
            kind: two-stream
            onnx: rgb.onnx
            input: { layout: NCHW, size: 224x224 }
            output: { kind: logits, labels: labels.txt }
            flow: { onnx: flow.onnx, bound: 20, stack: 10 }
            """)
        XCTAssertEqual(twoStream.name, "card")
        XCTAssertEqual(twoStream.flow?.weight, 0.5)
        XCTAssertEqual(twoStream.input.resize, .crop)
        XCTAssertEqual(twoStream.input.frames, 1)
        XCTAssertEqual(twoStream.input.stride, 1)
        XCTAssertNil(twoStream.input.fps)
        XCTAssertEqual(twoStream.graphs.map(\.role), [.main, .flow])
        XCTAssertEqual(twoStream.graphs.map(\.path),
                       [sandbox.path("models/rgb.onnx"), sandbox.path("models/flow.onnx")])
        XCTAssertEqual(twoStream.locations["flow.stack"]?.line, 5)
        XCTAssertEqual(twoStream.locations["flow.stack"]?.column, 44)
    }

    // MARK: against ONNX signatures

    let r3dCard = """
        kind: 3d
        onnx: actions.onnx
        input: { layout: NCTHW, frames: 16, size: 112x112 }
        output: { kind: logits, labels: labels.txt }
        """

    func clip(_ shape: [TensorDim], name: String = "clip", type: String = "float32") -> TensorSignature {
        TensorSignature(name: name, elementType: type, shape: shape)
    }

    func check(_ card: ModelCard, _ signatures: [String: ModelSignature]) -> [String] {
        card.check(against: signatures).map { "\($0.line):\($0.column): \($0.message)" }
    }

    func testMatchingSignatureWithSymbolicDimsPasses() throws {
        let card = try card(r3dCard)
        let signature = ModelSignature(
            inputs: [clip([.symbolic("batch"), .fixed(3), .fixed(16), .fixed(112), .fixed(112)])],
            outputs: [clip([.symbolic("batch"), .fixed(6)], name: "logits")])
        XCTAssertEqual(check(card, [card.onnx!: signature]), [])
        // Fully symbolic shapes cannot disagree.
        let open = ModelSignature(inputs: [clip([.symbolic(""), .symbolic("c"), .symbolic("t"), .symbolic("h"),
                                                 .symbolic("w")])],
                                  outputs: [clip([.symbolic("n"), .symbolic("k")], name: "logits")])
        XCTAssertEqual(check(card, [card.onnx!: open]), [])
    }

    func testSignatureDisagreementsArePositionedAtTheCardField() throws {
        let card = try card(r3dCard)
        let wrongDims = ModelSignature(
            inputs: [clip([.fixed(1), .fixed(3), .fixed(8), .fixed(128), .fixed(112)])],
            outputs: [clip([.fixed(1), .fixed(400)], name: "logits")])
        XCTAssertEqual(check(card, [card.onnx!: wrongDims]), [
            "3:33: graph actions.onnx input `clip` float32[1, 3, 8, 128, 112]: T (frames) is 8, but the card "
                + "implies 16",
            "3:43: graph actions.onnx input `clip` float32[1, 3, 8, 128, 112]: H (height) is 128, but the card "
                + "implies 112",
            "4:33: graph actions.onnx output `logits` float32[1, 400] gives 400 scores, but the labels file has "
                + "6 labels",
        ])
        let wrongRankAndType = ModelSignature(inputs: [clip([.fixed(1), .fixed(3), .fixed(112), .fixed(112)],
                                                            type: "uint8")],
                                              outputs: [clip([], name: "logits")])
        XCTAssertEqual(check(card, [card.onnx!: wrongRankAndType]), [
            "3:8: graph actions.onnx input `clip` uint8[1, 3, 112, 112] is uint8, but actiond feeds float32 "
                + "(normalised pixels); export the model with a float input",
            "3:18: graph actions.onnx input `clip` uint8[1, 3, 112, 112] has 4 dimensions, but layout NCTHW has 5",
            "4:17: graph actions.onnx output `logits` float32[] is a scalar, but `logits` needs one score per label",
        ])
    }

    func testInputAndOutputNames() throws {
        let card = try card(r3dCard)
        let two = ModelSignature(inputs: [clip([.fixed(1)], name: "a"), clip([.fixed(1)], name: "b")],
                                 outputs: [clip([.fixed(1), .fixed(6)], name: "x"), clip([.fixed(1)], name: "y")])
        XCTAssertEqual(check(card, [card.onnx!: two]), [
            "3:8: graph actions.onnx has 2 inputs (`a`, `b`); name the one to use with `input.name`",
            "4:9: graph actions.onnx has 2 outputs (`x`, `y`); name the one to use with `output.name`",
        ])
        let named = try self.card("""
            kind: 3d
            onnx: actions.onnx
            input: { name: video, layout: NCTHW, frames: 16, size: 112x112 }
            output: { name: scores, kind: logits, labels: labels.txt }
            """)
        XCTAssertEqual(check(named, [named.onnx!: two]), [
            "3:16: graph actions.onnx has no input named `video`; its inputs are `a`, `b`",
            "4:17: graph actions.onnx has no output named `scores`; its outputs are `x`, `y`",
        ])
    }

    func testTwoStreamFlowChannelsAndSplitCNNRNN() throws {
        let config = try ConfigLoader.load(text: ConfigSandbox.config(stages: "  - decode"),
                                           path: sandbox.path("pipeline.yaml"))
        let twoStream = try XCTUnwrap(config.model(named: "twostream")?.card)
        let rgb = ModelSignature(inputs: [clip([.symbolic("n"), .fixed(3), .fixed(224), .fixed(224)])],
                                 outputs: [clip([.symbolic("n"), .fixed(6)], name: "logits")])
        let flow = ModelSignature(inputs: [clip([.symbolic("n"), .fixed(10), .fixed(224), .fixed(224)])],
                                  outputs: [clip([.symbolic("n"), .fixed(6)], name: "logits")])
        XCTAssertEqual(check(twoStream, [twoStream.onnx!: rgb, twoStream.flow!.onnx: flow]).map {
            $0.replacingOccurrences(of: sandbox.root.path + "/", with: "")
        }, ["5:44: graph flow.onnx input `clip` float32[n, 10, 224, 224]: C (channels) is 10, but the card implies 20"])

        let cnnRNN = try XCTUnwrap(config.model(named: "cnnrnn")?.card)
        let encoder = ModelSignature(inputs: [clip([.symbolic("n"), .fixed(3), .fixed(112), .fixed(112)])],
                                     outputs: [clip([.symbolic("n"), .fixed(512)], name: "features")])
        let head = ModelSignature(inputs: [clip([.symbolic("n"), .fixed(16), .fixed(512)], name: "seq")],
                                  outputs: [clip([.symbolic("n"), .fixed(6)], name: "logits")])
        XCTAssertEqual(check(cnnRNN, [cnnRNN.encoder!.onnx: encoder, cnnRNN.head!.onnx: head]), [
            "4:32: graph head.onnx input `seq` float32[n, 16, 512]: T (frames) is 16, but the card implies 8",
        ])
        let flatHead = ModelSignature(inputs: [clip([.symbolic("n"), .fixed(4096)], name: "seq")],
                                      outputs: [clip([.symbolic("n"), .fixed(6)], name: "logits")])
        XCTAssertEqual(check(cnnRNN, [cnnRNN.encoder!.onnx: encoder, cnnRNN.head!.onnx: flatHead]), [
            "3:15: graph head.onnx input `seq` float32[n, 4096]: a recurrent head takes [N, T, features] "
                + "(3 dimensions), got 2",
        ])
    }

    func testProviderFailuresAreReportedAtTheGraphField() throws {
        struct Loader: ModelSignatureProvider {
            func signature(ofGraphAt path: String) throws -> ModelSignature {
                struct Unsupported: Error, CustomStringConvertible {
                    var description: String { "unsupported op `NonMaxSuppression` in node 12" }
                }
                throw Unsupported()
            }
        }
        let card = try card(r3dCard)
        XCTAssertEqual(card.check(with: Loader()).map { "\($0.line):\($0.column): \($0.message)" }, [
            "2:7: cannot load graph \(sandbox.path("models/actions.onnx")): unsupported op `NonMaxSuppression` in "
                + "node 12",
        ])
    }
}
