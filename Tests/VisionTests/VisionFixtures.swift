// The Ultralytics parity fixtures (tools/fixtures/make_yolo_fixtures.py writes them; docs/fixtures.md): raw ONNX
// Runtime outputs of Ultralytics exports as .npy, and what Ultralytics' own post-processing made of them as JSON.
import Foundation
import Tensor
import Vision
import Vocabulary

enum VisionFixtures {
    /// Found through the source path (the folder is excluded from the test bundle).
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// The decoding cases, one per exported model and picture.
    static let caseNames = [
        "yolov8n-detect-bus", "yolov8n-pose-zidane", "yolo11n-detect-zidane-1280x722", "yolo11n-pose-bus-500x333",
        "yolo11n-pose-zidane-stretch",
    ]

    static func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try JSONDecoder().decode(T.self, from: data)
    }

    static func decodingCase(_ name: String) throws -> DecodingCase {
        try decode(DecodingCase.self, name + ".json")
    }

    /// The raw output values (float32, C order) and their shape.
    static func output(of fixture: DecodingCase) throws -> (values: [Float], shape: [Int]) {
        let path = directory.appendingPathComponent(fixture.output).path
        let array = try NPYArray(npyFile: path)
        guard array.element == .float32 else { throw NPYError(path: path, "expected float32, not \(array.element)") }
        let values = array.payload.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return (values, array.shape)
    }
}

struct DecodingCase: Decodable {
    struct LetterboxParameters: Decodable {
        var new_unpad: [Int]
        var left: Int
        var top: Int
        var right: Int
        var bottom: Int
        var ratio: [Double]
    }

    struct Format: Decodable {
        var classes: Int
        var keypoints: Int
        var dimensions: Int
    }

    struct Setting: Decodable {
        var name: String
        var conf: Double
        var iou: Double
        var agnostic: Bool
        var classes: [Int]?
        var max_det: Int
        var max_nms: Int
        var candidates: Int
        var torchvision_agrees_with_torchnms: Bool
        var detections: [ExpectedDetection]

        var nms: NMSSettings {
            NMSSettings(confidence: Float(conf), iou: iou, agnostic: agnostic, classes: classes,
                        maxDetections: max_det, maxCandidates: max_nms)
        }
    }

    struct ExpectedDetection: Decodable {
        var anchor: Int
        var `class`: Int
        var score: Float
        /// x1, y1, x2, y2 in source pixels.
        var box: [Double]
        /// x, y, visibility of each keypoint, flat.
        var keypoints: [Double]?
    }

    var model: String
    var image: String
    var resize: String
    var source: [Int]
    var input: [Int]
    var letterbox: LetterboxParameters
    var format: Format
    var output: String
    var shape: [Int]
    var settings: [Setting]

    var headFormat: HeadFormat {
        get throws {
            format.keypoints == 0
                ? try HeadFormat.detect(classes: format.classes)
                : try HeadFormat.pose(keypoints: format.keypoints, dimensions: format.dimensions,
                                      classes: format.classes)
        }
    }

    var geometry: InputGeometry {
        InputGeometry.fitting(resize == "stretch" ? .stretch : .letterbox,
                              source: PixelSize(width: source[0], height: source[1]),
                              input: PixelSize(width: input[0], height: input[1]))
    }
}

struct LetterboxCase: Decodable {
    struct Mapping: Decodable {
        var ratio: [Double]
        var new_unpad: [Int]
        var left: Int
        var top: Int
        var right: Int
        var bottom: Int
        var boxes: [[Double]]
        var source_boxes: [[Double]]
        var points: [[Double]]
        var source_points: [[Double]]
    }

    var source: [Int]
    var input: [Int]
    var letterbox: Mapping
    var stretch: Mapping
}

struct OKSCase: Decodable {
    var predicted: [[Double]]
    var truth: [[Double]]
    var visibility: [Int]
    var area: Double
    var truth_box: [Double]
    var oks: Double
}
