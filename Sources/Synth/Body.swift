// The articulated person: the COCO-17 keypoints, body proportions, the pose parameters every action drives,
// and the forward kinematics that turns a pose into 3D joint positions (body units: standing height = 1).
import Foundation
import SeededRandom

/// COCO-17 keypoints, in COCO order (the order of `keypoints` in the ground truth).
public enum Keypoint: Int, CaseIterable, Sendable {
    case nose, leftEye, rightEye, leftEar, rightEar, leftShoulder, rightShoulder, leftElbow, rightElbow
    case leftWrist, rightWrist, leftHip, rightHip, leftKnee, rightKnee, leftAnkle, rightAnkle

    public static let count = 17

    /// The COCO name (`left_shoulder`, ...).
    public var name: String {
        ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
         "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
         "right_knee", "left_ankle", "right_ankle"][rawValue]
    }
}

public typealias Vec3 = SIMD3<Double>

/// Proportions and looks of one person, fixed for a clip. Lengths are in body units (standing height 1).
struct BodyShape: Sendable {
    var headRadius: Double
    var neckLength: Double
    var torsoLength: Double
    var shoulderHalfWidth: Double
    var hipHalfWidth: Double
    var upperArm: Double
    var forearm: Double
    var thigh: Double
    var shin: Double
    var ankleHeight: Double
    var footLength: Double
    // Thickness (radii).
    var torsoRadius: Double
    var upperArmRadius: Double
    var forearmRadius: Double
    var handRadius: Double
    var thighRadius: Double
    var shinRadius: Double
    var footRadius: Double
    // Looks (linear RGB in 0…1).
    var skin: Vec3
    var hair: Vec3
    var shirt: Vec3
    var trousers: Vec3
    var shoes: Vec3
    var longSleeves: Bool
    var shorts: Bool
    /// Horizontal stripes on the shirt: 0 for none, else stripes per body unit.
    var shirtStripes: Double
    /// Hair falling behind the head to the shoulders.
    var longHair: Bool

    static func sample(_ rng: inout SplitMix64) -> BodyShape {
        let build = rng.uniform(0.8, 1.3)
        var shape = BodyShape(
            headRadius: rng.uniform(0.055, 0.068), neckLength: rng.uniform(0.025, 0.045),
            torsoLength: rng.uniform(0.27, 0.32), shoulderHalfWidth: rng.uniform(0.075, 0.105),
            hipHalfWidth: rng.uniform(0.045, 0.07), upperArm: rng.uniform(0.155, 0.185),
            forearm: rng.uniform(0.14, 0.165), thigh: rng.uniform(0.23, 0.27), shin: rng.uniform(0.22, 0.26),
            ankleHeight: rng.uniform(0.035, 0.045), footLength: rng.uniform(0.075, 0.1),
            torsoRadius: rng.uniform(0.035, 0.055) * build, upperArmRadius: rng.uniform(0.026, 0.034) * build,
            forearmRadius: rng.uniform(0.021, 0.027) * build, handRadius: rng.uniform(0.022, 0.028),
            thighRadius: rng.uniform(0.042, 0.055) * build, shinRadius: rng.uniform(0.03, 0.038) * build,
            footRadius: rng.uniform(0.02, 0.026),
            skin: BodyShape.skinTones[rng.int(0...(BodyShape.skinTones.count - 1))]
                * rng.uniform(0.9, 1.1),
            hair: Vec3(rng.uniform(0.02, 0.35), rng.uniform(0.02, 0.25), rng.uniform(0.01, 0.15)),
            shirt: randomColour(&rng), trousers: randomColour(&rng),
            shoes: Vec3(repeating: rng.uniform(0.03, 0.6)), longSleeves: rng.chance(0.5), shorts: rng.chance(0.25),
            shirtStripes: rng.chance(0.25) ? rng.uniform(25, 60) : 0, longHair: rng.chance(0.35))
        // Normalise so the standing height (sole to crown) is exactly 1.
        let height = shape.ankleHeight + shape.shin + shape.thigh + shape.torsoLength + shape.neckLength
            + 2 * shape.headRadius
        let k = 1 / height
        shape.headRadius *= k; shape.neckLength *= k; shape.torsoLength *= k; shape.shoulderHalfWidth *= k
        shape.hipHalfWidth *= k; shape.upperArm *= k; shape.forearm *= k; shape.thigh *= k; shape.shin *= k
        shape.ankleHeight *= k; shape.footLength *= k
        return shape
    }

    static let skinTones: [Vec3] = [
        Vec3(0.96, 0.80, 0.69), Vec3(0.90, 0.70, 0.55), Vec3(0.78, 0.57, 0.44), Vec3(0.63, 0.43, 0.32),
        Vec3(0.45, 0.30, 0.22), Vec3(0.33, 0.22, 0.16),
    ]

