// A busy scene: 1...people people at all distances from the camera who stand and act, walk across, towards or
// away from the camera, come in and leave; and props on the floor in front of and between them. A pinhole
// camera over a flat floor places everything, so nearer means bigger, lower in the picture and drawn later.
import Foundation
import SeededRandom

/// The floor seen by a busy clip's camera before its pan, shake and zoom. A point at lateral offset X and height
/// Y (body units: standing height 1) at distance D appears at x = width/2 + X·f/D, row = horizon + (H − Y)·f/D,
/// with H the camera's height above the floor and f the focal length in pixels; a person at D is f/D pixels tall.
struct Stage: Sendable {
    var width: Double
    var horizon: Double
    var cameraHeight: Double
    var focal: Double

    func scale(_ distance: Double) -> Double { focal / distance }
    func groundRow(_ distance: Double) -> Double { horizon + cameraHeight * focal / distance }
    func point(_ x: Double, _ y: Double, _ distance: Double) -> SIMD2<Double> {
        SIMD2(width / 2 + x * focal / distance, horizon + (cameraHeight - y) * focal / distance)
    }
    /// Lateral offset that puts distance `distance` at picture column `column` when the camera is at `cameraX`.
    func lateral(column: Double, cameraX: Double, distance: Double) -> Double {
        (column + cameraX - width / 2) * distance / focal
    }
}

/// A motion facing `degrees` further round: a gait heading another way, a person with their back to the camera.
struct Turned: Motion {
    var motion: any Motion
    var degrees: Double
    func pose(at t: Double) -> BodyPose {
        var p = motion.pose(at: t)
        p.yaw += degrees
        return p
    }
    func speed(at t: Double) -> Double { motion.speed(at: t) }
}

/// The people, seats and props of one busy clip.
struct BusyPlan {
    private(set) var people: [Performer] = []
    private(set) var seats: [Seat] = []
    private(set) var props: [Prop] = []

    /// What a person does in the clip.
    enum Role {
        /// Stays in one place doing non-gait actions (sometimes with their back to the camera).
        case stander
        /// Walks in, stops to do something, and (time permitting) walks on.
        case visitor
        /// Walks or runs across, partly towards or away from the camera.
        case crosser
        /// Walks or runs mostly towards or away from the camera.
        case depthWalker
    }

    private let options: SynthOptions
    private let stage: Stage
    private let cameraX: [Double]
    /// Distances at which a person's apparent height (zoom included) is 90 % and 15 % of the frame height.
    private let nearest: Double, farthest: Double

    init(options: SynthOptions, horizon: Double, cameraX: [Double], zoom: [Double],
         stream: (UInt64) -> SplitMix64) {
        self.options = options
        self.cameraX = cameraX
        let h = Double(options.height)
        var rng = stream(7)
        // Camera between table and eye height; focal length for a vertical field of view of about 37–53°.
        stage = Stage(width: Double(options.width), horizon: horizon, cameraHeight: rng.uniform(0.5, 0.9),
                      focal: h * rng.uniform(1, 1.5))
        nearest = stage.focal * zoom.max()! / (0.9 * h)
        farthest = stage.focal * zoom.min()! / (0.15 * h)
        let count = rng.int(1...max(1, options.people))
        let propCount = rng.chance(0.1) ? 0 : rng.int(1...4)
        for id in 0..<count {
            var personRNG = stream(100 + UInt64(id))
            let person = plan(id: id, rng: &personRNG)
            people.append(person)
            var seatRNG = stream(200 + UInt64(id))
            if person.timeline.segments.allSatisfy({ !$0.action.isGait }),
               let seat = Seat.plan(for: person, fps: Double(options.fps), rng: &seatRNG) {
                seats.append(seat)
            }
        }
        for index in 0..<propCount {
            var propRNG = stream(300 + UInt64(index))
            props.append(planProp(rng: &propRNG))
        }
    }

    private var gaits: [Action] { options.actions.filter(\.isGait) }
    /// Actions done in place.
    private var standing: [Action] { options.actions.filter { !$0.isGait } }

    /// A distance drawn so that apparent sizes are spread evenly on a log scale.
    private func distance(_ rng: inout SplitMix64, in range: ClosedRange<Double>) -> Double {
        exp(rng.uniform(log(range.lowerBound), log(range.upperBound)))
    }

