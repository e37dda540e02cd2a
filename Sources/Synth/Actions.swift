// The action vocabulary and each action's motion: a pose as a function of time, with per-instance period,
// amplitude, phase and facing drawn from the clip's random stream. `sit_down` and `stand_up` are exact time
// reversals of one motion; `walk` and `run` are one gait at different cadence, stride and speed.
import Foundation
import SeededRandom

public enum Action: String, CaseIterable, Sendable, Codable {
    case idle, walk, run, jump, wave, clap, squat
    case sitDown = "sit_down"
    case standUp = "stand_up"
    case punch, kick, bend

    /// What the action looks like (for `actiond synth --list-actions` and docs/synth.md).
    public var summary: String {
        switch self {
        case .idle: "stands, shifting weight and breathing; arms relaxed"
        case .walk: "gait, cycle 0.95-1.25 s, thighs swing 18-28 deg, moves sideways across the scene"
        case .run: "the same gait at cycle 0.6-0.78 s, thighs 24-36 deg, more knee bend, short flight, ~2.5x speed"
        case .jump: "crouch, jump straight up 0.08-0.22 body heights, land; every 0.9-1.3 s"
        case .wave: "one arm raised to the side, forearm swinging 15-30 deg every 0.45-0.8 s"
        case .clap: "arms forward, hands meeting in front of the chest every 0.35-0.6 s"
        case .squat: "knees bend until thighs are level and back up, arms forward; every 1.6-2.6 s"
        case .sitDown: "from standing lowers the hips onto a stool or chair in 1.2-2 s, then stays seated"
        case .standUp: "sit_down played backwards: seated, rises in 1.2-2 s, then stands"
        case .punch: "guard up, fists shoot forward alternately every 0.5-0.9 s"
        case .kick: "one leg chambers, kicks forward and returns every 1.1-1.6 s"
        case .bend: "bends at the hips to the floor as if picking something up, and back; every 2-3 s"
        }
    }

    /// True when the action ends with the person seated (the next action should start seated).
    var endsSeated: Bool { self == .sitDown }
    var startsSeated: Bool { self == .standUp }
    var isGait: Bool { self == .walk || self == .run }
}

/// One performance of an action: pose and forward speed as functions of time since the segment started.
protocol Motion: Sendable {
    func pose(at t: Double) -> BodyPose
    /// Forward speed in body units per second (towards where the person faces).
    func speed(at t: Double) -> Double
}

extension Motion {
    func speed(at t: Double) -> Double { 0 }
}

func smoothstep(_ x: Double) -> Double {
    let c = min(1, max(0, x))
    return c * c * (3 - 2 * c)
}

/// 0 → 1 over [a, b], smoothly.
func ramp(_ x: Double, _ a: Double, _ b: Double) -> Double { smoothstep((x - a) / (b - a)) }

/// Fractional part in [0, 1).
func fract(_ x: Double) -> Double { x - x.rounded(.down) }

/// Samples a motion for `action` lasting `duration` seconds (one-shot actions fit themselves into it).
func sampleMotion(_ action: Action, duration: Double, rng: inout SplitMix64) -> any Motion {
    let base = Relaxed(&rng)
    switch action {
    case .idle: return Idle(base: base, rng: &rng)
    case .walk: return Gait(running: false, base: base, rng: &rng)
    case .run: return Gait(running: true, base: base, rng: &rng)
    case .jump: return Jump(base: base, rng: &rng)
    case .wave: return Wave(base: base, rng: &rng)
    case .clap: return Clap(base: base, rng: &rng)
    case .squat: return Squat(base: base, rng: &rng)
    case .sitDown: return Sit(base: base, duration: duration, reversed: false, rng: &rng)
    case .standUp: return Sit(base: base, duration: duration, reversed: true, rng: &rng)
    case .punch: return Punch(base: base, rng: &rng)
    case .kick: return Kick(base: base, rng: &rng)
    case .bend: return Bend(base: base, rng: &rng)
    }
}

/// A relaxed standing pose with per-person arm carriage, facing roughly towards the camera.
struct Relaxed: Sendable {
    var pose = BodyPose()
    init(_ rng: inout SplitMix64) {
        pose.yaw = rng.uniform(-70, 70)
        for s in 0..<2 {
            pose.upperArm[s] = LimbAngles(rng.uniform(4, 14), rng.uniform(-6, 8))
            pose.forearm[s] = LimbAngles(rng.uniform(2, 10), rng.uniform(5, 30))
            pose.thigh[s] = LimbAngles(rng.uniform(1, 5), 0)
            pose.shin[s] = LimbAngles(rng.uniform(1, 4), 0)
        }
        pose.torsoPitch = rng.uniform(-2, 4)
        pose.headPitch = rng.uniform(-5, 8)
    }
}

