// What a detector or pose model found: a box in source pixels, a score, a class and, for pose models, keypoints.
import Vocabulary

/// One keypoint: where (source pixels, or input pixels where a function says so) and how sure the model is.
public struct Keypoint: Sendable, Hashable {
    public var x: Double
    public var y: Double
    /// The visibility score (0…1, already through a sigmoid); 1 for heads whose keypoints have no score (D = 2).
    public var score: Float

    public init(x: Double, y: Double, score: Float = 1) {
        self.x = x
        self.y = y
        self.score = score
    }
}

/// One detection after NMS, in the source picture's pixels.
public struct Detection: Sendable, Hashable {
    /// The box in source pixels, top-left corner and size, clipped to the source picture. Ultralytics' xyxy box
    /// is (`box.x`, `box.y`, `box.x + box.width`, `box.y + box.height`).
    public var box: PixelRect
    /// The best class score (already through the head's sigmoid).
    public var score: Float
    /// The index of the best class, counting the head's class rows from 0.
    public var classIndex: Int
    /// The keypoints in source pixels, clipped to the source picture, in the head's order (COCO's 17 for COCO
    /// pose models: `COCOKeypoints.names`); empty for a detect head.
    public var keypoints: [Keypoint]
    /// The output column (anchor) the detection came from: for tracing a detection back to the raw output.
    public var anchor: Int

    public init(box: PixelRect, score: Float, classIndex: Int, keypoints: [Keypoint] = [], anchor: Int = 0) {
        self.box = box
        self.score = score
        self.classIndex = classIndex
        self.keypoints = keypoints
        self.anchor = anchor
    }
}