    static func randomColour(_ rng: inout SplitMix64) -> Vec3 {
        // Mostly saturated garments, sometimes greys, so people do not all look alike.
        if rng.chance(0.25) { return Vec3(repeating: rng.uniform(0.08, 0.9)) }
        let hue = rng.unit(), saturation = rng.uniform(0.35, 0.9), value = rng.uniform(0.25, 0.95)
        return hsv(hue, saturation, value)
    }
}

func hsv(_ h: Double, _ s: Double, _ v: Double) -> Vec3 {
    let h6 = (h - h.rounded(.down)) * 6
    let sector = Int(h6) % 6, f = h6 - Double(Int(h6))
    let p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f))
    switch sector {
    case 0: return Vec3(v, t, p)
    case 1: return Vec3(q, v, p)
    case 2: return Vec3(p, v, t)
    case 3: return Vec3(p, q, v)
    case 4: return Vec3(t, p, v)
    default: return Vec3(v, p, q)
    }
}

/// A limb segment's direction as two angles in degrees, in the body frame (x = the person's left, y = up,
/// z = where the person faces): `abduction` swings it out to the side, then `flexion` swings it forward.
/// (0, 0) hangs straight down, (0, 90) points forward, (0, 180) and (180, 0) point up.
public struct LimbAngles: Sendable, Equatable {
    public var abduction: Double
    public var flexion: Double

    public init(_ abduction: Double, _ flexion: Double) {
        self.abduction = abduction
        self.flexion = flexion
    }

    /// Unit direction; `side` is +1 for the left limb, -1 for the right (abduction points away from the body).
    func direction(side: Double) -> Vec3 {
        let a = abduction * .pi / 180, f = flexion * .pi / 180
        return Vec3(side * sin(a), -cos(a) * cos(f), cos(a) * sin(f))
    }

    static func lerp(_ a: LimbAngles, _ b: LimbAngles, _ w: Double) -> LimbAngles {
        LimbAngles(a.abduction + (b.abduction - a.abduction) * w, a.flexion + (b.flexion - a.flexion) * w)
    }
}

/// Everything an action sets at one instant. Angles in degrees; blending two poses is a linear mix.
public struct BodyPose: Sendable, Equatable {
    /// Facing direction about the vertical: 0 faces the camera, +90 faces image right.
    public var yaw: Double = 0
    /// Forward lean of the torso, sideways tilt (positive towards the person's left), and shoulder twist.
    public var torsoPitch: Double = 0
    public var torsoRoll: Double = 0
    public var torsoTwist: Double = 0
    /// Extra forward tilt of the head relative to the torso.
    public var headPitch: Double = 0
    public var upperArm: [LimbAngles] = [LimbAngles(8, 0), LimbAngles(8, 0)]  // [left, right]
    public var forearm: [LimbAngles] = [LimbAngles(4, 10), LimbAngles(4, 10)]
    public var thigh: [LimbAngles] = [LimbAngles(2, 0), LimbAngles(2, 0)]
    public var shin: [LimbAngles] = [LimbAngles(2, 0), LimbAngles(2, 0)]
    /// Height of the soles above the ground (jumps), body units.
    public var lift: Double = 0
    /// Sideways shift of the pelvis (weight shifts), body units.
    public var sway: Double = 0
    /// 1: move the pelvis so the feet stay where they are (sitting, squatting); 0: feet swing freely (gait).
    public var plantFeet: Double = 1

    public init() {}

    public static func lerp(_ a: BodyPose, _ b: BodyPose, _ w: Double) -> BodyPose {
        func mix(_ x: Double, _ y: Double) -> Double { x + (y - x) * w }
        var p = BodyPose()
        p.yaw = mix(a.yaw, b.yaw)
        p.torsoPitch = mix(a.torsoPitch, b.torsoPitch)
        p.torsoRoll = mix(a.torsoRoll, b.torsoRoll)
        p.torsoTwist = mix(a.torsoTwist, b.torsoTwist)
        p.headPitch = mix(a.headPitch, b.headPitch)
        for s in 0..<2 {
            p.upperArm[s] = .lerp(a.upperArm[s], b.upperArm[s], w)
            p.forearm[s] = .lerp(a.forearm[s], b.forearm[s], w)
            p.thigh[s] = .lerp(a.thigh[s], b.thigh[s], w)
            p.shin[s] = .lerp(a.shin[s], b.shin[s], w)
        }
        p.lift = mix(a.lift, b.lift)
        p.sway = mix(a.sway, b.sway)
        p.plantFeet = mix(a.plantFeet, b.plantFeet)
        return p
    }
}

/// A posed body in 3D, in the person's ground frame after yaw: x = image right, y = up (0 = ground),
/// z = towards the camera.
struct PosedBody {
    var keypoints: [Vec3]  // 17, COCO order
    var pelvis: Vec3
    var neck: Vec3
    var headCentre: Vec3
    var headForward: Vec3
    var headUp: Vec3
    var handCentre: [Vec3]  // [left, right]
    var toe: [Vec3]
}