struct Idle: Motion {
    var base: BodyPose
    var swayPeriod: Double, swayAmount: Double, breathPeriod: Double, phase: Double, yawDrift: Double
    init(base: Relaxed, rng: inout SplitMix64) {
        self.base = base.pose
        swayPeriod = rng.uniform(2.5, 6)
        swayAmount = rng.uniform(0.004, 0.015)
        breathPeriod = rng.uniform(2.5, 4.5)
        phase = rng.unit()
        yawDrift = rng.uniform(-4, 4)
    }
    func pose(at t: Double) -> BodyPose {
        var p = base
        let sway = sin(2 * .pi * (t / swayPeriod + phase)), breath = sin(2 * .pi * (t / breathPeriod + phase))
        p.sway = swayAmount * sway
        p.torsoRoll = -sway * 1.5
        p.thigh[0].abduction += sway * 2
        p.thigh[1].abduction -= sway * 2
        for s in 0..<2 { p.upperArm[s].flexion += 2 * breath }
        p.headPitch += 2 * breath
        p.yaw += yawDrift * sin(2 * .pi * (t / (swayPeriod * 1.7) + phase))
        return p
    }
}

/// Walking and running: one parametric gait. Each thigh swings sinusoidally, the knee bends in the swing
/// phase, arms swing against the legs; running has a shorter cycle, longer stride, more knee bend and a
/// flight phase. Speed follows from stride and cadence, so the stance foot does not slide.
struct Gait: Motion {
    var base: BodyPose
    var running: Bool
    var period: Double, thighAmp: Double, kneeBend: Double, armAmp: Double, elbow: Double, phase: Double
    var flight: Double
    init(running: Bool, base: Relaxed, rng: inout SplitMix64) {
        self.running = running
        var b = base.pose
        b.yaw = rng.sign() * rng.uniform(55, 90)
        b.torsoPitch = running ? rng.uniform(5, 14) : rng.uniform(0, 6)
        b.plantFeet = 0
        self.base = b
        period = running ? rng.uniform(0.6, 0.78) : rng.uniform(0.95, 1.25)
        thighAmp = running ? rng.uniform(24, 36) : rng.uniform(18, 28)
        kneeBend = running ? rng.uniform(70, 100) : rng.uniform(35, 60)
        armAmp = running ? rng.uniform(25, 45) : rng.uniform(12, 30)
        elbow = running ? rng.uniform(40, 90) : rng.uniform(10, 60)
        phase = rng.unit()
        flight = running ? rng.uniform(0.02, 0.05) : 0
    }
    func pose(at t: Double) -> BodyPose {
        var p = base
        let theta = 2 * .pi * (t / period + phase)
        for s in 0..<2 {
            let th = s == 0 ? theta : theta + .pi
            let swing = sin(th)
            let bend = kneeBend * pow((1 + cos(th - 0.4)) / 2, 2) + 4
            p.thigh[s].flexion = thighAmp * swing
            p.shin[s].flexion = thighAmp * swing - bend
            p.upperArm[s].flexion = -armAmp * swing
            p.forearm[s].flexion = -armAmp * swing + elbow
        }
        p.torsoTwist = -0.25 * armAmp * sin(theta)
        p.lift = flight * pow(max(0, -cos(2 * theta)), 1.5)
        return p
    }
    func speed(at t: Double) -> Double {
        let legLength = 0.47
        return 4 * legLength * sin(thighAmp * .pi / 180) / period * (running ? 1.3 : 1)
    }
}

struct Jump: Motion {
    var base: BodyPose
    var period: Double, height: Double, crouch: Double, phase: Double, armRaise: Double
    init(base: Relaxed, rng: inout SplitMix64) {
        self.base = base.pose
        period = rng.uniform(0.9, 1.3)
        height = rng.uniform(0.08, 0.22)
        crouch = rng.uniform(35, 60)
        phase = rng.unit()
        armRaise = rng.uniform(100, 170)
    }
    func pose(at t: Double) -> BodyPose {
        var p = base
        let u = fract(t / period + phase)
        // Crouch, push off, fly, land, recover.
        let k = u < 0.3 ? ramp(u, 0, 0.3) : u < 0.4 ? 1 - ramp(u, 0.3, 0.4)
            : u < 0.7 ? 0 : u < 0.8 ? 0.6 * ramp(u, 0.7, 0.8) : 0.6 * (1 - ramp(u, 0.8, 1))
        let f = u >= 0.4 && u < 0.7 ? (u - 0.4) / 0.3 : -1
        let up = u < 0.3 ? 0 : u < 0.45 ? ramp(u, 0.3, 0.45) : 1 - ramp(u, 0.6, 0.85)
        p.lift = f >= 0 ? height * 4 * f * (1 - f) : 0
        let tuck = f >= 0 ? 20 * sin(.pi * f) : 0
        for s in 0..<2 {
            p.thigh[s].flexion = 1.2 * crouch * k + tuck
            p.shin[s].flexion = -crouch * k - tuck
            p.upperArm[s].flexion = -40 * k + armRaise * up
            p.forearm[s].flexion = -30 * k + (armRaise + 10) * up
        }
        p.torsoPitch = base.torsoPitch + 30 * k
        return p
    }
}

