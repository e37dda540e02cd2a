// The layouts of Ultralytics' exported detection and pose heads, and the check that a model's output has the
// layout its card declares, with a message that says what was expected and what the output is.

/// The rows of an Ultralytics detect or pose export, output shape `(1, rows, N)` with one column per anchor
/// (N = 2100 at 320×320, 8400 at 640×640: the cells of the stride 8, 16 and 32 grids):
///
/// - rows 0…3: the box centre x, y, width, height in input pixels (already decoded from the DFL bins);
/// - rows 4…4+C−1: the C class scores, already through a sigmoid (there is no objectness row);
/// - pose only, K·D rows: keypoint k's x, y (input pixels, already decoded) and, when D = 3, its visibility
///   score (already through a sigmoid), at rows `4 + C + k·D + 0, 1, 2`.
///
/// COCO detection: C = 80, 84 rows. COCO pose (Ultralytics' `*-pose.pt`): C = 1, K = 17, D = 3, 56 rows.
public struct HeadFormat: Sendable, Hashable, CustomStringConvertible {
    /// C, the number of class-score rows.
    public let classes: Int
    /// K, the number of keypoints (0 for a detect head).
    public let keypoints: Int
    /// D, the values per keypoint: 3 (x, y, visibility) or 2 (x, y); 0 for a detect head.
    public let keypointDimensions: Int

    /// A layout; throws `HeadFormatError.invalidFormat` for counts no Ultralytics head has.
    public init(classes: Int, keypoints: Int = 0, keypointDimensions: Int = 0) throws(HeadFormatError) {
        guard classes >= 1 else {
            throw HeadFormatError(.invalidFormat, "a head needs at least 1 class, not \(classes)")
        }
        if keypoints == 0 {
            guard keypointDimensions == 0 else {
                throw HeadFormatError(.invalidFormat,
                                      "keypoint dimensions \(keypointDimensions) given for a head without keypoints")
            }
        } else {
            guard keypoints > 0 else {
                throw HeadFormatError(.invalidFormat, "the number of keypoints cannot be negative (\(keypoints))")
            }
            guard keypointDimensions == 2 || keypointDimensions == 3 else {
                throw HeadFormatError(
                    .invalidFormat, "keypoints have 2 values (x, y) or 3 (x, y, visibility), not \(keypointDimensions)")
            }
        }
        self.classes = classes
        self.keypoints = keypoints
        self.keypointDimensions = keypointDimensions
    }

    private init(unchecked classes: Int, _ keypoints: Int, _ dimensions: Int) {
        self.classes = classes
        self.keypoints = keypoints
        self.keypointDimensions = dimensions
    }

    /// A detect head with `classes` class-score rows.
    public static func detect(classes: Int) throws(HeadFormatError) -> HeadFormat {
        try HeadFormat(classes: classes)
    }

    /// A pose head: `classes` class-score rows, then `keypoints` × `dimensions` keypoint rows.
    public static func pose(keypoints: Int = 17, dimensions: Int = 3, classes: Int = 1) throws(HeadFormatError)
        -> HeadFormat
    {
        guard keypoints >= 1 else {
            throw HeadFormatError(.invalidFormat, "a pose head needs at least 1 keypoint, not \(keypoints)")
        }
        return try HeadFormat(classes: classes, keypoints: keypoints, keypointDimensions: dimensions)
    }

    /// COCO detection: 80 classes, 84 rows.
    public static let cocoDetect = HeadFormat(unchecked: 80, 0, 0)
    /// COCO pose: one class (person), 17 keypoints × (x, y, visibility), 56 rows.
    public static let cocoPose = HeadFormat(unchecked: 1, 17, 3)

    /// Whether the head has keypoint rows.
    public var isPose: Bool { keypoints > 0 }

    /// The number of rows: 4 + C + K·D.
    public var rows: Int { 4 + classes + keypoints * keypointDimensions }

    /// The row of class `c`'s score.
    public func classRow(_ c: Int) -> Int { 4 + c }

    /// The first row of keypoint `k` (its x; y follows, then the visibility score when D = 3).
    public func keypointRow(_ k: Int) -> Int { 4 + classes + k * keypointDimensions }

    public var description: String {
        let classText = classes == 1 ? "1 class" : "\(classes) classes"
        if isPose {
            return "pose with \(classText) and \(keypoints) keypoints × \(keypointDimensions) (\(rows) rows: "
                + "4 box + \(classes) class score\(classes == 1 ? "" : "s") + \(keypoints * keypointDimensions) "
                + "keypoint values)"
        }
        return "detect with \(classText) (\(rows) rows: 4 box + \(classes) class score\(classes == 1 ? "" : "s"))"
    }

