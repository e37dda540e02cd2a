// The gray image the flow methods read: row-major Float intensities in 0...255, independent of any decoder.
// Frames from `Media` are converted to this by the caller, so `Flow` depends on no other actiond module.

/// A single-channel image, row-major, intensities nominally in 0...255.
public struct GrayImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height` intensities, row after row.
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height,
                     "GrayImage: \(pixels.count) pixels for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A constant image.
    public init(width: Int, height: Int, value: Float = 0) {
        self.init(width: width, height: height, pixels: [Float](repeating: value, count: width * height))
    }

    /// From 8-bit luma bytes with a row stride of `bytesPerRow` (>= width).
    public init(width: Int, height: Int, bytes: UnsafeBufferPointer<UInt8>, bytesPerRow: Int) {
        precondition(bytesPerRow >= width && bytes.count >= (height > 0 ? (height - 1) * bytesPerRow + width : 0))
        var pixels = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width { pixels[y * width + x] = Float(bytes[y * bytesPerRow + x]) }
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// From tightly packed 8-bit luma bytes.
    public init(width: Int, height: Int, bytes: [UInt8]) {
        self = bytes.withUnsafeBufferPointer { GrayImage(width: width, height: height, bytes: $0, bytesPerRow: width) }
    }

    @inlinable public subscript(x: Int, y: Int) -> Float {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// Rounded and clamped to 8 bits (what a decoder would hand us).
    public func quantizedBytes() -> [UInt8] {
        pixels.map { UInt8(max(0, min(255, $0.rounded()))) }
    }

    /// The same image with every intensity rounded to 8 bits.
    public func quantized() -> GrayImage {
        GrayImage(width: width, height: height, pixels: quantizedBytes().map(Float.init))
    }
}
