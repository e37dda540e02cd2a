// Cuts a stream of timestamped items (frames, crops, flow fields) into fixed-length clips: T items taken every
// `sampling` items, a new clip every `stride` items, and a rule for the leftover items at the end.
import Foundation

/// How clips are cut.
public struct ClipWindowing: Sendable, Equatable {
    /// Items per clip (T).
    public var length: Int
    /// Take every `sampling`-th item into a clip (1: consecutive items). A clip spans (T − 1) × sampling + 1 items.
    public var sampling: Int
    /// Items between the starts of consecutive clips. Less than the span: clips overlap.
    public var stride: Int
    /// What to do with leftover items at the end of the stream that do not fill a clip.
    public var partial: PartialClipRule

    public init(length: Int, sampling: Int = 1, stride: Int, partial: PartialClipRule) {
        precondition(length >= 1 && sampling >= 1 && stride >= 1, "clip length, sampling and stride are >= 1")
        self.length = length
        self.sampling = sampling
        self.stride = stride
        self.partial = partial
    }

    /// Input items one clip covers, first to last.
    public var span: Int { (length - 1) * sampling + 1 }
}

/// T items cut from a stream, in time order.
public struct Clip<Item: Sendable>: Sendable {
    /// 0, 1, 2, … in the order clips are cut.
    public var index: Int
    /// Exactly `length` items; the last `padding` are repeats of the last real item.
    public var items: [Timestamped<Item>]
    public var padding: Int
    /// Media time of the first item.
    public var start: Double
    /// Media time where the last real item ends: its time plus its duration, or plus the spacing of the last two
    /// items seen when the clip was cut (streams give no look-ahead).
    public var end: Double
}

extension Clip: Equatable where Item: Equatable {}

/// Cuts clips from items pushed in time order. Pure logic: no timers, no I/O.
public struct ClipWindower<Item: Sendable>: Sendable {
    public let windowing: ClipWindowing
    /// Items from `bufferStart` on, kept until no future clip needs them.
    private var buffer: [Timestamped<Item>] = []
    private var bufferStart = 0
    /// Items received so far; the next item's index.
    private var received = 0
    /// Index of the first item of the next clip.
    private var nextStart = 0
    /// Last item index covered by an emitted clip (−1: none yet).
    private var coveredThrough = -1
    private var clipsCut = 0
    /// Spacing of the last two items, used for the end of a clip whose last item has no duration.
    private var lastSpacing: Double?
    private var previousTime: Double?

    public init(_ windowing: ClipWindowing) { self.windowing = windowing }

    /// Adds the next item; returns the clip it completes, if any.
    public mutating func push(_ item: Timestamped<Item>) -> Clip<Item>? {
        if let previousTime { lastSpacing = item.time - previousTime }
        previousTime = item.time
        let index = received
        received += 1
        if index >= nextStart {
            if buffer.isEmpty { bufferStart = index }
            buffer.append(item)
        }
        guard nextStart + windowing.span - 1 <= index else { return nil }
        let clip = cut(realCount: windowing.length)
        advance()
        return clip
    }

    /// The stream ended: with `.pad`, a last clip of the items not yet covered (padded by repeating its last real
    /// item); with `.drop`, nothing. Also nothing if every item is already in a clip.
    public mutating func finish() -> Clip<Item>? {
        defer {
            buffer.removeAll()
            bufferStart = received
            nextStart = received
        }
        guard windowing.partial == .pad, received > 0, received - 1 > coveredThrough, nextStart < received
        else { return nil }
        // Real items are those at nextStart + j × sampling that arrived.
        let realCount = (received - 1 - nextStart) / windowing.sampling + 1
        return cut(realCount: realCount)
    }

    /// Builds the clip starting at `nextStart` from its first `realCount` items, padding to `length`.
    private func cut(realCount: Int) -> Clip<Item> {
        var items: [Timestamped<Item>] = []
        items.reserveCapacity(windowing.length)
        for j in 0..<realCount { items.append(buffer[nextStart + j * windowing.sampling - bufferStart]) }
        let lastReal = items[items.count - 1]
        while items.count < windowing.length { items.append(lastReal) }
        let lastDuration = lastReal.duration ?? lastSpacing ?? 0
        return Clip(index: clipsCut, items: items, padding: windowing.length - realCount, start: items[0].time,
                    end: lastReal.time + lastDuration)
    }

    private mutating func advance() {
        coveredThrough = nextStart + windowing.span - 1
        clipsCut += 1
        nextStart += windowing.stride
        let drop = min(buffer.count, max(0, nextStart - bufferStart))
        buffer.removeFirst(drop)
        bufferStart += drop
    }
}

/// The windower as a stage: items in, clips out (stamped with the clip's start and length).
public struct ClipWindowStage<Item: Sendable>: Stage {
    public typealias Input = Item
    public typealias Output = Clip<Item>
    public let name: String
    private var windower: ClipWindower<Item>

    public init(name: String = "clips", _ windowing: ClipWindowing) {
        self.name = name
        windower = ClipWindower(windowing)
    }

    public mutating func process(_ input: Timestamped<Item>, emit: Emit<Clip<Item>>) async throws {
        if let clip = windower.push(input) { try await emit(Self.stamped(clip)) }
    }

    public mutating func finish(emit: Emit<Clip<Item>>) async throws {
        if let clip = windower.finish() { try await emit(Self.stamped(clip)) }
    }

    private static func stamped(_ clip: Clip<Item>) -> Timestamped<Clip<Item>> {
        Timestamped(clip, at: clip.start, duration: clip.end - clip.start)
    }
}

/// Clip buffers per track (per-person mode): each track id owns its own windower. A lost track's leftover
/// items are flushed or dropped by the windowing's partial-clip rule, exactly as at the end of a stream.
public struct TrackClipWindower<Item: Sendable>: Sendable {
    public let windowing: ClipWindowing
    private var windowers: [Int: ClipWindower<Item>] = [:]

    public init(_ windowing: ClipWindowing) { self.windowing = windowing }

    /// Track ids that currently hold items or clips in progress.
    public var activeTracks: [Int] { windowers.keys.sorted() }

    /// Adds the next item of `track` (a crop, a pose, …); returns the clip it completes, if any.
    public mutating func push(_ item: Timestamped<Item>, track: Int) -> Clip<Item>? {
        var windower = windowers[track] ?? ClipWindower(windowing)
        let clip = windower.push(item)
        windowers[track] = windower
        return clip
    }

    /// The tracker gave up on `track`: its buffers are released; with `.pad` its last partial clip is returned.
    public mutating func lose(_ track: Int) -> Clip<Item>? {
        guard var windower = windowers.removeValue(forKey: track) else { return nil }
        return windower.finish()
    }

    /// End of stream: every track is flushed by the partial rule. Clips by start time, then track id.
    public mutating func finish() -> [(track: Int, clip: Clip<Item>)] {
        var flushed: [(track: Int, clip: Clip<Item>)] = []
        for track in activeTracks {
            if let clip = lose(track) { flushed.append((track, clip)) }
        }
        return flushed.sorted { ($0.clip.start, $0.track) < ($1.clip.start, $1.track) }
    }
}
