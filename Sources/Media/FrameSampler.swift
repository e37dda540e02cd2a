// Resamples a stream of timestamped frames to a target rate inside a time window, by timestamp (not index):
// at each output time t the frame on screen is taken, i.e. the last frame with time ≤ t. Frames are dropped
// when the source is faster than the target and repeated when it is slower.

public struct FrameSampler<Frame> {
    /// Output frames per second; nil passes every frame in the window through.
    public let fps: Double?
    /// Window start in media seconds.
    public let start: Double
    /// Window end in media seconds (exclusive); nil = to the end.
    public let end: Double?

    private var pending: (frame: Frame, time: Double)?
    private var lastSourceInterval: Double?
    private var nextIndex = 0
    private var reachedEnd = false
    private var nextTime: Double { start + Double(nextIndex) / (fps ?? 1) }
    /// Tolerance for timestamps that land on the output grid up to rounding.
    private let epsilon = 1e-6

    public init(fps: Double? = nil, start: Double = 0, duration: Double? = nil) {
        self.fps = fps
        self.start = start
        self.end = duration.map { start + $0 }
    }

    /// True once every frame the window needs has been produced: the caller can stop decoding.
    public var isFinished: Bool {
        guard let end else { return false }
        return fps != nil ? nextTime >= end - epsilon : reachedEnd
    }

    /// Feeds one frame (in presentation order); returns the output frames it completes, with their output times.
    public mutating func push(_ frame: Frame, time: Double) -> [(frame: Frame, time: Double)] {
        guard fps != nil else {  // pass-through inside the window
            if time < start - epsilon { return [] }
            if let end, time >= end - epsilon { reachedEnd = true; return [] }
            return [(frame, time)]
        }
        var out: [(frame: Frame, time: Double)] = []
        if let pending {
            lastSourceInterval = time - pending.time
            // The pending frame is on screen for [pending.time, time): emit it for every grid time in there.
            while nextTime < time - epsilon, !isFinished {
                if nextTime >= pending.time - epsilon { out.append((pending.frame, nextTime)) }
                nextIndex += 1
            }
        }
        pending = (frame, time)
        return out
    }

    /// Flushes at the end of the stream: the last frame covers grid times up to one source frame interval past
    /// its timestamp (`frameDuration`, else the last interval seen), or the window end.
    public mutating func finish(frameDuration: Double? = nil) -> [(frame: Frame, time: Double)] {
        guard fps != nil, let last = pending else { return [] }
        pending = nil
        let shown = frameDuration ?? lastSourceInterval ?? 1 / (fps ?? 1)
        var limit = last.time + shown
        if let end { limit = min(limit, end) }
        var out: [(frame: Frame, time: Double)] = []
        while nextTime < limit - epsilon {
            if nextTime >= last.time - epsilon { out.append((last.frame, nextTime)) }
            nextIndex += 1
        }
        return out
    }
}
