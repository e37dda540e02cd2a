// Ground truth written beside each clip, and its byte-stable JSON form: keys sorted, numbers in fixed
// formats (pixels with 2 decimals, seconds with 4), so the same seed always gives the same bytes.
// Decodable, so pipeline code and tests can read it back with JSONDecoder.
import Foundation
import TextFormat

public struct GroundTruth: Sendable, Equatable, Decodable {
    /// 2 added each person frame's `visible` fraction; version 1 files read with `visible` nil.
    public static let currentVersion = 2

    public var version: Int
    /// File name of the video beside this JSON.
    public var video: String
    public var width: Int
    public var height: Int
    public var fps: Int
    public var frames: Int
    public var seconds: Double
    /// The run's seed (`--seed`) and this clip's number in the run; together they reproduce the clip.
    public var seed: UInt64
    public var clip: Int
    public var people: [PersonTruth]

    public init(version: Int = GroundTruth.currentVersion, video: String, width: Int, height: Int, fps: Int,
                frames: Int, seconds: Double, seed: UInt64, clip: Int, people: [PersonTruth]) {
        self.version = version
        self.video = video
        self.width = width
        self.height = height
        self.fps = fps
        self.frames = frames
        self.seconds = seconds
        self.seed = seed
        self.clip = clip
        self.people = people
    }
}

public struct PersonTruth: Sendable, Equatable, Decodable {
    public var id: Int
    /// What the person does, covering [0, seconds] without gaps or overlaps.
    public var segments: [ActionSegmentTruth]
    /// Frames in which some of the person's box is inside the picture.
    public var frames: [PersonFrameTruth]

    public init(id: Int, segments: [ActionSegmentTruth], frames: [PersonFrameTruth]) {
        self.id = id
        self.segments = segments
        self.frames = frames
    }
}

public struct ActionSegmentTruth: Sendable, Equatable, Decodable {
    public var label: String
    public var start: Double
    public var end: Double
    /// Seconds of smooth blending from the previous action, centred on `start` (0 for the first segment).
    public var transition: Double

    public init(label: String, start: Double, end: Double, transition: Double) {
        self.label = label
        self.start = start
        self.end = end
        self.transition = transition
    }
}

/// Visibility of a keypoint, COCO convention.
public enum KeypointVisibility: Int, Sendable, Equatable, Decodable {
    /// Outside the picture.
    case outside = 0
    /// In the picture but hidden (by another person or the person's own body).
    case occluded = 1
    case visible = 2
}

public struct KeypointTruth: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var visibility: KeypointVisibility

    public init(x: Double, y: Double, visibility: KeypointVisibility) {
        self.x = x
        self.y = y
        self.visibility = visibility
    }
}

public struct PersonFrameTruth: Sendable, Equatable, Decodable {
    /// Frame number (0-based) and its time in seconds (index / fps).
    public var index: Int
    public var t: Double
    /// [x, y, width, height] in pixels: the whole body's extent, clipped to the picture.
    public var box: [Double]
    /// 17 keypoints in COCO order, pixel coordinates (origin at the top-left corner of the picture).
    public var keypoints: [KeypointTruth]
    /// Pixels of the picture where this person is on top, divided by the pixels the person would cover drawn
    /// alone on a canvas without edges (0…1, 2 decimals): leaving the picture and being hidden both lower it.
    /// Nil in files written before it existed (version 1).
    public var visible: Double?

    public init(index: Int, t: Double, box: [Double], keypoints: [KeypointTruth], visible: Double? = nil) {
        self.index = index
        self.t = t
        self.box = box
        self.keypoints = keypoints
        self.visible = visible
    }

    enum CodingKeys: String, CodingKey { case index, t, box, keypoints, visible }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = try c.decode(Int.self, forKey: .index)
        t = try c.decode(Double.self, forKey: .t)
        box = try c.decode([Double].self, forKey: .box)
        let raw = try c.decode([[Double]].self, forKey: .keypoints)
        keypoints = try raw.map { triple in
            guard triple.count == 3, let v = KeypointVisibility(rawValue: Int(triple[2])) else {
                throw DecodingError.dataCorruptedError(forKey: .keypoints, in: c,
                                                       debugDescription: "keypoint must be [x, y, v] with v in 0...2")
            }
            return KeypointTruth(x: triple[0], y: triple[1], visibility: v)
        }
        visible = try c.decodeIfPresent(Double.self, forKey: .visible)
    }
}

extension GroundTruth {
    /// Parses a ground-truth file written by `json()`.
    public static func load(_ path: String) throws -> GroundTruth {
        try JSONDecoder().decode(GroundTruth.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// The canonical JSON text: sorted keys, fixed number formats, one person frame per line.
    public func json() -> String {
        var out = "{\"clip\":\(clip),\"fps\":\(fps),\"frames\":\(frames),\"height\":\(height),\"people\":["
        for (p, person) in people.enumerated() {
            out += p == 0 ? "\n" : ",\n"
            out += "{\"frames\":["
            for (f, frame) in person.frames.enumerated() {
                out += f == 0 ? "\n" : ",\n"
                out += "{\"box\":["
                out += frame.box.map { decimal($0, digits: 2) }.joined(separator: ",")
                out += "],\"index\":\(frame.index),\"keypoints\":["
                out += frame.keypoints.map {
                    "[\(decimal($0.x, digits: 2)),\(decimal($0.y, digits: 2)),\($0.visibility.rawValue)]"
                }.joined(separator: ",")
                out += "],\"t\":\(decimal(frame.t, digits: 4))"
                if let visible = frame.visible { out += ",\"visible\":\(decimal(visible, digits: 2))" }
                out += "}"
            }
            out += "],\"id\":\(person.id),\"segments\":["
            out += person.segments.map {
                "{\"end\":\(decimal($0.end, digits: 4)),\"label\":\(jsonString($0.label)),"
                    + "\"start\":\(decimal($0.start, digits: 4)),\"transition\":\(decimal($0.transition, digits: 4))}"
            }.joined(separator: ",")
            out += "]}"
        }
        out += "],\"seconds\":\(decimal(seconds, digits: 4)),\"seed\":\(seed),\"version\":\(version),"
        out += "\"video\":\(jsonString(video)),\"width\":\(width)}\n"
        return out
    }
}

/// `value` rounded to `digits` decimals, as the file writes it: ground truth holds what its file says (and, the
/// value being that close to a decimal, `decimal` prints it the same whatever its rounding of ties).
func rounded(_ value: Double, _ digits: Int) -> Double {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return (value * scale).rounded() / scale
}
