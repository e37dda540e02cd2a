// Turns the raw output of an Ultralytics detect or pose export into detections in source pixels: candidate
// filter, class-aware or agnostic NMS and the map back through the input geometry, matching
// ultralytics.utils.nms.non_max_suppression (with torchvision's NMS, as its predictor runs it) and
// ultralytics.utils.ops.scale_boxes / scale_coords.
import Vocabulary

/// Decodes one output of an Ultralytics detect or pose head (`HeadFormat`) into `Detection`s.
///
/// What it does, in Ultralytics' order and arithmetic (`non_max_suppression` with `multi_label=False`):
///
/// 1. Each anchor's best class: the largest class score (the first such class on ties).
/// 2. Candidates: anchors whose best score is `> settings.confidence` (float32 comparison) and, if
///    `settings.classes` is set, whose best class is listed. Boxes go from centre/size to corners in float32
///    (`x1 = cx − w/2`, `x2 = cx + w/2`).
/// 3. Candidates are ordered by score, best first, equal scores in anchor order (torchvision sorts stably); above
///    `settings.maxCandidates` only the first that many are kept.
/// 4. Greedy NMS with torchvision's semantics: walking that order, a candidate not yet suppressed is kept and
///    suppresses every later candidate whose IoU with it is `> settings.iou`. The IoU is computed as torchvision's
///    CPU kernel does, in float32: `inter / (area_i + area_j − inter)` (a 0/0 of two empty boxes suppresses
///    nothing). Class-aware NMS is Ultralytics' offset trick: boxes are shifted by `class × 7680` px
///    (`NMSSettings.classOffset`) and the IoU of two same-class boxes is computed on the shifted coordinates, which
///    float32 rounds more coarsely for higher classes (steps of 1/16 px around class 79) — done here too, so
///    borderline decisions agree. Boxes of different classes never suppress each other (Ultralytics would let them
///    if a box reached more than 7680 px past its neighbour, which an input of at most 7680 px cannot produce).
/// 5. The first `settings.maxDetections` kept. Stopping the greedy walk there gives the same list.
/// 6. Boxes and keypoints mapped to source pixels and clipped by `InputGeometry` (`scale_boxes`, `scale_coords`).
///
/// The decoder keeps its work arrays between calls and never allocates per candidate: after the first frame a
/// call allocates the result (one array, plus one keypoint array per detection for pose heads) and whatever the
/// standard library's sort takes. At 8400 anchors (640×640) a call takes one to a few milliseconds on one core.
public struct DetectionDecoder: Sendable {
    /// The layout of the output this decoder reads.
    public let format: HeadFormat
    /// Thresholds and limits; may be changed between calls.
    public var settings: NMSSettings
    /// How many anchors passed the confidence threshold and the class filter in the last call (before the
    /// `maxCandidates` cap and NMS).
    public private(set) var candidateCount = 0

    private struct Candidate {
        var score: Float
        var anchor: Int32
        var classIndex: Int32
        // Corners in input pixels, as Ultralytics' xywh2xyxy gives them in float32.
        var x1: Float, y1: Float, x2: Float, y2: Float
    }

    private var bestScore: [Float] = []
    private var bestClass: [Int32] = []
    private var classAllowed: [Bool] = []
    private var candidates: [Candidate] = []
    // NMS works class by class (all candidates at once when agnostic) on planes: one array per quantity, the
    // candidates grouped by class and in score order within a class, so its inner loop has no branches and
    // vectorises. The corners shifted by class × classOffset, the shifted boxes' areas, a suppressed flag; where
    // each group starts, and where each candidate went.
    private var planes: [Float] = []
    private var suppressed: [UInt8] = []
    private var groupStart: [Int] = []
    private var groupNext: [Int] = []
    private var position: [Int] = []
    private var kept: [Int] = []

    public init(format: HeadFormat, settings: NMSSettings = NMSSettings()) {
        self.format = format
        self.settings = settings
    }

