// `actiond dataset` in-process: the output format of the contract, labels and skipped windows, and — the point
// of the command — every tensor equal bit for bit to what the classify stage feeds the graph for that window.
import Foundation
import Pipeline
import Stages
import Tensor
import XCTest

final class DatasetTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("stages-dataset-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("clips"),
                                                withIntermediateDirectories: true)
        // Ground truth for the fixture video: walk, then wave from 1.0 s with a 0.2 s transition.
        try FileManager.default.copyItem(atPath: StagesFixtures.video,
                                         toPath: dir.appendingPathComponent("clips/s1-c00000.mp4").path)
        let frames = (0..<30).map { i in "{\"box\":[\(20 + 3 * i),40,40,40],\"index\":\(i),\"keypoints\":[],\"t\":\(Double(i) / 15)}" }
        try """
            {"clip":0,"fps":15,"frames":30,"height":120,"people":[{"frames":[\(frames.joined(separator: ","))],
            "id":0,"segments":[{"end":1.0,"label":"walk","start":0.0,"transition":0.0},
            {"end":2.0,"label":"wave","start":1.0,"transition":0.2}]}],"seconds":2.0,"seed":1,"version":1,
            "video":"s1-c00000.mp4","width":160}
            """.write(to: dir.appendingPathComponent("clips/s1-c00000.json"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func index(_ out: URL) throws -> [[String: Any]] {
        try String(contentsOf: out.appendingPathComponent("index.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    /// Writes a dataset for `card` with the serving options of `pipeline`, then checks each sample's tensors
    /// against the classifier's feeds for the same window.
    func checkSamples(card name: String, pipeline: String, every: Int = 1) throws -> ([[String: Any]], DatasetSummary) {
        let card = try StagesFixtures.card(name)
        let serving = try DatasetServing(config: StagesFixtures.pipeline(pipeline))
        let out = dir.appendingPathComponent("out-\(name)")
        var writer = DatasetWriter(card: card, serving: serving, out: out.path)
        writer.every = every
        try writer.begin()
        let files = try DatasetWriter.groundTruthFiles([dir.appendingPathComponent("clips").path])
        XCTAssertEqual(files.map { ($0 as NSString).lastPathComponent }, ["s1-c00000.json"])
        for file in files { try writer.add(groundTruth: file) }
        try writer.end()
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("labels.txt"), encoding: .utf8),
                       "idle\nwalk\nwave\njump\n")
        let classifier = try ClipClassifier(card: card, segments: 1)
        let clips = StagesFixtures.clips(try StagesFixtures.records(flow: card.kind == .twoStream), card: card,
                                         clip: serving.classify.clip, stride: serving.classify.stride,
                                         partial: serving.classify.partial)
        let samples = try index(out)
        for sample in samples {
            let name = sample["sample"] as! String
            let window = Int(name.suffix(3))!
            XCTAssertTrue(name.hasPrefix("s1-c00000-w"))
            XCTAssertEqual(sample["clip"] as? String, "s1-c00000")
            XCTAssertEqual(sample["start"] as! Double, (clips[window].start * 100).rounded() / 100, accuracy: 1e-9)
            _ = try classifier.scores(clips[window].items)
            let inputs = sample["inputs"] as! [String: String]
            XCTAssertEqual(inputs.count, classifier.lastFeeds.count)
            for feed in classifier.lastFeeds {
                let inputName = ClipInputs.inputName(card, role: feed.role)
                XCTAssertEqual(inputs[inputName], "tensors/\(name)-\(inputName).npy")
                let stored = try Tensor(npyFile: out.appendingPathComponent(inputs[inputName]!).path)
                XCTAssertEqual(stored.shape, feed.tensor.shape)
                XCTAssertEqual(stored.floats.map(\.bitPattern), feed.tensor.floats.map(\.bitPattern), name)
            }
        }
        return (samples, writer.summary)
    }

    func testThreeDSamplesLabelsAndTransitions() throws {
        let (samples, summary) = try checkSamples(card: "r3d", pipeline: "r3d")
        // Clips of 8 every 4 (pipeline r3d), transition [0.9, 1.1]: windows 2 and 3 hold more than half of it.
        XCTAssertEqual(samples.map { $0["sample"] as! String },
                       ["s1-c00000-w000", "s1-c00000-w001", "s1-c00000-w004", "s1-c00000-w005", "s1-c00000-w006"])
        XCTAssertEqual(samples.map { $0["label"] as! String }, ["walk", "walk", "wave", "wave", "wave"])
        XCTAssertEqual(samples.map { $0["label_index"] as! Int }, [1, 1, 2, 2, 2])
        XCTAssertEqual(summary.skippedTransition, 2)
        XCTAssertEqual(summary.samples, ["walk": 2, "wave": 3])
        let stored = try Tensor(npyFile: dir.appendingPathComponent("out-r3d/tensors/s1-c00000-w000-clip.npy").path)
        XCTAssertEqual(stored.shape, [3, 8, 32, 32], "NCTHW without the batch dimension")
    }

    func testTwoStreamSamplesAreTheRGBFrameAndTheFlowStack() throws {
        let (samples, _) = try checkSamples(card: "ts", pipeline: "ts")
        XCTAssertFalse(samples.isEmpty)
        let inputs = samples[0]["inputs"] as! [String: String]
        XCTAssertEqual(Set(inputs.keys), ["rgb", "flow"])
        XCTAssertEqual(try Tensor(npyFile: dir.appendingPathComponent("out-ts/" + inputs["flow"]!).path).shape,
                       [6, 32, 32])
    }

    func testTwoDSamplesAreTheCentreFrame() throws {
        let card = try StagesFixtures.card("rgb2d")
        var serving = DatasetServing(card: card)
        serving.decode = StagesFixtures.decode
        XCTAssertEqual(serving.classify.clip, 16)
        let out = dir.appendingPathComponent("out-2d")
        var writer = DatasetWriter(card: card, serving: serving, out: out.path)
        try writer.begin()
        let truth = dir.appendingPathComponent("clips/one.json")
        try """
            {"clip":0,"fps":15,"frames":30,"height":120,
            "people":[{"frames":[],"id":0,"segments":[{"end":2.0,"label":"jump","start":0.0,"transition":0.0}]}],
            "seconds":2.0,"seed":1,"version":1,"video":"s1-c00000.mp4","width":160}
            """.write(to: truth, atomically: true, encoding: .utf8)
        try writer.add(groundTruth: truth.path)
        try writer.end()
        // Clips of 16 every 8, partial dropped: windows at frames 0 and 8; each sample is its centre frame
        // (7 and 15), exactly as the classify stage preprocesses it.
        let samples = try index(out)
        XCTAssertEqual(samples.map { $0["sample"] as! String }, ["one-w000", "one-w001"])
        let records = try StagesFixtures.records(flow: false)
        for (sample, centre) in zip(samples, [7, 15]) {
            let path = out.appendingPathComponent((sample["inputs"] as! [String: String])["rgb"]!).path
            let stored = try Tensor(npyFile: path)
            XCTAssertEqual(stored.shape, [3, 32, 32])
            XCTAssertEqual(stored.floats, Preprocess.frame(records[centre].value.image, card: card).values)
        }
    }

    func testCNNRNNAndEvery() throws {
        let (all, _) = try checkSamples(card: "crnn", pipeline: "crnn")
        try FileManager.default.removeItem(at: dir.appendingPathComponent("out-crnn"))
        let (halved, _) = try checkSamples(card: "crnn", pipeline: "crnn", every: 2)
        XCTAssertEqual(halved.map { $0["sample"] as! String },
                       all.map { $0["sample"] as! String }.filter { Int($0.suffix(3))! % 2 == 0 })
    }

    func testPersonCropSamplesDifferFromWholeFrames() throws {
        let card = try StagesFixtures.card("r3d")
        let serving = try DatasetServing(config: StagesFixtures.pipeline("r3d"))
        var tensors: [DatasetCrop: [Float]] = [:]
        for crop in DatasetCrop.allCases {
            let out = dir.appendingPathComponent("out-\(crop.rawValue)")
            var writer = DatasetWriter(card: card, serving: serving, out: out.path)
            writer.crop = crop
            try writer.begin()
            try writer.add(groundTruth: dir.appendingPathComponent("clips/s1-c00000.json").path)
            try writer.end()
            let path = out.appendingPathComponent("tensors/s1-c00000-w000-clip.npy").path
            tensors[crop] = try Tensor(npyFile: path).floats
        }
        XCTAssertNotEqual(tensors[.whole], tensors[.person])
        // Window 0 holds frames 0-7: boxes x 20...81, y 40...80; the larger side 61 × 1.25 = 76.25 around
        // (50.5, 60). Frame 0 of the sample is that square of frame 0, preprocessed by the card.
        let region = PixelRect(x: 12.375, y: 21.875, width: 76.25, height: 76.25)
        let frame0 = try StagesFixtures.records(flow: false)[0].value.image
        let expected = Preprocess.frame(frame0, card: card, region: region).values
        let person = tensors[.person]!
        for c in 0..<3 {
            XCTAssertEqual(Array(person[(c * 8 * 1024)..<(c * 8 * 1024 + 1024)]),
                           Array(expected[(c * 1024)..<((c + 1) * 1024)]))
        }
    }
}