struct Wave: Motion {
    var base: BodyPose
    var side: Int, period: Double, raise: Double, forward: Double, forearmBase: Double, swing: Double
    var phase: Double
    init(base: Relaxed, rng: inout SplitMix64) {
        self.base = base.pose
        side = rng.int(0...1)
        period = rng.uniform(0.45, 0.8)
        raise = rng.uniform(70, 110)
        forward = rng.uniform(0, 30)
        forearmBase = raise + rng.uniform(45, 70)
        swing = rng.uniform(15, 30)
        phase = rng.unit()
    }
    func pose(at t: Double) -> BodyPose {
        var p = base
        let theta = 2 * .pi * (t / period + phase)
        p.upperArm[side] = LimbAngles(raise, forward)
        p.forearm[side] = LimbAngles(forearmBase + swing * sin(theta), forward)
        p.torsoRoll = (side == 0 ? -1.0 : 1.0) * (2 + 1.5 * sin(theta))
        return p
    }
}

struct Clap: Motion {
    var base: BodyPose
    var period: Double, upperFlex: Double, upperAbd: Double, foreFlex: Double, open: Double, closed: Double
    var phase: Double
    init(base: Relaxed, rng: inout SplitMix64) {
        self.base = base.pose
        period = rng.uniform(0.35, 0.6)
        upperFlex = rng.uniform(20, 45)
        upperAbd = rng.uniform(5, 15)
        foreFlex = rng.uniform(70, 95)
        open = rng.uniform(-25, -12)
        closed = rng.uniform(-68, -58)
        phase = rng.unit()
    }
    func pose(at t: Double) -> BodyPose {
        var p = base
        let theta = 2 * .pi * (t / period + phase)
        let together = pow((1 + cos(theta)) / 2, 0.7)
        for s in 0..<2 {
            p.upperArm[s] = LimbAngles(upperAbd, upperFlex)
            p.forearm[s] = LimbAngles(open + (closed - open) * together, foreFlex)
        }
        p.headPitch = base.headPitch + 5
        return p
    }
}

struct Squat: Motion {
    var base: BodyPose
    var period: Double, depth: Double, phase: Double, arms: Double
    init(base: Relaxed, rng: inout SplitMix64) {
        self.base = base.pose
        period = rng.uniform(1.6, 2.6)
        depth = rng.uniform(0.7, 1.0)
        phase = rng.unit()
        arms = rng.uniform(60, 95)
    }
    func pose(at t: Double) -> BodyPose {
        var p = base
        let k = (1 - cos(2 * .pi * (t / period + phase))) / 2
        for s in 0..<2 {
            p.thigh[s].flexion = 95 * depth * k
            p.thigh[s].abduction += 8 * k
            p.shin[s].flexion = -40 * depth * k
            p.upperArm[s].flexion = base.upperArm[s].flexion + (arms - base.upperArm[s].flexion) * k
            p.forearm[s].flexion = base.forearm[s].flexion + (arms - base.forearm[s].flexion) * k
        }
        p.torsoPitch = base.torsoPitch + 35 * depth * k
        return p
    }
}

/// Sitting down onto a seat; `reversed` plays the same motion backwards (standing up), so the two actions
/// share every pose and differ only in the direction of time.
struct Sit: Motion {
    var base: BodyPose
    var duration: Double, reversed: Bool
    var hold: Double, motion: Double, seatFlex: Double, seatShin: Double, seatLean: Double, midLean: Double
    var handsOnKnees: Double
    init(base: Relaxed, duration: Double, reversed: Bool, rng: inout SplitMix64) {
        self.base = base.pose
        self.duration = duration
        self.reversed = reversed
        motion = min(rng.uniform(1.2, 2.0), 0.7 * duration)
        hold = rng.uniform(0.15, 0.6) * (duration - motion)
        seatFlex = rng.uniform(80, 95)
        seatShin = rng.uniform(-8, 10)
        seatLean = rng.uniform(0, 15)
        midLean = rng.uniform(30, 45)
        handsOnKnees = rng.uniform(0.3, 1)
    }
    /// 0 standing … 1 seated, over the sit-down timeline.
    func progress(_ t: Double) -> Double { min(1, max(0, (t - hold) / motion)) }
    func pose(at t: Double) -> BodyPose {
        var p = base
        let u = progress(reversed ? duration - t : t)
        let s = smoothstep(u), bump = pow(sin(.pi * u), 2)
        for side in 0..<2 {
            p.thigh[side].flexion = seatFlex * s
            p.shin[side].flexion = -15 * bump + seatShin * s
            p.upperArm[side].flexion = base.upperArm[side].flexion + 35 * bump + 20 * handsOnKnees * s
            p.forearm[side].flexion = base.forearm[side].flexion + 30 * bump + 50 * handsOnKnees * s
        }
        p.torsoPitch = base.torsoPitch + midLean * bump + seatLean * s
        return p
    }
}

