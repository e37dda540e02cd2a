// One clip's world, decided up front from its seed: background, people (looks, action timelines, paths,
// depth), camera motion, lighting and sensor noise. Any frame can then be drawn on its own, in any order, and
// gives the same pixels and ground truth.
import Foundation
import SeededRandom

/// What to render; the command line's options.
public struct SynthOptions: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var fps: Int
    public var seconds: Double
    /// People in the clip: one prominent performer plus `people - 1` who walk or run across; in a busy scene
    /// the most people a clip has (each clip draws 1...people).
    public var people: Int
    /// Actions the performer draws from (the whole vocabulary by default).
    public var actions: [Action]
    /// Whether the performer changes action within the clip.
    public var switching: Bool
    /// Segment length range in seconds when switching.
    public var segmentSeconds: ClosedRange<Double>
    /// H.264 CRF; nil draws one per clip from 18…30 (varied compression is part of the world).
    public var quality: Int?
    /// Without switching, clip i performs `actions[i % actions.count]` instead of a random pick, so any run of
    /// a multiple of `actions.count` clips is exactly balanced.
    public var balanced: Bool
    /// A busy scene instead of one performer: 1...`people` people at all distances who stand and act, walk
    /// in and out and across, occlude each other and are hidden by props in front of them (docs/synth.md).
    public var busy: Bool

    public init(width: Int = 320, height: Int = 240, fps: Int = 15, seconds: Double = 4, people: Int = 1,
                actions: [Action] = Action.allCases, switching: Bool = false,
                segmentSeconds: ClosedRange<Double> = 1.5...3.5, quality: Int? = nil, balanced: Bool = false,
                busy: Bool = false) {
        self.width = width
        self.height = height
        self.fps = fps
        self.seconds = seconds
        self.people = people
        self.actions = actions
        self.switching = switching
        self.segmentSeconds = segmentSeconds
        self.quality = quality
        self.balanced = balanced
        self.busy = busy
    }

    public var frameCount: Int { max(1, Int((seconds * Double(fps)).rounded())) }
}

/// A person's actions over the clip: segments with smooth blends between neighbours.
struct Timeline: Sendable {
    struct Segment: Sendable {
        var action: Action
        var start: Double
        var end: Double
        /// Blend length centred on `start` (0 for the first).
        var transition: Double
        var motion: any Motion
    }
    var segments: [Segment]

    private func index(at t: Double) -> Int {
        var i = 0
        while i + 1 < segments.count && t >= segments[i + 1].start { i += 1 }
        return i
    }

    /// The pose and forward speed at `t`, blending across a boundary within half a transition of it.
    func state(at t: Double) -> (pose: BodyPose, speed: Double) {
        let i = index(at: t)
        let current = segments[i]
        var pose = current.motion.pose(at: t - current.start), speed = current.motion.speed(at: t - current.start)
        // Blend with the previous segment just after a boundary, or with the next one just before it.
        var partner: (Segment, Double)? = nil
        if current.transition > 0, t < current.start + current.transition / 2, i > 0 {
            partner = (segments[i - 1], 1 - ramp(t, current.start - current.transition / 2,
                                                 current.start + current.transition / 2))
        } else if i + 1 < segments.count, segments[i + 1].transition > 0,
                  t > segments[i + 1].start - segments[i + 1].transition / 2 {
            let next = segments[i + 1]
            partner = (next, ramp(t, next.start - next.transition / 2, next.start + next.transition / 2))
        }
        if let (other, weight) = partner, weight > 0 {
            pose = BodyPose.lerp(pose, other.motion.pose(at: t - other.start), weight)
            speed += (other.motion.speed(at: t - other.start) - speed) * weight
        }
        return (pose, speed)
    }
}

struct Performer: Sendable {
    var id: Int
    var shape: BodyShape
    var timeline: Timeline
    /// Per frame: world x of the pelvis (pixels), the ground line (pixels, frame rows; nearer is lower, so it
    /// orders drawing) and the standing height in pixels (before zoom).
    var x: [Double]
    var groundY: [Double]
    var scale: [Double]
}

