// Decoded, converted pictures as plain Swift values, and the resize geometry that produced them.
@_exported import Vocabulary

/// Pixel layouts the Scaler produces.
public enum PixelFormat: String, Sendable, Codable {
    /// Interleaved 8-bit R, G, B.
    case rgb24
    /// 8-bit luma.
    case gray8
}

/// An 8-bit image, rows tightly packed (stride = width × channels).
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var format: PixelFormat
    public var pixels: [UInt8]
    /// Media time in seconds of the frame this image came from.
    public var time: Double
    /// Maps this image's pixel coordinates back to the source frame's (as displayed, after rotation).
    public var transform: ResizeTransform

    public init(width: Int, height: Int, format: PixelFormat, pixels: [UInt8], time: Double = 0,
                transform: ResizeTransform = .identity) {
        precondition(pixels.count == width * height * format.channels, "pixel buffer does not match size")
        self.width = width
        self.height = height
        self.format = format
        self.pixels = pixels
        self.time = time
        self.transform = transform
    }

    public var channels: Int { format.channels }

    /// Channel-planar float32 (C×H×W) in [0, 1]: the layout networks take (NCHW without N).
    public func planarFloat() -> [Float] {
        let c = channels, plane = width * height
        var out = [Float](repeating: 0, count: c * plane)
        out.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for i in 0..<plane {
                    for ch in 0..<c { dst[ch * plane + i] = Float(src[i * c + ch]) * (1 / 255) }
                }
            }
        }
        return out
    }
}

extension PixelFormat {
    public var channels: Int {
        switch self {
        case .rgb24: 3
        case .gray8: 1
        }
    }
}

/// target = source × scale + offset, per axis. Recorded by the Scaler so boxes found in the scaled image can
/// be mapped back to source pixels.
public struct ResizeTransform: Sendable, Equatable, Codable {
    public var scaleX: Double
    public var scaleY: Double
    public var offsetX: Double
    public var offsetY: Double

    public static let identity = ResizeTransform(scaleX: 1, scaleY: 1, offsetX: 0, offsetY: 0)

    public init(scaleX: Double, scaleY: Double, offsetX: Double, offsetY: Double) {
        self.scaleX = scaleX
        self.scaleY = scaleY
        self.offsetX = offsetX
        self.offsetY = offsetY
    }

    /// Source-frame coordinates of a point in the scaled image.
    public func toSource(x: Double, y: Double) -> (x: Double, y: Double) {
        ((x - offsetX) / scaleX, (y - offsetY) / scaleY)
    }

    /// Scaled-image coordinates of a point in the source frame.
    public func toTarget(x: Double, y: Double) -> (x: Double, y: Double) {
        (x * scaleX + offsetX, y * scaleY + offsetY)
    }

    /// The geometry of fitting a `sourceWidth`×`sourceHeight` frame into `width`×`height` with `mode`:
    /// the size the whole source is scaled to and where its top-left corner lands in the target.
    public static func fitting(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int, mode: ResizeMode)
        -> (scaledWidth: Int, scaledHeight: Int, transform: ResizeTransform)
    {
        let sw = Double(sourceWidth), sh = Double(sourceHeight)
        switch mode {
        case .stretch:
            return (width, height,
                    ResizeTransform(scaleX: Double(width) / sw, scaleY: Double(height) / sh, offsetX: 0, offsetY: 0))
        case .crop, .letterbox:
            let scale = mode == .crop ? max(Double(width) / sw, Double(height) / sh)
                                      : min(Double(width) / sw, Double(height) / sh)
            let scaledW = max(1, Int((sw * scale).rounded()))
            let scaledH = max(1, Int((sh * scale).rounded()))
            // Integer offsets: the scaled picture is placed (letterbox) or cut (crop) on whole pixels.
            let ox = Double((width - scaledW) / 2), oy = Double((height - scaledH) / 2)
            return (scaledW, scaledH,
                    ResizeTransform(scaleX: Double(scaledW) / sw, scaleY: Double(scaledH) / sh, offsetX: ox, offsetY: oy))
        }
    }
}
