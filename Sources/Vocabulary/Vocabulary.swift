// The few value types every layer names: how a frame is fitted to a size, the flow methods and DIS presets,
// pixel sizes and rectangles. Declared once here (no dependencies) so the config, the media layer, the flow
// methods and the stages speak of the same types instead of mirroring each other's enums.

/// How a source frame is fitted to a target size.
public enum ResizeMode: String, Sendable, Codable, CaseIterable {
    /// Scale each axis independently to the target; aspect ratio is not kept.
    case stretch
    /// Scale so the shorter side fits, then cut the centre (what most action models train with).
    case crop
    /// Scale so the whole frame fits, pad the rest with a fill colour (what detectors expect).
    case letterbox
}

/// The dense flow methods.
public enum FlowMethod: String, CaseIterable, Sendable, Equatable {
    case dis, farneback
}

/// DIS speed/accuracy presets (the same patch sizes, strides, iterations and finest scale as OpenCV's): `fast`
/// works down to a quarter of the flow size, `medium` to half, with denser patches.
public enum DISPreset: String, CaseIterable, Sendable, Equatable {
    case ultrafast, fast, medium
}

/// A width × height in pixels, written `WIDTHxHEIGHT` (e.g. `320x240`).
public struct PixelSize: Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
    public var description: String { "\(width)x\(height)" }

    /// Parses `320x240`; nil for anything else or sizes outside 1...16384.
    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), (1...16384).contains(w),
              (1...16384).contains(h) else { return nil }
        self.init(width: w, height: h)
    }
}

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
