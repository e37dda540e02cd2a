// Furniture near the performer: a stool or chair where a `sit_down`/`stand_up` person sits (so nobody sits on
// air), and the same furniture as a distractor in some clips without sitting, so its presence does not give
// the label away. Drawn just before the performer (it stands behind them) and owned by no person, so it
// occludes people walking behind it.
import Foundation
import SeededRandom

struct Seat: Sendable {
    /// World x of the performer's body origin (pixels), ground line (pixels), pixels per body unit, facing.
    var worldX: Double
    var groundY: Double
    var scale: Double
    var yaw: Double
    /// Seat centre in the person's body frame (before yaw), body units; top height of the seat.
    var centre: Vec3
    var height: Double
    var width: Double
    var depth: Double
    var backrest: Double  // 0 = stool
    var colour: Vec3

    /// A seat under the performer's seated pose, or (distractor) beside them; nil when the clip gets none.
    static func plan(for performer: Performer, fps: Double, rng: inout SplitMix64) -> Seat? {
        let sitting = performer.timeline.segments.first { $0.action == .sitDown || $0.action == .standUp }
        guard sitting != nil || rng.chance(0.25) else { return nil }
        let colour = rng.chance(0.5) ? Vec3(rng.uniform(0.35, 0.6), rng.uniform(0.2, 0.4), rng.uniform(0.08, 0.2))
            : hsv(rng.unit(), rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.9))
        let backrest = rng.chance(0.5) ? rng.uniform(0.2, 0.3) : 0
        let width = rng.uniform(0.28, 0.4), depth = rng.uniform(0.22, 0.3)
        let frames = performer.x.count
        if let segment = sitting {
            // The seated pose of this motion, in the body frame: the seat goes under the thighs.
            let seatedAt = segment.action == .sitDown ? segment.end - segment.start : 0
            var pose = segment.motion.pose(at: seatedAt)
            let yaw = pose.yaw
            pose.yaw = 0
            let body = Kinematics.pose(pose, shape: performer.shape)
            let hips = (body.keypoints[Keypoint.leftHip.rawValue] + body.keypoints[Keypoint.rightHip.rawValue]) / 2
            let knees = (body.keypoints[Keypoint.leftKnee.rawValue] + body.keypoints[Keypoint.rightKnee.rawValue]) / 2
            let frame = min(frames - 1, max(0, Int(((segment.start + segment.end) / 2 * fps).rounded())))
            let top = hips.y - performer.shape.thighRadius
            let centre = Vec3(0, top, (hips.z + knees.z) / 2 - 0.04)
            return Seat(worldX: performer.x[frame], groundY: performer.groundY, scale: performer.scale, yaw: yaw,
                        centre: centre, height: top, width: width, depth: depth, backrest: backrest,
                        colour: colour)
        }
        let side = rng.sign() * rng.uniform(0.45, 0.9)
        return Seat(worldX: performer.x[0] + side * performer.scale, groundY: performer.groundY,
                    scale: performer.scale, yaw: rng.uniform(-60, 60), centre: Vec3(0, 0.27, 0),
                    height: rng.uniform(0.24, 0.3), width: width, depth: depth, backrest: backrest, colour: colour)
    }

    /// Draws the seat: far legs, seat board, near legs, backrest, painted far to near.
    /// `origin` is where the body origin (`worldX`, `groundY`) appears on screen and the camera zoom.
    func draw(on canvas: inout Canvas, origin: (x: Double, y: Double, zoom: Double), light: Light) {
        let scale = self.scale * origin.zoom
        let yaw = self.yaw * .pi / 180
        func project(_ p: Vec3) -> (SIMD2<Float>, Double) {
            let x = p.x * cos(yaw) + p.z * sin(yaw), z = -p.x * sin(yaw) + p.z * cos(yaw)
            return (SIMD2<Float>(Float(origin.x + x * scale), Float(origin.y - p.y * scale)), z)
        }
        let r = Float(0.018 * scale)
        let paint = Paint(colour: SIMD3<Float>(Float(colour.x), Float(colour.y), Float(colour.z)))
        let dark = Paint(colour: paint.colour * 0.7)
        var items: [(depth: Double, draw: (inout Canvas) -> Void)] = []
        let corners = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)].map { sx, sz in
            Vec3(centre.x + sx * width / 2, height, centre.z + sz * depth / 2)
        }
        for corner in corners {
            let (top, z) = project(corner)
            let (foot, _) = project(Vec3(corner.x, 0, corner.z))
            items.append((z, { $0.capsule(top, foot, r, r * 0.8, paint: dark, light: light, id: -2) }))
        }
        let board = corners.map { project($0).0 }
        let centreDepth = project(Vec3(centre.x, height, centre.z)).1
        items.append((centreDepth + 0.001, {
            $0.roundedPolygon(board, radius: r * 1.2, paint: paint, light: light, id: -2)
        }))
        if backrest > 0 {
            let back = [corners[0], corners[1]]
            for corner in back {
                let (low, z) = project(corner)
                let (high, _) = project(corner + Vec3(0, backrest, 0))
                items.append((z, { $0.capsule(low, high, r, r, paint: dark, light: light, id: -2) }))
            }
            let (a, _) = project(back[0] + Vec3(0, backrest, 0)), (b, z) = project(back[1] + Vec3(0, backrest, 0))
            items.append((z + 0.001, { $0.capsule(a, b, r * 1.6, r * 1.6, paint: paint, light: light, id: -2) }))
        }
        for item in items.sorted(by: { $0.depth < $1.depth }) { item.draw(&canvas) }
    }
}
