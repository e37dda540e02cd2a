// COCO's object keypoint similarity (OKS) and its 17 keypoints: the pose counterpart of IoU, for evaluation and
// tests. Same arithmetic as pycocotools' COCOeval.computeOks.
import Foundation
import Vocabulary

/// COCO's 17 person keypoints, in the order COCO pose models (Ultralytics' `*-pose` included) emit them.
public enum COCOKeypoints {
    public static let names = [
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
        "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
        "right_ankle",
    ]

    /// Per-keypoint falloff σ of OKS, from COCO's annotation study (the spread of human annotators around each
    /// point, relative to the object's scale): tight on the face (0.025), loose on the hips (0.107). Written
    /// as pycocotools writes them, the values divided by 10, so the doubles are the same.
    public static let sigmas: [Double] = [
        0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89,
    ].map { $0 / 10 }
}

/// COCO's object keypoint similarity of a predicted pose to a true one, in 0…1 (1: every labelled keypoint exact).
///
/// For each labelled true keypoint (`visibility[i] > 0`, COCO's v = 1 occluded or 2 visible) the error
/// `e = d² / (2σ)² / (area + ε) / 2` (d the distance, σ `sigmas[i]`, `area` the true object's segment area in
/// squared pixels, ε the spacing of 1.0), and OKS is the mean of `exp(−e)` over those keypoints. Predicted
/// scores are ignored. With no keypoint labelled COCO measures how far each predicted keypoint lies outside
/// twice the true box instead, over all keypoints: that needs `truthBox`; without it the result is nil.
public func oks(predicted: [Keypoint], truth: [Keypoint], visibility: [Int], area: Double,
                truthBox: PixelRect? = nil, sigmas: [Double] = COCOKeypoints.sigmas) -> Double?
{
    precondition(predicted.count == truth.count && truth.count == visibility.count && truth.count == sigmas.count,
                 "oks: \(predicted.count) predicted, \(truth.count) true keypoints, \(visibility.count) "
                 + "visibilities and \(sigmas.count) sigmas")
    let labelled = visibility.contains { $0 > 0 }
    if !labelled && truthBox == nil { return nil }
    let denominator = area + Double.ulpOfOne  // numpy's spacing(1)
    var sum = 0.0
    var count = 0
    for i in truth.indices where !labelled || visibility[i] > 0 {
        let dx: Double, dy: Double
        if labelled {
            dx = predicted[i].x - truth[i].x
            dy = predicted[i].y - truth[i].y
        } else {
            // Twice the true box, centred on it: [x − w, x + 2w] × [y − h, y + 2h].
            let b = truthBox!
            let x0 = b.x - b.width, x1 = b.x + b.width * 2
            let y0 = b.y - b.height, y1 = b.y + b.height * 2
            dx = max(0, x0 - predicted[i].x) + max(0, predicted[i].x - x1)
            dy = max(0, y0 - predicted[i].y) + max(0, predicted[i].y - y1)
        }
        let variance = (sigmas[i] * 2) * (sigmas[i] * 2)
        let e = (dx * dx + dy * dy) / variance / denominator / 2
        sum += exp(-e)
        count += 1
    }
    return sum / Double(count)
}