    /// Decodes `output` (C order, shape `shape`: `(1, rows, N)` or `(rows, N)`), a picture placed in the input by
    /// `geometry`. Throws `HeadFormatError` when the shape does not fit `format` or `output` has another length.
    public mutating func decode(_ output: UnsafeBufferPointer<Float>, shape: [Int], geometry: InputGeometry)
        throws(HeadFormatError) -> [Detection]
    {
        let n = try format.anchorCount(ofShape: shape)
        guard output.count == format.rows * n, let base = output.baseAddress else {
            throw HeadFormatError(.valueCount, "an output of shape \(shape) has \(format.rows * n) values, but "
                                  + "\(output.count) were given", format: format, shape: shape)
        }
        selectCandidates(base, anchors: n)
        candidateCount = candidates.count
        guard !candidates.isEmpty, settings.maxDetections > 0 else { return [] }
        candidates.sort { $0.score > $1.score || ($0.score == $1.score && $0.anchor < $1.anchor) }
        if candidates.count > settings.maxCandidates {
            candidates.removeLast(candidates.count - max(settings.maxCandidates, 0))
        }
        suppress()
        return detections(base, anchors: n, geometry: geometry)
    }

    /// `decode` over an array (see the buffer version).
    public mutating func decode(_ output: [Float], shape: [Int], geometry: InputGeometry) throws(HeadFormatError)
        -> [Detection]
    {
        try output.withUnsafeBufferPointer { (buffer) throws(HeadFormatError) -> [Detection] in
            try decode(buffer, shape: shape, geometry: geometry)
        }
    }

    // MARK: - Steps

    /// Steps 1 and 2: each anchor's best class, then the anchors that pass the threshold and the class filter.
    private mutating func selectCandidates(_ base: UnsafePointer<Float>, anchors n: Int) {
        let classes = format.classes
        if bestScore.count < n {
            bestScore = [Float](repeating: 0, count: n)
            bestClass = [Int32](repeating: 0, count: n)
        }
        // Class-major: each class row is contiguous, so the running maximum streams through memory.
        bestScore.withUnsafeMutableBufferPointer { best in
            bestClass.withUnsafeMutableBufferPointer { label in
                let first = base + 4 * n
                for a in 0..<n {
                    best[a] = first[a]
                    label[a] = 0
                }
                if classes > 1 {
                    for c in 1..<classes {
                        let row = base + (4 + c) * n
                        let c32 = Int32(c)
                        for a in 0..<n where row[a] > best[a] {
                            best[a] = row[a]
                            label[a] = c32
                        }
                    }
                }
            }
        }
        let filter = settings.classes
        if let filter {
            if classAllowed.count != classes { classAllowed = [Bool](repeating: false, count: classes) }
            for c in 0..<classes { classAllowed[c] = false }
            for c in filter where c >= 0 && c < classes { classAllowed[c] = true }
        }
        let confidence = settings.confidence
        candidates.removeAll(keepingCapacity: true)
        bestScore.withUnsafeBufferPointer { best in
            bestClass.withUnsafeBufferPointer { label in
                for a in 0..<n where best[a] > confidence {
                    let c = label[a]
                    if filter != nil && !classAllowed[Int(c)] { continue }
                    let cx = base[a], cy = base[n + a], w = base[2 * n + a], h = base[3 * n + a]
                    let hw = w / 2, hh = h / 2
                    candidates.append(Candidate(score: best[a], anchor: Int32(a), classIndex: c,
                                                x1: cx - hw, y1: cy - hh, x2: cx + hw, y2: cy + hh))
                }
            }
        }
    }

