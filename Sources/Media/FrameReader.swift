// Decoder + sampler: the frames of a time window at a target rate, seeking to the window start when the
// container allows it.

public final class FrameReader {
    public let decoder: VideoDecoder
    private var sampler: FrameSampler<DecodedFrame>
    private var ready: [(frame: DecodedFrame, time: Double)] = []
    private var readyIndex = 0
    private var ended = false

    /// `fps` nil keeps every frame of the window; `start`/`duration` in media seconds.
    public init(decoder: VideoDecoder, fps: Double? = nil, start: Double = 0, duration: Double? = nil)
        throws(MediaError)
    {
        guard fps.map({ $0 > 0 && $0.isFinite }) ?? true else {
            throw MediaError(.invalidArgument, source: decoder.source, operation: "sample",
                             reason: "fps must be a positive number")
        }
        guard start >= 0, duration.map({ $0 > 0 }) ?? true else {
            throw MediaError(.invalidArgument, source: decoder.source, operation: "sample",
                             reason: "start must be ≥ 0 and duration > 0")
        }
        self.decoder = decoder
        sampler = FrameSampler(fps: fps, start: start, duration: duration)
        if start > 0 { try decoder.seek(to: start) }
    }

    /// The next sampled frame and its output time (on the fps grid, or the frame's own time without fps).
    public func next() throws(MediaError) -> (frame: DecodedFrame, time: Double)? {
        while readyIndex >= ready.count {
            if ended || sampler.isFinished { return nil }
            ready = []
            readyIndex = 0
            if let frame = try decoder.nextFrame() {
                ready = sampler.push(frame, time: frame.time)
            } else {
                ended = true
                ready = sampler.finish()
            }
        }
        defer { readyIndex += 1 }
        return ready[readyIndex]
    }
}
