// The `flow` stage: dense optical flow (DIS by default) between consecutive decoded frames, on their gray
// versions at the flow size, attached to the later frame. The two-stream classifier stacks these fields.
import Flow
import Foundation
import Media
import Pipeline

/// Turns RGB frames into the gray images the flow methods read, optionally resized.
public enum GrayConversion {
    /// BT.601 luma (0.299 R + 0.587 G + 0.114 B) of an RGB image, resized to `size` by stretching when given
    /// (the decode stage already fixed the aspect ratio).
    public static func gray(_ image: Image, size: PixelSize? = nil) -> GrayImage {
        let n = image.width * image.height
        var luma = [Float](repeating: 0, count: n)
        image.pixels.withUnsafeBufferPointer { src in
            for i in 0..<n {
                luma[i] = 0.299 * Float(src[3 * i]) + 0.587 * Float(src[3 * i + 1]) + 0.114 * Float(src[3 * i + 2])
            }
        }
        guard let size, size.width != image.width || size.height != image.height else {
            return GrayImage(width: image.width, height: image.height, pixels: luma)
        }
        let resized = Preprocess.resize(Planes(channels: 1, width: image.width, height: image.height,
                                               values: luma), width: size.width, height: size.height,
                                        mode: .stretch)
        return GrayImage(width: size.width, height: size.height, pixels: resized.values)
    }
}

/// Computes flow frame to frame, keeping only the previous gray image (and its field, for DIS's temporal
/// initialisation). Used by the flow stage and by `actiond dataset`, so both give identical fields.
public struct FlowComputer: Sendable {
    public let method: OpticalFlow
    public let size: PixelSize?
    private var previous: GrayImage?
    private var previousField: FlowField?

    /// DIS at the options' preset (`fast` unless the stage says otherwise) or Farneback.
    public init(options: FlowOptions, threads: Int = 1) {
        method = OpticalFlow(method: options.method, preset: options.preset, threads: threads)
        size = options.size
    }

    /// The flow from the previous frame to `image` (a zero field for the first frame).
    public mutating func next(_ image: Image) throws -> FlowField {
        let gray = GrayConversion.gray(image, size: size)
        defer { previous = gray }
        guard let previous else {
            let field = FlowField(width: gray.width, height: gray.height)
            return field
        }
        let field = try method.flow(from: previous, to: gray, initial: previousField)
        previousField = field
        return field
    }
}

/// The flow stage: frames in, the flow into each frame out (on the `flow` port, beside the frames).
public struct FlowStage: Stage {
    public typealias Input = Image
    public typealias Output = FlowField
    public let name = "flow"
    private var computer: FlowComputer

    public init(options: FlowOptions, threads: Int = 1) {
        computer = FlowComputer(options: options, threads: threads)
    }

    public mutating func process(_ input: Timestamped<Image>, emit: Emit<FlowField>) async throws {
        let field = try computer.next(input.value)
        try await emit(Timestamped(field, at: input.time, duration: input.duration))
    }
}
