// The knobs of Ultralytics' non_max_suppression, with the defaults its predictor uses.

/// Which candidates survive decoding: Ultralytics' `conf`, `iou`, `classes`, `agnostic_nms`, `max_det` and
/// `max_nms`, with its predictor's defaults (conf 0.25, iou 0.7, max_det 300; `non_max_suppression`'s own iou
/// default, 0.45, is never used by the predictor). `multi_label` is always off: each anchor gives at most one
/// detection, of its best class.
///
/// ```yaml
/// conf: 0.25        # an anchor is a candidate when its best class score is > conf (compared in float32)
/// iou: 0.7          # a candidate is suppressed by a better one whose IoU with it is > iou
/// agnostic: false   # true: any two boxes suppress each other; false: only boxes of the same class
/// classes: null     # e.g. [0]: keep only anchors whose best class is one of these
/// max_det: 300      # at most this many detections, the best first
/// max_nms: 30000    # at most this many candidates go into NMS, the best by score
/// ```
public struct NMSSettings: Sendable, Hashable {
    /// An anchor is a candidate when its best class score is strictly greater than this (0…1).
    public var confidence: Float
    /// A box is suppressed by a kept, better-scored box when their IoU is strictly greater than this (0…1).
    public var iou: Double
    /// Whether boxes of different classes suppress each other.
    public var agnostic: Bool
    /// Only anchors whose best class is one of these (nil: all). As in Ultralytics the filter applies to the best
    /// class: an anchor whose best class is filtered out is dropped even if another class of it passes `conf`.
    public var classes: [Int]?
    /// At most this many detections.
    public var maxDetections: Int
    /// At most this many candidates, the best by score, go into NMS (ties in anchor order).
    public var maxCandidates: Int

    public init(confidence: Float = 0.25, iou: Double = 0.7, agnostic: Bool = false, classes: [Int]? = nil,
                maxDetections: Int = 300, maxCandidates: Int = 30000)
    {
        self.confidence = confidence
        self.iou = iou
        self.agnostic = agnostic
        self.classes = classes
        self.maxDetections = maxDetections
        self.maxCandidates = maxCandidates
    }

    /// Ultralytics' `max_wh`: class-aware NMS shifts each box by `class × 7680` pixels so boxes of different classes
    /// never overlap, and runs one NMS over all of them. The IoU of two boxes of the same class is computed on the
    /// shifted coordinates in float32, as there (see `DetectionDecoder`).
    public static let classOffset: Float = 7680
}