    private func plan(id: Int, rng: inout SplitMix64) -> Performer {
        let duration = options.seconds, frames = options.frameCount, fps = Double(options.fps)
        let shape = BodyShape.sample(&rng)
        var role = [Role.stander, .stander, .stander, .visitor, .visitor, .crosser, .crosser, .crosser,
                    .depthWalker, .depthWalker][rng.int(0...9)]
        let visits = standing.filter { !$0.startsSeated && !$0.endsSeated }
        if (role == .stander && standing.isEmpty) || (role == .visitor && (visits.isEmpty || duration < 2)) {
            role = .crosser
        }
        let gaits = self.gaits
        func pickGait(_ rng: inout SplitMix64) -> Action { gaits.isEmpty ? .walk : rng.pick(gaits) }

        if role == .stander {
            var own = options
            own.actions = standing
            own.balanced = false
            own.switching = options.switching || rng.chance(0.5)
            var timeline = ClipScene.performerTimeline(own, clip: 0, rng: &rng)
            if rng.chance(0.15) {  // back to the camera
                for i in timeline.segments.indices {
                    timeline.segments[i].motion = Turned(motion: timeline.segments[i].motion, degrees: 180)
                }
            }
            let d = distance(&rng, in: nearest...farthest)
            let x = stage.lateral(column: rng.uniform(-0.05, 1.05) * stage.width, cameraX: cameraX[0], distance: d)
            return place(id: id, shape: shape, timeline: timeline,
                         track: [(Double, Double)](repeating: (x, d), count: frames))
        }

        var segments: [Timeline.Segment] = []
        func append(_ action: Action, _ start: Double, _ end: Double, _ motion: any Motion) {
            let transition = segments.isEmpty ? 0
                : min(rng.uniform(0.3, 0.6), 0.4 * min(end - start, segments.last!.end - segments.last!.start))
            segments.append(.init(action: action, start: start, end: end, transition: transition, motion: motion))
        }
        /// A gait heading `yaw` degrees (0 towards the camera, 90 to the right, 180 away).
        func heading(_ action: Action, length: Double, yaw: (Double) -> Double, rng: inout SplitMix64) -> any Motion {
            let motion = sampleMotion(action, duration: length, rng: &rng)
            let base = motion.pose(at: 0).yaw
            return Turned(motion: motion, degrees: yaw(base) - base)
        }
        // Mostly sideways gaits (as drawn: 55–90° from the camera) walk away from the camera a third of the time.
        let awayChance = 1.0 / 3
        switch role {
        case .visitor:
            let arrive = rng.uniform(0.1, 0.5) * duration, stay = rng.uniform(1, 2.5)
            let walkIn = pickGait(&rng)
            let away = rng.chance(awayChance)
            let inMotion = heading(walkIn, length: arrive, yaw: { away ? 180 * ($0 >= 0 ? 1 : -1) - $0 : $0 },
                                   rng: &rng)
            append(walkIn, 0, arrive, inMotion)
            let act = rng.pick(visits)
            let leave = arrive + stay
            let end = duration - leave >= 0.6 ? leave : duration
            // Turn the shorter way round from the walking direction.
            let motion = sampleMotion(act, duration: end - arrive, rng: &rng)
            let from = inMotion.pose(at: arrive).yaw, to = motion.pose(at: 0).yaw
            append(act, arrive, end, Turned(motion: motion, degrees: 360 * ((from - to) / 360).rounded()))
            if end < duration {
                let walkOut = pickGait(&rng)
                let outAway = rng.chance(awayChance)
                append(walkOut, end, duration,
                       heading(walkOut, length: duration - end,
                               yaw: { outAway ? 180 * ($0 >= 0 ? 1 : -1) - $0 : $0 }, rng: &rng))
            }
        case .crosser:
            let action = pickGait(&rng)
            let away = rng.chance(awayChance)
            append(action, 0, duration,
                   heading(action, length: duration, yaw: { away ? 180 * ($0 >= 0 ? 1 : -1) - $0 : $0 }, rng: &rng))
        case .depthWalker, .stander:  // (people standing in place were planned above)
            let action = pickGait(&rng)
            let towards = rng.chance(0.5), side = rng.sign(), off = rng.uniform(0, 35)
            append(action, 0, duration,
                   heading(action, length: duration, yaw: { _ in towards ? side * off : side * (180 - off) },
                           rng: &rng))
        }
        var timeline = Timeline(segments: segments)
        // A walk that would carry the person nearer or farther than the size range allows turns more sideways.
        let limit = 0.8 * (farthest - nearest)
        var steps = walk(timeline)
        let depthTravel = steps.map(\.d).max()! - steps.map(\.d).min()!
        if depthTravel > limit {
            for i in timeline.segments.indices where timeline.segments[i].action.isGait {
                let motion = timeline.segments[i].motion
                let yaw = motion.pose(at: 0).yaw * .pi / 180
                let turned = (sin(yaw) >= 0 ? 1.0 : -1.0) * acos(max(-1, min(1, cos(yaw) * limit / depthTravel)))
                timeline.segments[i].motion = Turned(motion: motion, degrees: (turned - yaw) * 180 / .pi)
            }
            steps = walk(timeline)
        }
        // Anchor the walk: where the person is at one moment (just outside the picture when entering from a side).
        let entering = role == .crosser && rng.chance(0.5)
        let anchorFrame = role == .visitor ? min(frames - 1, Int((segments[0].end * fps).rounded()))
            : entering ? min(frames - 1, Int(rng.uniform(0, 0.6) * duration * fps)) : rng.int(0...(frames - 1))
        var column = rng.uniform(role == .crosser ? 0 : 0.1, role == .crosser ? 1 : 0.9) * stage.width
        let here = steps[anchorFrame]
        let lo = nearest - (steps.map(\.d).min()! - here.d), hi = farthest - (steps.map(\.d).max()! - here.d)
        let d = lo < hi ? distance(&rng, in: lo...hi) : (nearest + farthest) / 2
        if entering {
            // From the side it walks away from, a body width outside the picture.
            let rightwards = steps[min(frames - 1, anchorFrame + 1)].x >= steps[max(0, anchorFrame - 1)].x
            column = rightwards ? -0.4 * stage.scale(d) : stage.width + 0.4 * stage.scale(d)
        }
        let x = stage.lateral(column: column, cameraX: cameraX[anchorFrame], distance: d)
        let track = steps.map { step in
            (x + step.x - here.x, min(farthest, max(nearest, d + step.d - here.d)))
        }
        return place(id: id, shape: shape, timeline: timeline, track: track)
    }