struct Punch: Motion {
    var base: BodyPose
    var period: Double, guardFlex: Double, reach: Double, phase: Double, twist: Double
    init(base: Relaxed, rng: inout SplitMix64) {
        var b = base.pose
        b.yaw = rng.sign() * rng.uniform(20, 80)
        b.thigh[0].flexion = rng.uniform(5, 15)
        b.thigh[1].flexion = -rng.uniform(5, 15)
        b.shin[0].flexion = b.thigh[0].flexion - 8
        b.shin[1].flexion = b.thigh[1].flexion - 8
        self.base = b
        period = rng.uniform(0.5, 0.9)
        guardFlex = rng.uniform(35, 55)
        reach = rng.uniform(80, 95)
        phase = rng.unit()
        twist = rng.uniform(8, 18)
    }
    func pose(at t: Double) -> BodyPose {
        var p = base
        let cycle = t / period + phase
        let active = Int(cycle.rounded(.down)) & 1
        let u = fract(cycle)
        let out = u < 0.22 ? ramp(u, 0, 0.22) : u < 0.32 ? 1 : 1 - ramp(u, 0.32, 0.7)
        for s in 0..<2 {
            let e = s == active ? out : 0
            p.upperArm[s] = LimbAngles(15 - 20 * e, guardFlex + (reach - guardFlex) * e)
            p.forearm[s] = LimbAngles(-10 * (1 - e) - 8 * e, 150 - (150 - reach) * e)
        }
        p.torsoTwist = (active == 0 ? -1.0 : 1.0) * twist * out
        return p
    }
}

struct Kick: Motion {
    var base: BodyPose
    var period: Double, leg: Int, alternate: Bool, height: Double, phase: Double
    init(base: Relaxed, rng: inout SplitMix64) {
        var b = base.pose
        b.yaw = rng.sign() * rng.uniform(30, 90)
        b.plantFeet = 0
        for s in 0..<2 {
            b.upperArm[s] = LimbAngles(15, rng.uniform(30, 50))
            b.forearm[s] = LimbAngles(-10, rng.uniform(130, 155))
        }
        self.base = b
        period = rng.uniform(1.1, 1.6)
        leg = rng.int(0...1)
        alternate = rng.chance(0.3)
        height = rng.uniform(65, 95)
        phase = rng.unit()
    }
    func pose(at t: Double) -> BodyPose {
        var p = base
        let cycle = t / period + phase
        let s = alternate ? (leg + Int(cycle.rounded(.down))) & 1 : leg
        let u = fract(cycle)
        let raise = u < 0.25 ? ramp(u, 0, 0.25) : u < 0.55 ? 1 : 1 - ramp(u, 0.55, 0.8)
        let extend = u < 0.25 ? 0 : u < 0.38 ? ramp(u, 0.25, 0.38) : 1 - ramp(u, 0.38, 0.52)
        let thigh = height * raise
        let bend = 100 * raise * (1 - extend) + 8 * extend
        p.thigh[s].flexion = thigh
        p.shin[s].flexion = thigh - bend
        p.torsoPitch = base.torsoPitch - 15 * raise
        return p
    }
}

struct Bend: Motion {
    var base: BodyPose
    var period: Double, depth: Double, knees: Double, phase: Double, reach: Double
    init(base: Relaxed, rng: inout SplitMix64) {
        self.base = base.pose
        period = rng.uniform(2.0, 3.0)
        depth = rng.uniform(70, 95)
        knees = rng.uniform(10, 35)
        phase = rng.unit()
        reach = rng.uniform(5, 30)
    }
    func pose(at t: Double) -> BodyPose {
        var p = base
        let u = fract(t / period + phase)
        let k = u < 0.35 ? ramp(u, 0, 0.35) : u < 0.55 ? 1 : 1 - ramp(u, 0.55, 0.9)
        for s in 0..<2 {
            p.thigh[s].flexion = knees * k
            p.shin[s].flexion = -knees * 0.8 * k
            p.upperArm[s].flexion = base.upperArm[s].flexion + (reach - base.upperArm[s].flexion) * k
            p.forearm[s].flexion = base.forearm[s].flexion + (reach + 5 - base.forearm[s].flexion) * k
        }
        p.torsoPitch = base.torsoPitch + depth * k
        p.headPitch = base.headPitch - 25 * k
        return p
    }
}