public struct ClipScene: Sendable {
    public let options: SynthOptions
    public let seed: UInt64
    public let clip: Int
    let clipSeed: UInt64
    let background: Background
    /// Everyone in the clip; drawn far to near by their ground line in each frame.
    var performers: [Performer]
    /// Furniture, each drawn just before the person it belongs to.
    let seats: [Seat]
    /// Things standing on the floor that hide people behind them (busy scenes).
    var props: [Prop]
    let cameraX: [Double], cameraY: [Double]
    /// Camera zoom per frame about the picture centre (1 = none; some clips slowly zoom in or out).
    let zoom: [Double]
    let gain: [Float]
    let tint: SIMD3<Float>
    let light: Light
    let noiseSigma: Float
    /// Darkness of the contact shadows under people (0 = none).
    let shadowStrength: Double
    let vignette: [Float]
    /// CRF used for this clip.
    public let quality: Int

    public init(options: SynthOptions, seed: UInt64, clip: Int) {
        self.options = options
        self.seed = seed
        self.clip = clip
        let clipSeed = SplitMix64.derive(seed, UInt64(clip))
        self.clipSeed = clipSeed
        // Separate streams per concern, so changing one option (people, actions, CRF) leaves the rest of the
        // scene as it was: the same seed with --people 3 is the same performer in the same room, plus two.
        let stream = { (index: UInt64) in SplitMix64(seed: SplitMix64.derive(clipSeed, index)) }
        var rng = stream(1)
        let w = Double(options.width), h = Double(options.height), fps = Double(options.fps)
        let frames = options.frameCount, duration = options.seconds
        let horizon = h * rng.uniform(0.25, 0.45)
        background = Background(frameWidth: options.width, frameHeight: options.height, horizonY: horizon,
                                rng: &rng)
        let drawnQuality = rng.int(18...30)
        quality = options.quality ?? drawnQuality
        rng = stream(2)
        // The performer: big, near the bottom, doing the chosen actions.
        let groundY0 = h * rng.uniform(0.86, 0.97)
        let height0 = min(h * rng.uniform(0.5, 0.85), groundY0 - 0.03 * h)
        let shape0 = BodyShape.sample(&rng)
        var timelineRNG = stream(3)
        let timeline0 = ClipScene.performerTimeline(options, clip: clip, rng: &timelineRNG)
        // Integrate walking speed into a path (pixels), 4 sub-steps per frame.
        func path(_ timeline: Timeline, scale: Double, start: Double) -> [Double] {
            var xs = [Double](), x = start, t = 0.0
            let dt = 1 / fps / 4
            for _ in 0..<frames {
                xs.append(x)
                for _ in 0..<4 {
                    let state = timeline.state(at: t + dt / 2)
                    // Only the sideways part of the motion moves the person across the picture.
                    x += sin(state.pose.yaw * .pi / 180) * state.speed * scale * dt
                    t += dt
                }
            }
            return xs
        }
        // A busy scene has no performer for the camera to follow (its people are planned once the camera is).
        let travel = options.busy ? [Double](repeating: 0, count: frames) : path(timeline0, scale: height0, start: 0)
        // The camera follows a travelling performer part of the way, pans a little, and shakes.
        rng = stream(4)
        var follow = rng.uniform(0.55, 0.95), pan = rng.uniform(-0.03, 0.03) * w
        func drift(_ i: Int) -> Double { (1 - follow) * travel[i] - pan * Double(i) / fps }
        for _ in 0..<20 {
            let d = (0..<frames).map(drift)
            if d.max()! - d.min()! <= 0.5 * w { break }
            follow = min(1, follow + 0.05)
            pan *= 0.7
        }
        let drifts = (0..<frames).map(drift)
        let x0 = rng.uniform(0.25 * w - drifts.min()!, max(0.25 * w - drifts.min()!, 0.75 * w - drifts.max()!))
        let shake = rng.uniform(0, 0.008) * w
        var shakeTerms: [(Double, Double, Double, Double)] = []  // amplitude, frequency, phase x, phase y
        for _ in 0..<3 {
            shakeTerms.append((shake * rng.uniform(0.3, 1), rng.uniform(0.5, 6), rng.unit() * 2 * .pi,
                               rng.unit() * 2 * .pi))
        }
        var camX = [Double](), camY = [Double]()
        for i in 0..<frames {
            let t = Double(i) / fps
            var jx = 0.0, jy = 0.0
            for (a, f, px, py) in shakeTerms {
                jx += a * sin(2 * .pi * f * t + px)
                jy += 0.7 * a * sin(2 * .pi * f * 1.3 * t + py)
            }
            camX.append(follow * travel[i] + pan * t + jx)
            camY.append(jy)
        }
        cameraX = camX
        cameraY = camY
        // A slow zoom in 30 % of clips, between 1 and 1.15 (never below 1, so the background always covers).
        if rng.chance(0.3) {
            let from = rng.uniform(1, 1.15), to = rng.uniform(1, 1.15)
            zoom = (0..<frames).map { i in from + (to - from) * smoothstep(Double(i) / Double(max(1, frames - 1))) }
        } else {
            zoom = [Double](repeating: 1, count: frames)
        }
        guard !options.busy else {
            let plan = BusyPlan(options: options, horizon: horizon, cameraX: camX, zoom: zoom, stream: stream)
            performers = plan.people
            seats = plan.seats
            props = plan.props
            (gain, tint, light, noiseSigma, shadowStrength, vignette) = ClipScene.sensor(options, rng: stream(5))
            return
        }
        let constant = { (value: Double) in [Double](repeating: value, count: frames) }
        var people = [Performer(id: 0, shape: shape0, timeline: timeline0, x: travel.map { $0 + x0 },
                                groundY: constant(groundY0), scale: constant(height0))]
        // Others walk or run across at their own depth: nearer (lower) means bigger, perspective from the horizon.
        let heightPerRow = height0 / (groundY0 - horizon)  // body height per image row below the horizon
        let gaits = options.actions.filter(\.isGait)
        for id in 1..<max(1, options.people) {
            rng = stream(100 + UInt64(id))
            let ground = rng.uniform(horizon + 0.35 * (groundY0 - horizon), groundY0 + 0.1 * h)
            let scale = heightPerRow * (ground - horizon)
            let action: Action = gaits.isEmpty ? .walk : rng.pick(gaits)
            let motion = sampleMotion(action, duration: duration, rng: &rng)
            let timeline = Timeline(segments: [.init(action: action, start: 0, end: duration, transition: 0,
                                                     motion: motion)])
            let direction: Double = timeline.state(at: 0).pose.yaw >= 0 ? 1 : -1
            let enter = rng.uniform(0, 0.6) * duration
            let enterFrame = min(frames - 1, Int(enter * fps))
            let entry = direction > 0 ? camX[enterFrame] - 0.4 * scale : camX[enterFrame] + w + 0.4 * scale
            let steps = path(timeline, scale: scale, start: 0)
            let offset = entry - steps[enterFrame]
            people.append(Performer(id: id, shape: BodyShape.sample(&rng), timeline: timeline,
                                    x: steps.map { $0 + offset }, groundY: constant(ground), scale: constant(scale)))
        }
        performers = people.sorted { ($0.groundY[0], $0.id) < ($1.groundY[0], $1.id) }
        rng = stream(6)
        seats = Seat.plan(for: people[0], fps: fps, rng: &rng).map { [$0] } ?? []
        props = []
        (gain, tint, light, noiseSigma, shadowStrength, vignette) = ClipScene.sensor(options, rng: stream(5))
    }

