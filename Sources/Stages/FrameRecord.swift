// One item of a clip: a decoded frame at the pipeline's working size, the flow into it when the pipeline has a
// flow stage, and, in per-track mode, the track's box on that frame (the tube the clip follows).
import Flow
import Media
import Pipeline

public struct FrameRecord: Sendable {
    /// RGB24 at the decode size.
    public var image: Image
    /// Flow from the previous decoded frame to this one (zero for the first frame), at the flow size.
    public var flow: FlowField?
    /// The track's box on this frame, in working-frame pixels (nil: the whole frame).
    public var box: PixelRect?

    public init(image: Image, flow: FlowField? = nil, box: PixelRect? = nil) {
        self.image = image
        self.flow = flow
        self.box = box
    }
}