    /// Lateral offset and distance per frame, relative to frame 0, from the timeline's heading and speed
    /// (4 sub-steps per frame): speed × sin(yaw) sideways, speed × cos(yaw) towards the camera.
    private func walk(_ timeline: Timeline) -> [(x: Double, d: Double)] {
        var out: [(x: Double, d: Double)] = [], x = 0.0, d = 0.0, t = 0.0
        let dt = 1 / Double(options.fps) / 4
        for _ in 0..<options.frameCount {
            out.append((x, d))
            for _ in 0..<4 {
                let state = timeline.state(at: t + dt / 2)
                let yaw = state.pose.yaw * .pi / 180
                x += sin(yaw) * state.speed * dt
                d -= cos(yaw) * state.speed * dt
                t += dt
            }
        }
        return out
    }

    /// A performer from a track of (lateral offset, distance) per frame.
    private func place(id: Int, shape: BodyShape, timeline: Timeline, track: [(Double, Double)]) -> Performer {
        Performer(id: id, shape: shape, timeline: timeline,
                  x: track.map { stage.point($0.0, 0, $0.1).x }, groundY: track.map { stage.groundRow($0.1) },
                  scale: track.map { stage.scale($0.1) })
    }

    /// A prop, in front of someone most of the time (so props do hide people), else anywhere on the floor.
    private func planProp(rng: inout SplitMix64) -> Prop {
        let kind = [Prop.Kind.pole, .pole, .crate, .crate, .crate, .bush, .bush, .wall, .wall][rng.int(0...8)]
        var size = Prop.size(kind, &rng)
        // Anywhere: rarely right in front of the camera, where it would fill the picture and hide nobody.
        var distance = self.distance(&rng, in: (1.5 * nearest)...farthest)
        var column = rng.uniform(0, 1) * stage.width, frame = 0
        if !people.isEmpty, rng.chance(0.65) {
            let person = people[rng.int(0...(people.count - 1))]
            let seen = person.x.indices.filter { i in
                let x = person.x[i] - cameraX[i]
                return x > 0 && x < stage.width
            }
            if !seen.isEmpty {
                frame = rng.pick(seen)
                let personDistance = stage.focal / person.scale[frame]
                let front = personDistance - rng.uniform(0.1, 0.8) - size.depth
                if front >= nearest {
                    distance = front
                    let offset = rng.uniform(-0.35, 0.35) * person.scale[frame]
                    column = person.x[frame] - cameraX[frame] + offset
                    // A wall in front of someone is usually lower than they are tall.
                    if kind == .wall { size.height = min(size.height, rng.uniform(0.3, 0.6)) }
                }
            }
        }
        let x = stage.lateral(column: column, cameraX: cameraX[frame], distance: distance)
        return Prop(kind: kind, size: size, x: x, distance: distance, stage: stage, rng: &rng)
    }
}