    /// Light: slow drift, sometimes a switch, a colour cast, a shading light from a random upper side; sensor
    /// noise, contact shadow strength and vignetting.
    static func sensor(_ options: SynthOptions, rng: SplitMix64)
        -> (gain: [Float], tint: SIMD3<Float>, light: Light, noiseSigma: Float, shadowStrength: Double,
            vignette: [Float])
    {
        var rng = rng
        let w = Double(options.width), h = Double(options.height), fps = Double(options.fps)
        let frames = options.frameCount, duration = options.seconds
        let g0 = rng.uniform(0.75, 1.15), ga = rng.uniform(0, 0.15), period = rng.uniform(2, 8)
        let phase = rng.unit() * 2 * .pi
        let step = rng.chance(0.15) ? (rng.uniform(0, duration), rng.uniform(0.7, 1.3)) : nil
        let gain = (0..<frames).map { i in
            let t = Double(i) / fps
            var g = g0 * (1 + ga * sin(2 * .pi * t / period + phase))
            if let (at, factor) = step { g *= 1 + (factor - 1) * ramp(t, at, at + 0.2) }
            return Float(g)
        }
        let tint = SIMD3<Float>(Float(1 + 0.05 * rng.normal()), Float(1 + 0.03 * rng.normal()),
                                Float(1 + 0.05 * rng.normal()))
        let lx = rng.uniform(-0.8, 0.8)
        let dir = normalized(Vec3(lx, -rng.uniform(0.3, 0.8), rng.uniform(0.5, 1)))
        let light = Light(direction: SIMD3<Float>(Float(dir.x), Float(dir.y), Float(dir.z)),
                          ambient: Float(rng.uniform(0.35, 0.55)), diffuse: Float(rng.uniform(0.5, 0.75)))
        let noiseSigma = Float(rng.uniform(1, 6)) / 255
        let shadowStrength = rng.uniform(0.15, 0.5)
        let strength = Float(rng.uniform(0, 0.35))
        var vig = [Float](repeating: 1, count: options.width * options.height)
        for y in 0..<options.height {
            for x in 0..<options.width {
                let dx = Float((Double(x) + 0.5) / w - 0.5) * 2, dy = Float((Double(y) + 0.5) / h - 0.5) * 2
                vig[y * options.width + x] = 1 - strength * 0.5 * (dx * dx + dy * dy)
            }
        }
        return (gain, tint, light, noiseSigma, shadowStrength, vig)
    }

