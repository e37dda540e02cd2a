// A rectangle in pixel coordinates: person boxes in a frame, the crop a clip is cut from, a track's box in the
// source picture. One type for all of them, in the lowest module that needs it.
import Foundation

/// A rectangle in an image's pixel coordinates (x, y of the top-left corner; may be fractional).
public struct PixelRect: Sendable, Hashable {
    public var x: Double, y: Double, width: Double, height: Double
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// The component-wise mean of `rects` (nil when empty): a track's mean box over a clip or a segment.
    public static func mean(_ rects: [PixelRect]) -> PixelRect? {
        guard !rects.isEmpty else { return nil }
        let n = Double(rects.count)
        return PixelRect(x: rects.map(\.x).reduce(0, +) / n, y: rects.map(\.y).reduce(0, +) / n,
                         width: rects.map(\.width).reduce(0, +) / n, height: rects.map(\.height).reduce(0, +) / n)
    }
}
