// Things in the scene that are not people. Furniture: a stool or chair where a `sit_down`/`stand_up` person
// sits (so nobody sits on air), and the same furniture as a distractor in some clips without sitting, so its
// presence does not give the label away; drawn just before its person (it stands behind them). Props in busy
// scenes: poles, crates, bushes and low walls standing on the floor, drawn in depth order with the people.
// Both are owned by no person, so they hide the people behind them.
import Foundation
import SeededRandom

struct Seat: Sendable {
    /// Id of the person it belongs to (drawn just before them).
    var sitter: Int
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
            return Seat(sitter: performer.id, worldX: performer.x[frame], groundY: performer.groundY[frame],
                        scale: performer.scale[frame], yaw: yaw, centre: centre, height: top, width: width,
                        depth: depth, backrest: backrest, colour: colour)
        }
        let side = rng.sign() * rng.uniform(0.45, 0.9)
        return Seat(sitter: performer.id, worldX: performer.x[0] + side * performer.scale[0],
                    groundY: performer.groundY[0], scale: performer.scale[0], yaw: rng.uniform(-60, 60),
                    centre: Vec3(0, 0.27, 0),
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

/// Something standing on the floor of a busy scene, in front of or between people: a pole (some with a sign), a
/// crate (some with another on top), a bush, a low wall. Planned in world pixels (the picture before the
/// camera's pan, shake and zoom), drawn in depth order with the people.
struct Prop: Sendable {
    enum Kind: Sendable { case pole, crate, bush, wall }

    /// Extent in body units (standing height 1): across, up, and away from the camera.
    struct Size: Sendable {
        var width: Double
        var height: Double
        var depth: Double
    }

    /// A drawing primitive in world pixels.
    enum Piece: Sendable {
        /// A convex polygon; `stripes` is the period in pixels of horizontal bands (planks, brick courses), 0 none.
        case polygon([SIMD2<Double>], colour: Vec3, stripes: Double)
        case capsule(SIMD2<Double>, SIMD2<Double>, radius: Double, colour: Vec3)
    }

    let kind: Kind
    /// Ground line of its front (frame rows, before the camera): orders it among the people.
    let groundY: Double
    let pieces: [Piece]
    /// Soft contact shadow on the floor: centre, radii (world pixels); radius 0 for none.
    let shadowCentre: SIMD2<Double>
    let shadowRadii: SIMD2<Double>

    static func size(_ kind: Kind, _ rng: inout SplitMix64) -> Size {
        switch kind {
        case .pole:
            let width = rng.uniform(0.025, 0.07)
            return Size(width: width, height: rng.uniform(1.3, 3), depth: width)
        case .crate:
            return Size(width: rng.uniform(0.25, 0.6), height: rng.uniform(0.2, 0.5), depth: rng.uniform(0.25, 0.5))
        case .bush:
            return Size(width: rng.uniform(0.35, 1), height: rng.uniform(0.3, 0.75), depth: rng.uniform(0.3, 0.6))
        case .wall:
            return Size(width: rng.uniform(1, 3.5), height: rng.uniform(0.3, 0.9), depth: rng.uniform(0.12, 0.3))
        }
    }

    /// The prop of `kind` and `size` whose front is centred at lateral offset `x` and `distance` on `stage`.
    init(kind: Kind, size: Size, x: Double, distance: Double, stage: Stage, rng: inout SplitMix64) {
        self.kind = kind
        groundY = stage.groundRow(distance)
        let scale = stage.scale(distance)
        var pieces: [Piece] = []
        /// A box: the outline of its eight corners in the colour of its side, then its top, then its front.
        func box(_ cx: Double, _ base: Double, _ front: Double, _ s: Size, _ colour: Vec3, stripes: Double = 0) {
            let xs = [cx - s.width / 2, cx + s.width / 2], ys = [base, base + s.height]
            let ds = [front, front + s.depth]
            var corners: [SIMD2<Double>] = []
            for x in xs { for y in ys { for d in ds { corners.append(stage.point(x, y, d)) } } }
            let top = [stage.point(xs[0], ys[1], ds[0]), stage.point(xs[1], ys[1], ds[0]),
                       stage.point(xs[1], ys[1], ds[1]), stage.point(xs[0], ys[1], ds[1])]
            let face = [stage.point(xs[0], ys[0], ds[0]), stage.point(xs[1], ys[0], ds[0]),
                        stage.point(xs[1], ys[1], ds[0]), stage.point(xs[0], ys[1], ds[0])]
            pieces.append(.polygon(convexHull(corners), colour: colour * 0.7, stripes: 0))
            pieces.append(.polygon(top, colour: colour * 1.15, stripes: 0))
            pieces.append(.polygon(face, colour: colour, stripes: stripes))
        }
        var shadow = SIMD2<Double>(0, 0)
        switch kind {
        case .pole:
            let colour = rng.chance(0.5) ? Vec3(repeating: rng.uniform(0.1, 0.6))
                : hsv(rng.unit(), rng.uniform(0.3, 0.8), rng.uniform(0.2, 0.7))
            let foot = stage.point(x, 0, distance), head = stage.point(x, size.height, distance)
            pieces.append(.capsule(foot, head, radius: size.width / 2 * scale, colour: colour))
            if rng.chance(0.4) {
                let plate = Size(width: rng.uniform(0.25, 0.5), height: rng.uniform(0.2, 0.4), depth: 0.02)
                let colours = [Vec3(0.9, 0.9, 0.88), Vec3(0.1, 0.25, 0.7), Vec3(0.75, 0.1, 0.08), Vec3(0.9, 0.75, 0.1)]
                box(x, size.height - plate.height - rng.uniform(0, 0.2), distance - 0.03, plate, rng.pick(colours))
            }
        case .crate:
            let wood = rng.chance(0.5)
            let colour = wood ? hsv(rng.uniform(0.07, 0.11), rng.uniform(0.4, 0.7), rng.uniform(0.35, 0.75))
                : hsv(rng.unit(), rng.uniform(0.3, 0.9), rng.uniform(0.25, 0.85))
            let planks = wood && rng.chance(0.6) ? rng.uniform(0.05, 0.1) * scale : 0
            box(x, 0, distance, size, colour, stripes: planks)
            if rng.chance(0.35) {  // another, smaller, on top
                let upper = Size(width: size.width * rng.uniform(0.6, 0.95), height: size.height * rng.uniform(0.6, 1),
                                 depth: size.depth * rng.uniform(0.7, 0.95))
                box(x + rng.uniform(-0.1, 0.1) * size.width, size.height, distance + 0.5 * (size.depth - upper.depth),
                    upper, colour * rng.uniform(0.85, 1.15), stripes: planks)
            }
            shadow = SIMD2(0.55 * size.width * scale, 0)
        case .bush:
            let hue = rng.uniform(0.2, 0.38), saturation = rng.uniform(0.4, 0.8), value = rng.uniform(0.2, 0.55)
            var blobs: [(d: Double, piece: Piece)] = []
            for _ in 0..<rng.int(5...9) {
                let r = rng.uniform(0.25, 0.4) * min(size.width, 1.4 * size.height)
                let bx = x + rng.uniform(-1, 1) * max(0, size.width / 2 - 0.6 * r)
                let by = rng.uniform(0.8 * r, max(0.8 * r, size.height - r))
                let d = distance + rng.uniform(0, size.depth)
                let colour = hsv(hue + rng.uniform(-0.03, 0.03), saturation, value * rng.uniform(0.8, 1.2))
                let centre = stage.point(bx, by, d)
                blobs.append((d, .capsule(centre, centre, radius: r * stage.scale(d), colour: colour)))
            }
            // Far blobs first.
            pieces += blobs.enumerated().sorted { ($0.element.d, $0.offset) > ($1.element.d, $1.offset) }
                .map(\.element.piece)
            shadow = SIMD2(0.5 * size.width * scale, 0)
        case .wall:
            let colour: Vec3, courses: Double
            switch rng.int(0...2) {
            case 0:  // brick
                colour = hsv(rng.uniform(0.0, 0.06), rng.uniform(0.45, 0.7), rng.uniform(0.35, 0.65))
                courses = rng.uniform(0.06, 0.09) * scale
            case 1:  // concrete
                colour = Vec3(repeating: rng.uniform(0.4, 0.75))
                courses = 0
            default:  // painted boards
                colour = hsv(rng.unit(), rng.uniform(0.2, 0.6), rng.uniform(0.4, 0.85))
                courses = rng.uniform(0.1, 0.16) * scale
            }
            box(x, 0, distance, size, colour, stripes: courses)
            shadow = SIMD2(0.52 * size.width * scale, 0)
        }
        if shadow.x > 0 {
            // As deep as the footprint looks from the camera, plus a little.
            let near = stage.point(x, 0, distance).y, far = stage.point(x, 0, distance + size.depth).y
            shadow.y = 0.5 * (near - far) + 0.03 * scale
            shadowCentre = SIMD2(stage.point(x, 0, distance).x, 0.5 * (near + far))
        } else {
            shadowCentre = SIMD2(0, 0)
        }
        shadowRadii = shadow
        self.pieces = pieces
    }

    /// Draws the prop through `place` (world pixels to picture pixels: the camera's pan, shake and zoom).
    func draw(on canvas: inout Canvas, place: (SIMD2<Double>) -> SIMD2<Float>, zoom: Double, light: Light,
              shadowStrength: Double) {
        if shadowRadii.x > 0 {
            canvas.shadow(centre: place(shadowCentre), rx: Float(shadowRadii.x * zoom), ry: Float(shadowRadii.y * zoom),
                          strength: Float(shadowStrength))
        }
        for piece in pieces {
            switch piece {
            case let .polygon(points, colour, stripes):
                let placed = points.map(place)
                var paint = Paint(colour: SIMD3<Float>(Float(colour.x), Float(colour.y), Float(colour.z)))
                if stripes > 0 {
                    paint.stripeFrequency = Float(1 / (stripes * zoom))
                    paint.stripeOrigin = placed[0]
                }
                canvas.roundedPolygon(placed, radius: 0, paint: paint, light: light, id: -2)
            case let .capsule(a, b, radius, colour):
                canvas.capsule(place(a), place(b), Float(radius * zoom), Float(radius * zoom),
                               paint: Paint(colour: SIMD3<Float>(Float(colour.x), Float(colour.y), Float(colour.z))),
                               light: light, id: -2)
            }
        }
    }
}

/// Convex hull of `points`, counter-clockwise in picture coordinates (Andrew's monotone chain).
func convexHull(_ points: [SIMD2<Double>]) -> [SIMD2<Double>] {
    let sorted = points.sorted { ($0.x, $0.y) < ($1.x, $1.y) }
    guard sorted.count > 2 else { return sorted }
    func turn(_ o: SIMD2<Double>, _ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double {
        (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
    }
    var lower: [SIMD2<Double>] = [], upper: [SIMD2<Double>] = []
    for p in sorted {
        while lower.count >= 2, turn(lower[lower.count - 2], lower[lower.count - 1], p) <= 0 { lower.removeLast() }
        lower.append(p)
    }
    for p in sorted.reversed() {
        while upper.count >= 2, turn(upper[upper.count - 2], upper[upper.count - 1], p) <= 0 { upper.removeLast() }
        upper.append(p)
    }
    return Array(lower.dropLast() + upper.dropLast())
}