    /// Steps 4 and 5: greedy NMS over the sorted candidates; `kept` lists the survivors' positions, best first.
    ///
    /// Boxes of different classes never suppress each other in class-aware NMS, so the greedy walk is run per
    /// class over that class's candidates in score order, then the survivors are read back in the global order;
    /// a box's fate depends only on the better boxes of its class, so this is the same as one walk over all.
    /// A class's walk stops after `maxDetections` keeps (the global list is full before any later box of it).
    /// Each kept box is compared with every later candidate of its group, suppressed or not (a flag set twice
    /// is still set), so the loop has no branches. `iou > threshold` is decided in float32 against the largest
    /// float32 not above the threshold: the same as torchvision's comparison of the float32 IoU with the double.
    private mutating func suppress() {
        let count = candidates.count
        let limit = settings.maxDetections
        let agnostic = settings.agnostic
        var threshold = Float(settings.iou)
        if Double(threshold) > settings.iou { threshold = threshold.nextDown }
        if suppressed.count < count {
            suppressed = [UInt8](repeating: 0, count: count)
            position = [Int](repeating: 0, count: count)
            planes = [Float](repeating: 0, count: 5 * count)
        }
        // Group by class, keeping the score order inside each group (a counting sort).
        let groups = agnostic ? 1 : format.classes
        if groupStart.count < groups + 1 { groupStart = [Int](repeating: 0, count: groups + 1) }
        for g in 0...groups { groupStart[g] = 0 }
        if agnostic {
            groupStart[1] = count
        } else {
            for c in candidates { groupStart[Int(c.classIndex) + 1] += 1 }
            for g in 0..<groups { groupStart[g + 1] += groupStart[g] }
        }
        // groupStart[g] is now where group g begins; groupNext walks each group as it is filled.
        if groupNext.count < groups { groupNext = [Int](repeating: 0, count: groups) }
        for g in 0..<groups { groupNext[g] = groupStart[g] }
        for (i, c) in candidates.enumerated() {
            let g = agnostic ? 0 : Int(c.classIndex)
            let p = groupNext[g]
            groupNext[g] += 1
            position[i] = p
            // Ultralytics' class offset: boxes + class × max_wh (float32); areas of the shifted boxes.
            let shift = agnostic ? 0 : Float(c.classIndex) * NMSSettings.classOffset
            let x1 = c.x1 + shift, y1 = c.y1 + shift, x2 = c.x2 + shift, y2 = c.y2 + shift
            planes[p] = x1
            planes[count + p] = y1
            planes[2 * count + p] = x2
            planes[3 * count + p] = y2
            planes[4 * count + p] = (x2 - x1) * (y2 - y1)
            suppressed[p] = 0
        }
        suppressed.withUnsafeMutableBufferPointer { gone in
            planes.withUnsafeBufferPointer { plane in
                let x1 = plane.baseAddress!, y1 = x1 + count, x2 = y1 + count, y2 = x2 + count, area = y2 + count
                for g in 0..<groups {
                    let end = groupStart[g + 1]
                    var keptHere = 0
                    for i in groupStart[g]..<end where gone[i] == 0 {
                        keptHere += 1
                        if keptHere == limit { break }
                        let ax1 = x1[i], ay1 = y1[i], ax2 = x2[i], ay2 = y2[i], aArea = area[i]
                        for j in (i + 1)..<end {
                            // torchvision's CPU kernel: std::max/std::min, clamp at 0, inter / (a + b − inter).
                            let w = Self.larger(0, Self.smaller(ax2, x2[j]) - Self.larger(ax1, x1[j]))
                            let h = Self.larger(0, Self.smaller(ay2, y2[j]) - Self.larger(ay1, y1[j]))
                            let inter = w * h
                            let overlap = inter / (aArea + area[j] - inter)
                            gone[j] |= overlap > threshold ? 1 : 0
                        }
                    }
                }
            }
        }
        kept.removeAll(keepingCapacity: true)
        for i in 0..<count where suppressed[position[i]] == 0 {
            kept.append(i)
            if kept.count == limit { break }
        }
    }

    /// `std::max(a, b)`: `b` when `a < b`, else `a` (one instruction, no NaN special case).
    @inline(__always) private static func larger(_ a: Float, _ b: Float) -> Float { a < b ? b : a }
    /// `std::min(a, b)`: `b` when `b < a`, else `a`.
    @inline(__always) private static func smaller(_ a: Float, _ b: Float) -> Float { b < a ? b : a }

    /// Step 6: the kept candidates in source pixels, with their keypoints.
    private func detections(_ base: UnsafePointer<Float>, anchors n: Int, geometry: InputGeometry) -> [Detection] {
        let k = format.keypoints
        let d = format.keypointDimensions
        var result: [Detection] = []
        result.reserveCapacity(kept.count)
        for i in kept {
            let c = candidates[i]
            let a = Int(c.anchor)
            var points: [Keypoint] = []
            if k > 0 {
                points.reserveCapacity(k)
                for p in 0..<k {
                    let row = format.keypointRow(p)
                    let xy = geometry.clippedSourcePoint(x: Double(base[row * n + a]),
                                                         y: Double(base[(row + 1) * n + a]))
                    let score: Float = d == 3 ? base[(row + 2) * n + a] : 1
                    points.append(Keypoint(x: xy.x, y: xy.y, score: score))
                }
            }
            let box = geometry.sourceBox(x1: Double(c.x1), y1: Double(c.y1), x2: Double(c.x2), y2: Double(c.y2))
            result.append(Detection(box: box, score: c.score, classIndex: Int(c.classIndex), keypoints: points,
                                    anchor: a))
        }
        return result
    }
}