enum Kinematics {
    /// Forward kinematics: joints from `pose` and `shape`, standing on the ground at the origin.
    static func pose(_ pose: BodyPose, shape: BodyShape) -> PosedBody {
        let deg = Double.pi / 180
        let sides: [Double] = [1, -1]  // left is +x in the body frame
        // Legs from the hips, pelvis at the origin.
        var hip = [Vec3](), knee = [Vec3](), ankle = [Vec3]()
        for s in 0..<2 {
            let h = Vec3(sides[s] * shape.hipHalfWidth, 0, 0)
            let k = h + shape.thigh * pose.thigh[s].direction(side: sides[s])
            hip.append(h); knee.append(k); ankle.append(k + shape.shin * pose.shin[s].direction(side: sides[s]))
        }
        // Torso: the spine leans forward (pitch) and sideways (roll); the shoulders twist about the spine.
        let pitch = pose.torsoPitch * deg, roll = pose.torsoRoll * deg, twist = pose.torsoTwist * deg
        let spine = normalized(Vec3(sin(roll), cos(pitch) * cos(roll), sin(pitch) * cos(roll)))
        let twisted = { (v: Vec3) -> Vec3 in
            Vec3(v.x * cos(twist) + v.z * sin(twist), v.y, -v.x * sin(twist) + v.z * cos(twist))
        }
        let neck = spine * shape.torsoLength
        let shoulderBase = neck - spine * 0.025
        var shoulder = [Vec3](), elbow = [Vec3](), wrist = [Vec3](), hand = [Vec3]()
        for s in 0..<2 {
            let sh = shoulderBase + twisted(Vec3(sides[s] * shape.shoulderHalfWidth, 0, 0))
            let upper = twisted(pose.upperArm[s].direction(side: sides[s]))
            let fore = twisted(pose.forearm[s].direction(side: sides[s]))
            let e = sh + shape.upperArm * upper
            let w = e + shape.forearm * fore
            shoulder.append(sh); elbow.append(e); wrist.append(w); hand.append(w + fore * shape.handRadius * 1.1)
        }
        // Head: follows the spine plus its own pitch; forward is perpendicular to it in the sagittal plane.
        let headPitch = pitch + pose.headPitch * deg
        let headUp = twisted(normalized(Vec3(sin(roll), cos(headPitch), sin(headPitch))))
        let headForward = twisted(normalized(Vec3(0, -sin(headPitch), cos(headPitch))))
        let headSide = cross(headUp, headForward)  // the person's left
        let headCentre = neck + headUp * (shape.neckLength + shape.headRadius)
        let r = shape.headRadius
        let nose = headCentre + headForward * (0.88 * r) - headUp * (0.15 * r)
        let eyeL = headCentre + headForward * (0.72 * r) + headUp * (0.18 * r) + headSide * (0.36 * r)
        let eyeR = headCentre + headForward * (0.72 * r) + headUp * (0.18 * r) - headSide * (0.36 * r)
        let earL = headCentre + headSide * (0.88 * r) - headForward * (0.1 * r)
        let earR = headCentre - headSide * (0.88 * r) - headForward * (0.1 * r)
        let foot = { (s: Int) -> Vec3 in ankle[s] + Vec3(0, -shape.ankleHeight * 0.4, shape.footLength) }
        var points = [nose, eyeL, eyeR, earL, earR, shoulder[0], shoulder[1], elbow[0], elbow[1], wrist[0],
                      wrist[1], hip[0], hip[1], knee[0], knee[1], ankle[0], ankle[1]]
        var extra = [Vec3.zero, neck, headCentre, hand[0], hand[1], foot(0), foot(1)]
        // Stand on the ground: the lowest ankle sits at ankle height (plus any jump lift); planted feet pull
        // the pelvis back over them instead of sliding forward.
        let lowest = min(ankle[0].y, ankle[1].y)
        let shift = Vec3(pose.sway, shape.ankleHeight - lowest + pose.lift,
                         -pose.plantFeet * (ankle[0].z + ankle[1].z) / 2)
        let yaw = pose.yaw * deg
        let place = { (v: Vec3) -> Vec3 in
            let p = v + shift
            return Vec3(p.x * cos(yaw) + p.z * sin(yaw), p.y, -p.x * sin(yaw) + p.z * cos(yaw))
        }
        let turn = { (v: Vec3) -> Vec3 in Vec3(v.x * cos(yaw) + v.z * sin(yaw), v.y, -v.x * sin(yaw) + v.z * cos(yaw)) }
        points = points.map(place)
        extra = extra.map(place)
        return PosedBody(keypoints: points, pelvis: extra[0], neck: extra[1], headCentre: extra[2],
                         headForward: turn(headForward), headUp: turn(headUp), handCentre: [extra[3], extra[4]],
                         toe: [extra[5], extra[6]])
    }
}

func normalized(_ v: Vec3) -> Vec3 {
    let n = (v * v).sum().squareRoot()
    return n > 0 ? v / n : v
}

func cross(_ a: Vec3, _ b: Vec3) -> Vec3 {
    Vec3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}
