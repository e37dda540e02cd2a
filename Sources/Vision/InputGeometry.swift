// Where a source picture lands in a detector's input: Ultralytics' LetterBox (aspect kept, padding split around
// it) or a plain stretch, and the way back from input pixels to source pixels that Ultralytics' scale_boxes and
// scale_coords take, so boxes and keypoints come out where Ultralytics puts them.
import Vocabulary

/// The placement of a source picture inside a network input, and the maps between the two pixel grids.
///
/// The letterbox is Ultralytics' `LetterBox(new_shape, auto=False, scale_fill=False, scaleup=True, center=True)`
/// (what its predictor uses for an exported model of fixed size; the padding, value 114, is the caller's business):
///
/// - `r = min(H / h, W / w)` (`scale`), the resized picture is `round(w·r) × round(h·r)`, each side at least 1,
///   rounded as Python's `round` rounds, half to even (`1280×722` at `r = 0.25` is 180 rows tall, not 181);
/// - the spare columns `dw = W − round(w·r)` are split `left = round(dw/2 − 0.1)`, `right = round(dw/2 + 0.1)`,
///   i.e. the odd column goes to the right (rows likewise, the odd row to the bottom).
///
/// The way back is `scale_boxes`/`scale_coords` as Ultralytics 8.4 has them: subtract the padding, divide by the
/// scale the picture was actually resized by on each axis (`round(w·r) / w` and `round(h·r) / h`, not `r`), clip
/// to the source picture `[0, w] × [0, h]`. A stretch has no padding and its own scale per axis
/// (`W / w`, `H / h`), which is what `scale_boxes(..., ratio_pad=((H/h, W/w), (0, 0)), padding=False)` does.
public struct InputGeometry: Sendable, Hashable, CustomStringConvertible {
    /// How the picture was fitted.
    public enum Fit: String, Sendable, Hashable {
        /// Aspect ratio kept, the rest of the input padded (Ultralytics' `LetterBox`).
        case letterbox
        /// Each axis scaled to the input independently (Ultralytics' `LetterBox(scale_fill=True)`).
        case stretch
    }

    public var fit: Fit
    /// The source picture's size.
    public var source: PixelSize
    /// The network input's size.
    public var input: PixelSize
    /// The size the whole source picture was resized to before padding (`new_unpad`); the input's size for a
    /// stretch.
    public var resized: PixelSize
    /// Columns of padding left of the picture.
    public var padLeft: Int
    /// Rows of padding above the picture.
    public var padTop: Int

    /// Columns of padding right of the picture.
    public var padRight: Int { input.width - resized.width - padLeft }
    /// Rows of padding below the picture.
    public var padBottom: Int { input.height - resized.height - padTop }

    /// Input pixels per source pixel along x, as the picture was resized: `resized.width / source.width`.
    public var scaleX: Double { Double(resized.width) / Double(source.width) }
    /// Input pixels per source pixel along y: `resized.height / source.height`.
    public var scaleY: Double { Double(resized.height) / Double(source.height) }

    /// Ultralytics' `r = min(H / h, W / w)` for a letterbox (the ratio `LetterBox` reports for both axes);
    /// `scaleX` and `scaleY` differ from it by the rounding of the resized size.
    public var scale: Double {
        min(Double(input.height) / Double(source.height), Double(input.width) / Double(source.width))
    }

    /// A placement given explicitly (sizes and padding must fit inside the input).
    public init(fit: Fit, source: PixelSize, input: PixelSize, resized: PixelSize, padLeft: Int, padTop: Int) {
        precondition(source.width > 0 && source.height > 0 && input.width > 0 && input.height > 0,
                     "InputGeometry: sizes must be positive (source \(source), input \(input))")
        precondition(padLeft >= 0 && padTop >= 0 && padLeft + resized.width <= input.width
                     && padTop + resized.height <= input.height,
                     "InputGeometry: a \(resized) picture at (\(padLeft), \(padTop)) does not fit in \(input)")
        self.fit = fit
        self.source = source
        self.input = input
        self.resized = resized
        self.padLeft = padLeft
        self.padTop = padTop
    }