    // MARK: - Checking an output's shape

    /// The number of anchors N of an output of this layout, after checking its shape: `(1, rows, N)` (or
    /// `(rows, N)`). A `nil` dimension is symbolic (a graph's declared output, e.g. a dynamic batch or anchor
    /// axis); then the result is nil when N itself is symbolic. Throws `HeadFormatError.shapeMismatch` saying what
    /// was expected and what the shape is, with a guess at what the output is when it fits another layout.
    @discardableResult
    public func anchorCount(ofShape shape: [Int?]) throws(HeadFormatError) -> Int? {
        let shapeText = "[" + shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
        func mismatch(_ why: String) -> HeadFormatError {
            var message = "the card declares \(self), so the output should be [1, \(rows), N]; its shape is "
                + "\(shapeText): \(why)"
            if let hint = HeadFormat.guess(shape: shape, expected: self) { message += " (\(hint))" }
            return HeadFormatError(.shapeMismatch, message, format: self, shape: shape)
        }
        let rowsAxis: Int
        switch shape.count {
        case 3:
            if let batch = shape[0], batch != 1 {
                throw mismatch("batch \(batch); only a batch of 1 is decoded")
            }
            rowsAxis = 1
        case 2:
            rowsAxis = 0
        default:
            throw mismatch("\(shape.count) dimensions, not 3")
        }
        if let r = shape[rowsAxis], r != rows {
            throw mismatch("\(r) rows, not \(rows)")
        }
        let n = shape[rowsAxis + 1]
        if let n, n < 1 { throw mismatch("no anchors") }
        return n
    }

    /// The number of anchors N of an output of this fixed `shape` (see `anchorCount(ofShape:)`).
    public func anchorCount(ofShape shape: [Int]) throws(HeadFormatError) -> Int {
        // A fixed shape has no symbolic dimension, so the count is known.
        try anchorCount(ofShape: shape.map { Optional($0) })!
    }

    /// What a shape that does not fit `expected` looks like, if it looks like something.
    static func guess(shape: [Int?], expected: HeadFormat) -> String? {
        guard shape.count == 3, let a = shape[1], let b = shape[2] else { return nil }
        // End-to-end exports (NMS inside the graph: Ultralytics `nms=True`, or NMS-free heads with `nms=False`)
        // give (1, max_det, 6 + extra): x1, y1, x2, y2, score, class, then keypoints.
        if b >= 6, b < a, b - 6 == expected.keypoints * expected.keypointDimensions {
            return "it looks like an export with NMS inside, [1, max_det, 6 + keypoints]; export without it "
                + "(Ultralytics: leave `nms` unset)"
        }
        if b == expected.rows, a != expected.rows {
            return "its last two axes look swapped: [1, N, \(expected.rows)]"
        }
        var guesses: [String] = []
        // Pose guesses only for the usual one-class, 17-keypoint heads; any row count above 4 is some detect head.
        if a == 4 + 1 + 17 * 3 { guesses.append("pose with 1 class and 17 keypoints × 3") }
        if a == 4 + 1 + 17 * 2 { guesses.append("pose with 1 class and 17 keypoints × 2") }
        if a > 4 { guesses.append("detect with \(a - 4) class\(a == 5 ? "" : "es")") }
        guard !guesses.isEmpty else { return nil }
        return "\(a) rows fit " + guesses.joined(separator: ", or ")
    }
}

/// A head layout that is not valid, or a model output that does not have the layout its card declares.
public struct HeadFormatError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Opaque error code: new codes can be added without breaking callers that switch on them.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Counts no head has (no classes, keypoints with 4 values, ...).
        public static let invalidFormat = Code("invalid-format")
        /// An output whose shape does not fit the declared layout.
        public static let shapeMismatch = Code("shape-mismatch")
        /// An output buffer whose length is not the product of its shape.
        public static let valueCount = Code("value-count")
    }

    public var code: Code
    /// What is wrong, in one sentence that says what was expected.
    public var message: String
    /// The declared layout, when known.
    public var format: HeadFormat?
    /// The output's shape, when the error is about one (nil dimensions are symbolic).
    public var shape: [Int?]?

    public init(_ code: Code, _ message: String, format: HeadFormat? = nil, shape: [Int?]? = nil) {
        self.code = code
        self.message = message
        self.format = format
        self.shape = shape
    }

    public var description: String { message }
}