    /// The performer's segments: one action, or a chain of actions with blended changes.
    static func performerTimeline(_ options: SynthOptions, clip: Int, rng: inout SplitMix64) -> Timeline {
        let duration = options.seconds
        let actions = options.actions.isEmpty ? Action.allCases : options.actions
        guard options.switching, actions.count > 1, duration >= 2 * options.segmentSeconds.lowerBound else {
            let drawn = rng.pick(actions)
            let action = options.balanced ? actions[clip % actions.count] : drawn
            return Timeline(segments: [.init(action: action, start: 0, end: duration, transition: 0,
                                             motion: sampleMotion(action, duration: duration, rng: &rng))])
        }
        var segments: [Timeline.Segment] = []
        var t = 0.0
        var previous: Action? = nil
        let shortest = options.segmentSeconds.lowerBound
        while t < duration - 1e-9 {
            var length = rng.uniform(options.segmentSeconds.lowerBound, options.segmentSeconds.upperBound)
            if duration - (t + length) < shortest { length = duration - t }
            // Seated after sit_down: only stand_up fits; standing: anything but stand_up. Never repeat.
            let seated = previous?.endsSeated ?? false
            var candidates = actions.filter { $0 != previous && $0.startsSeated == seated }
            if candidates.isEmpty { candidates = actions.filter { $0 != previous } }
            let action = rng.pick(candidates)
            // Blends stay well inside both neighbours, so at most two actions ever mix.
            let transition = previous == nil ? 0
                : min(rng.uniform(0.3, 0.6), 0.4 * min(length, segments.last!.end - segments.last!.start))
            segments.append(.init(action: action, start: t, end: t + length, transition: transition,
                                  motion: sampleMotion(action, duration: length, rng: &rng)))
            previous = action
            t += length
        }
        segments[segments.count - 1].end = duration
        return Timeline(segments: segments)
    }

    public var frameCount: Int { options.frameCount }
    public var personCount: Int { performers.count }

    /// Where something standing at world x `worldX` on ground row `groundY` appears in frame `frame`, and the
    /// frame's zoom: screen = centre + (world − camera − centre) × zoom.
    func screenOrigin(worldX: Double, groundY: Double, frame: Int) -> (x: Double, y: Double, zoom: Double) {
        let z = zoom[frame], cx = Double(options.width) / 2, cy = Double(options.height) / 2
        return (cx + (worldX - cameraX[frame] - cx) * z, cy + (groundY - cameraY[frame] - cy) * z, z)
    }

    /// The action segments of person `id`.
    func segments(of performer: Performer) -> [ActionSegmentTruth] {
        performer.timeline.segments.map {
            ActionSegmentTruth(label: $0.action.rawValue, start: rounded($0.start, 4), end: rounded($0.end, 4),
                               transition: rounded($0.transition, 4))
        }
    }
}
