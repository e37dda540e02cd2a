// The one record that runs down the whole-frame chain: the decoded frame, and the flow into it once the flow
// stage has run. The config's `StreamKind` ports say which fields earlier stages must have filled.
import Flow
import Media

/// A decoded frame at the pipeline's working size, plus what later stages computed for it.
public struct FrameRecord: Sendable {
    /// RGB24 at the decode size.
    public var image: Image
    /// Flow from the previous decoded frame to this one (zero for the first frame), at the flow size.
    public var flow: FlowField?

    public init(image: Image, flow: FlowField? = nil) {
        self.image = image
        self.flow = flow
    }
}