    /// Ultralytics' letterbox of `source` into `input` (see the type's documentation for the arithmetic).
    public static func letterbox(source: PixelSize, input: PixelSize) -> InputGeometry {
        let r = min(Double(input.height) / Double(source.height), Double(input.width) / Double(source.width))
        // Python's round(): half to even.
        let width = max(Int((Double(source.width) * r).rounded(.toNearestOrEven)), 1)
        let height = max(Int((Double(source.height) * r).rounded(.toNearestOrEven)), 1)
        // round(dw / 2 - 0.1): dw / 2 is a whole or a half number, so this is floor(dw / 2) (the 0.1 only
        // steers the halves, which half-to-even would otherwise send to the even side).
        let left = Int((Double(input.width - width) / 2 - 0.1).rounded(.toNearestOrEven))
        let top = Int((Double(input.height - height) / 2 - 0.1).rounded(.toNearestOrEven))
        return InputGeometry(fit: .letterbox, source: source, input: input,
                             resized: PixelSize(width: width, height: height), padLeft: max(left, 0),
                             padTop: max(top, 0))
    }

    /// A plain stretch of `source` to `input`: no padding, separate x and y scales.
    public static func stretch(source: PixelSize, input: PixelSize) -> InputGeometry {
        InputGeometry(fit: .stretch, source: source, input: input, resized: input, padLeft: 0, padTop: 0)
    }

    /// `fit` of `source` into `input`.
    public static func fitting(_ fit: Fit, source: PixelSize, input: PixelSize) -> InputGeometry {
        switch fit {
        case .letterbox: return letterbox(source: source, input: input)
        case .stretch: return stretch(source: source, input: input)
        }
    }

    public var description: String {
        "\(fit.rawValue) \(source) -> \(input) (picture \(resized) at \(padLeft),\(padTop))"
    }

    // MARK: - Maps

    /// The source point under input point (`x`, `y`), not clipped: `((x − padLeft) / scaleX, (y − padTop) /
    /// scaleY)`. Ultralytics' arithmetic, in the same order (subtract, then divide).
    @inlinable
    public func sourcePoint(x: Double, y: Double) -> (x: Double, y: Double) {
        ((x - Double(padLeft)) / scaleX, (y - Double(padTop)) / scaleY)
    }

    /// The source point under input point (`x`, `y`), clipped to `[0, width] × [0, height]` of the source
    /// (Ultralytics' `scale_coords` then `clip_coords`, for keypoints).
    @inlinable
    public func clippedSourcePoint(x: Double, y: Double) -> (x: Double, y: Double) {
        let p = sourcePoint(x: x, y: y)
        return (min(max(p.x, 0), Double(source.width)), min(max(p.y, 0), Double(source.height)))
    }

    /// The input point a source point lands on (the forward map; not clipped).
    @inlinable
    public func inputPoint(x: Double, y: Double) -> (x: Double, y: Double) {
        (x * scaleX + Double(padLeft), y * scaleY + Double(padTop))
    }

    /// The source box of an input box given by its corners, each corner mapped and clipped to the source picture
    /// (Ultralytics' `scale_boxes` then `clip_boxes`): a box partly outside the picture is cut at its edge, one
    /// wholly outside has zero width or height.
    @inlinable
    public func sourceBox(x1: Double, y1: Double, x2: Double, y2: Double) -> PixelRect {
        let a = clippedSourcePoint(x: x1, y: y1)
        let b = clippedSourcePoint(x: x2, y: y2)
        return PixelRect(x: a.x, y: a.y, width: b.x - a.x, height: b.y - a.y)
    }

    /// The input box of a source box (the forward map; not clipped).
    public func inputBox(_ box: PixelRect) -> PixelRect {
        let a = inputPoint(x: box.x, y: box.y)
        let b = inputPoint(x: box.x + box.width, y: box.y + box.height)
        return PixelRect(x: a.x, y: a.y, width: b.x - a.x, height: b.y - a.y)
    }
}
