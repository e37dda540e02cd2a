// Draws one frame of a ClipScene: background through the moving camera, people and props far to near (people as
// shaded capsules), then light, vignette and sensor noise; and reads each person's box, keypoints (with
// visibility from what actually covers each keypoint's pixel) and visible fraction from the same drawing.
import Foundation
import SeededRandom

/// Identifies a drawn part in the canvas owner buffer: performer slot × 64 + part number.
private func ownerID(performer: Int, part: Int) -> Int32 { Int32(performer * 64 + part) }

private struct Part {
    enum Shape {
        case capsule(SIMD2<Float>, SIMD2<Float>, Float, Float)
        case polygon([SIMD2<Float>], Float)
    }
    var shape: Shape
    var paint: Paint
    var depth: Double
    /// Keypoints this part contains (bit k = COCO keypoint k): they are visible where this part is on top.
    var keypoints: UInt32

    var bounds: (lo: SIMD2<Float>, hi: SIMD2<Float>) {
        switch shape {
        case let .capsule(a, b, ra, rb):
            let r = max(ra, rb)
            return (pointwiseMin(a, b) - r, pointwiseMax(a, b) + r)
        case let .polygon(points, r):
            var lo = points[0], hi = points[0]
            for p in points { lo = pointwiseMin(lo, p); hi = pointwiseMax(hi, p) }
            return (lo - r, hi + r)
        }
    }
}

/// One drawn person, as the ground truth reads it.
private struct Posed {
    /// Projected keypoints, COCO order.
    var points: [SIMD2<Float>]
    /// Depth of the face keypoints relative to the head centre, in head radii (+ = towards the camera).
    var faceDepth: [Double]
    /// [x, y, w, h] clipped to the picture; nil when entirely outside.
    var box: [Double]?
    /// Keypoints each part contains, by part number.
    var masks: [UInt32]
    /// Pixels the person would own drawn alone on a canvas without edges (0 when outside the picture).
    var area: Int
}

private func mask(_ keypoints: Keypoint...) -> UInt32 {
    keypoints.reduce(0) { $0 | (1 << UInt32($1.rawValue)) }
}

private func float3(_ v: Vec3) -> SIMD3<Float> { SIMD3<Float>(Float(v.x), Float(v.y), Float(v.z)) }

extension ClipScene {
    /// Frame `index` as RGB24 bytes plus each person's ground truth in it (nil when out of the picture).
    /// `drawPeople: false` gives the empty scene with identical camera, light and noise (for tests);
    /// `composite: false` skips background and post-processing (ground truth only).
    public func renderFrame(_ index: Int, drawPeople: Bool = true, composite: Bool = true)
        -> (pixels: [UInt8], people: [Int: PersonFrameTruth])
    {
        var canvas = Canvas(width: options.width, height: options.height)
        return renderFrame(index, drawPeople: drawPeople, composite: composite, reusing: &canvas)
    }

    /// As above, drawing on `canvas` (this scene's size) so a clip loop does not allocate and fault in fresh
    /// pages every frame; every pixel the result depends on is rewritten.
    func renderFrame(_ index: Int, drawPeople: Bool = true, composite: Bool = true, reusing canvas: inout Canvas)
        -> (pixels: [UInt8], people: [Int: PersonFrameTruth])
    {
        let w = options.width, h = options.height
        precondition(canvas.width == w && canvas.height == h, "canvas size differs from the scene's")
        canvas.clearOwners()
        if composite { drawBackground(into: &canvas, frame: index) }
        var truths: [Int: PersonFrameTruth] = [:]
        let t = Double(index) / Double(options.fps)
        // Everything on the floor, far to near by ground line: people, each just after their seats (which belong
        // to the empty scene too), and props.
        var order: [(groundY: Double, isProp: Bool, index: Int)] = performers.indices.map {
            (performers[$0].groundY[index], false, $0)
        }
        order += props.indices.map { (props[$0].groundY, true, $0) }
        order.sort { ($0.groundY, $0.isProp ? 1 : 0, $0.index) < ($1.groundY, $1.isProp ? 1 : 0, $1.index) }
        var posed = [Posed?](repeating: nil, count: performers.count)
        let z = zoom[index]
        for item in order {
            if item.isProp {
                props[item.index].draw(on: &canvas, place: { p in
                    let o = screenOrigin(worldX: p.x, groundY: p.y, frame: index)
                    return SIMD2<Float>(Float(o.x), Float(o.y))
                }, zoom: z, light: light, shadowStrength: shadowStrength)
                continue
            }
            let performer = performers[item.index]
            for seat in seats where seat.sitter == performer.id {
                seat.draw(on: &canvas, origin: screenOrigin(worldX: seat.worldX, groundY: seat.groundY, frame: index),
                          light: light)
            }
            if drawPeople { posed[item.index] = draw(performer, slot: item.index, time: t, frame: index, on: &canvas) }
        }
        if drawPeople {
            // Pixels where each person is on top in the finished picture.
            var onTop = [Int](repeating: 0, count: performers.count)
            canvas.owner.withUnsafeBufferPointer { owner in
                for o in owner where o >= 0 { onTop[Int(o) / 64] += 1 }
            }
            for (slot, performer) in performers.enumerated() {
                guard let posed = posed[slot], let box = posed.box else { continue }
                var keypoints: [KeypointTruth] = []
                for k in 0..<Keypoint.count {
                    let p = posed.points[k]
                    // Decided on the coordinates as written (2 decimals), so readers see consistent data.
                    let x = rounded(Double(p.x), 2), y = rounded(Double(p.y), 2)
                    var v = KeypointVisibility.outside
                    if x >= 0, y >= 0, x < Double(w), y < Double(h) {
                        v = .occluded
                        // Visible when the part on top there contains this joint, or when nothing covers the
                        // pixel by half (a limb thinner than a pixel: nothing can be hiding the joint).
                        let owner = Int(canvas.owner[Int(y) * w + Int(x)])
                        let own = owner >= 0 && owner / 64 == slot
                            && posed.masks[owner % 64] & (1 << UInt32(k)) != 0
                        if own || owner == -1, k > 4 || posed.faceDepth[k] > -0.15 {
                            v = .visible
                        }
                    }
                    keypoints.append(KeypointTruth(x: x, y: y, visibility: v))
                }
                let visible = posed.area > 0 ? min(1, Double(onTop[slot]) / Double(posed.area)) : 0
                truths[performer.id] = PersonFrameTruth(index: index, t: rounded(t, 4), box: box.map { rounded($0, 2) },
                                                        keypoints: keypoints, visible: rounded(visible, 2))
            }
        }
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        if composite { finish(canvas, frame: index, into: &pixels) }
        return (pixels, truths)
    }

    /// Background window at the camera position, bilinear (the camera moves by fractions of a pixel). Without
    /// zoom the camera offset is the same for every pixel, so the four weights are constant and each row is a
    /// few contiguous runs (split where the background wraps around), which the compiler vectorises; zoomed
    /// frames take the general per-pixel path (also the reference the fast path is tested against).
    func drawBackground(into canvas: inout Canvas, frame: Int) {
        if zoom[frame] != 1 { return drawBackgroundPerPixel(into: &canvas, frame: frame) }
        let w = options.width, h = options.height, bw = background.width, bh = background.height
        let sx = fmodPositive(cameraX[frame], Double(bw))
        let ix = Int(sx), fx = Float(sx - Double(ix))
        background.rgb.withUnsafeBufferPointer { bg in
            canvas.rgb.withUnsafeMutableBufferPointer { out in
                let bgBase = bg.baseAddress!, outBase = out.baseAddress!
                for y in 0..<h {
                    let sy = min(max(Double(y) + cameraY[frame] + Double(background.margin), 0), Double(bh) - 1.001)
                    let iy = Int(sy), fy = Float(sy - Double(iy))
                    let w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy
                    var x = 0
                    while x < w {
                        // Run of output pixels whose source pixel and its right neighbour need no wrap.
                        let source = (ix + x) % bw
                        let run = min(w - x, bw - 1 - source)
                        if run <= 0 {
                            // The last background column: its right neighbour is column 0.
                            let a = (iy * bw + source) * 3, b = (iy * bw) * 3, o = (y * w + x) * 3
                            for c in 0..<3 {
                                outBase[o + c] = w00 * bgBase[a + c] + w01 * bgBase[b + c]
                                    + w10 * bgBase[a + bw * 3 + c] + w11 * bgBase[b + bw * 3 + c]
                            }
                            x += 1
                            continue
                        }
                        let top = bgBase + (iy * bw + source) * 3, bottom = top + bw * 3
                        let dst = outBase + (y * w + x) * 3
                        for i in 0..<(run * 3) {
                            dst[i] = w00 * top[i] + w01 * top[i + 3] + w10 * bottom[i] + w11 * bottom[i + 3]
                        }
                        x += run
                    }
                }
            }
        }
    }

    /// Bilinear background sampling pixel by pixel, through the camera offset and zoom about the centre.
    func drawBackgroundPerPixel(into canvas: inout Canvas, frame: Int) {
        let w = options.width, h = options.height, bw = background.width, bh = background.height
        let z = zoom[frame], cx = Double(w) / 2, cy = Double(h) / 2
        var x0 = [Int](repeating: 0, count: w), x1 = x0, fx = [Float](repeating: 0, count: w)
        for x in 0..<w {
            let sx = fmodPositive(cameraX[frame] + cx + (Double(x) + 0.5 - cx) / z - 0.5, Double(bw))
            let ix = min(Int(sx), bw - 1)
            x0[x] = ix * 3
            x1[x] = ((ix + 1) % bw) * 3
            fx[x] = Float(sx - Double(ix))
        }
        let margin = Double(background.margin)
        background.rgb.withUnsafeBufferPointer { bg in
            canvas.rgb.withUnsafeMutableBufferPointer { out in
                for y in 0..<h {
                    let raw = cameraY[frame] + margin + cy + (Double(y) + 0.5 - cy) / z - 0.5
                    let sy = min(max(raw, 0), Double(bh) - 1.001)
                    let iy = Int(sy), fy = Float(sy - Double(iy))
                    let row0 = iy * bw * 3, row1 = (iy + 1) * bw * 3
                    for x in 0..<w {
                        let a = fx[x], o = (y * w + x) * 3
                        for c in 0..<3 {
                            let top = bg[row0 + x0[x] + c] + (bg[row0 + x1[x] + c] - bg[row0 + x0[x] + c]) * a
                            let bottom = bg[row1 + x0[x] + c] + (bg[row1 + x1[x] + c] - bg[row1 + x0[x] + c]) * a
                            out[o + c] = top + (bottom - top) * fy
                        }
                    }
                }
            }
        }
    }

    /// Light level, colour cast, vignette and sensor noise, then 8-bit quantisation. One random word per pixel
    /// gives each channel triangular noise from two bytes (variance 1/6 of the half-width squared).
    private func finish(_ canvas: Canvas, frame: Int, into pixels: inout [UInt8]) {
        var rng = SplitMix64(seed: SplitMix64.derive(clipSeed, 0x1_0000_0000 &+ UInt64(frame)))
        let scale = tint * gain[frame] * 255
        let noise = noiseSigma * 255 * Float(6).squareRoot() / 255
        let count = options.width * options.height
        canvas.rgb.withUnsafeBufferPointer { rgb in
            vignette.withUnsafeBufferPointer { vig in
                pixels.withUnsafeMutableBufferPointer { out in
                    let s0 = scale.x, s1 = scale.y, s2 = scale.z
                    @inline(__always) func byte(_ x: Float) -> UInt8 {
                        UInt8(truncatingIfNeeded: Int32(min(255, max(0, x))))
                    }
                    for i in 0..<count {
                        let r = rng.next()
                        @inline(__always) func pair(_ shift: UInt64) -> Float {
                            Float(UInt8(truncatingIfNeeded: r >> shift))
                                + Float(UInt8(truncatingIfNeeded: r >> (shift + 8))) - 255
                        }
                        let n0 = pair(0), n1 = pair(16), n2 = pair(32)
                        let v = vig[i], o = i * 3
                        out[o] = byte(rgb[o] * s0 * v + n0 * noise + 0.5)
                        out[o + 1] = byte(rgb[o + 1] * s1 * v + n1 * noise + 0.5)
                        out[o + 2] = byte(rgb[o + 2] * s2 * v + n2 * noise + 0.5)
                    }
                }
            }
        }
    }

    /// Draws one person; returns what the ground truth is read with.
    private func draw(_ performer: Performer, slot: Int, time: Double, frame: Int, on canvas: inout Canvas)
        -> Posed
    {
        let shape = performer.shape
        let pose = performer.timeline.state(at: time).pose
        let body = Kinematics.pose(pose, shape: shape)
        let origin = screenOrigin(worldX: performer.x[frame], groundY: performer.groundY[frame], frame: frame)
        let s = performer.scale[frame] * origin.zoom, ox = origin.x, oy = origin.y
        // Contact shadow on the ground under the feet; it fades as the person leaves the ground.
        let feet = (body.keypoints[Keypoint.leftAnkle.rawValue] + body.keypoints[Keypoint.rightAnkle.rawValue]) / 2
        let spread = abs(body.keypoints[Keypoint.leftAnkle.rawValue].x - body.keypoints[Keypoint.rightAnkle.rawValue].x)
        canvas.shadow(centre: SIMD2<Float>(Float(ox + feet.x * s), Float(oy)), rx: Float((0.16 + spread / 2) * s),
                      ry: Float(0.035 * s), strength: Float(shadowStrength * max(0.2, 1 - 3 * pose.lift)))
        func project(_ p: Vec3) -> SIMD2<Float> { SIMD2<Float>(Float(ox + p.x * s), Float(oy - p.y * s)) }
        func radius(_ r: Double) -> Float { Float(r * s) }
        let k = body.keypoints
        let r = shape.headRadius
        var parts: [Part] = []
        func capsule(_ a: Vec3, _ b: Vec3, _ ra: Double, _ rb: Double, _ colour: Vec3, _ m: UInt32,
                     bias: Double = 0, stripes: Bool = false) {
            var paint = Paint(colour: float3(colour))
            if stripes, shape.shirtStripes > 0 {
                paint.stripeFrequency = Float(shape.shirtStripes / s)
                let axis = project(body.neck) - project(body.pelvis)
                paint.stripeAxis = axis / max(1e-3, (axis * axis).sum().squareRoot())
                paint.stripeOrigin = project(body.pelvis)
            }
            parts.append(Part(shape: .capsule(project(a), project(b), radius(ra), radius(rb)), paint: paint,
                              depth: (a.z + b.z) / 2 + bias, keypoints: m))
        }
        let kp = { (point: Keypoint) in k[point.rawValue] }
        // Head: a hair disc set back, a face disc set forward, so the head shows which way it faces.
        let hairCentre = body.headCentre - body.headForward * (0.18 * r) + body.headUp * (0.1 * r)
        let faceCentre = body.headCentre + body.headForward * (0.12 * r)
        capsule(hairCentre, hairCentre, r, r, shape.hair, mask(.leftEar, .rightEar))
        if shape.longHair {
            // Behind the head down to the shoulders; biased back so from the front it stays behind the torso.
            let nape = body.headCentre - body.headUp * (1.5 * r) - body.headForward * (0.35 * r)
            capsule(hairCentre, nape, 0.95 * r, 0.8 * r, shape.hair, 0, bias: -0.03)
        }
        capsule(faceCentre, faceCentre, 0.9 * r, 0.9 * r, shape.skin,
                mask(.nose, .leftEye, .rightEye, .leftEar, .rightEar))
        capsule(body.neck, body.headCentre - body.headUp * (0.5 * r), 0.45 * r, 0.45 * r, shape.skin, 0,
                bias: -0.01)
        // Torso: the shoulder–hip quadrilateral, rounded by the torso's half depth.
        let corners = [kp(.leftShoulder), kp(.rightShoulder), kp(.rightHip), kp(.leftHip)]
        var shirt = Paint(colour: float3(shape.shirt))
        if shape.shirtStripes > 0 {
            let axis = project(body.neck) - project(body.pelvis)
            shirt.stripeFrequency = Float(shape.shirtStripes / s)
            shirt.stripeAxis = axis / max(1e-3, (axis * axis).sum().squareRoot())
            shirt.stripeOrigin = project(body.pelvis)
        }
        let torsoDepth = corners.map(\.z).reduce(0, +) / 4 - 0.02
        parts.append(Part(shape: .polygon(corners.map(project), radius(shape.torsoRadius)), paint: shirt,
                          depth: torsoDepth, keypoints: mask(.leftShoulder, .rightShoulder, .leftHip, .rightHip)))
        capsule(kp(.leftHip), kp(.rightHip), shape.thighRadius, shape.thighRadius, shape.trousers,
                mask(.leftHip, .rightHip), bias: torsoDepth + 0.001 - (kp(.leftHip).z + kp(.rightHip).z) / 2)
        let sides: [(shoulder: Keypoint, elbow: Keypoint, wrist: Keypoint, hip: Keypoint, knee: Keypoint,
                     ankle: Keypoint)] = [
            (.leftShoulder, .leftElbow, .leftWrist, .leftHip, .leftKnee, .leftAnkle),
            (.rightShoulder, .rightElbow, .rightWrist, .rightHip, .rightKnee, .rightAnkle),
        ]
        for (i, side) in sides.enumerated() {
            capsule(kp(side.shoulder), kp(side.elbow), shape.upperArmRadius, shape.upperArmRadius * 0.9, shape.shirt,
                    mask(side.shoulder, side.elbow), stripes: true)
            capsule(kp(side.elbow), kp(side.wrist), shape.forearmRadius, shape.forearmRadius * 0.85,
                    shape.longSleeves ? shape.shirt : shape.skin, mask(side.elbow, side.wrist))
            capsule(body.handCentre[i], body.handCentre[i], shape.handRadius, shape.handRadius, shape.skin,
                    mask(side.wrist), bias: 0.001)
            capsule(kp(side.hip), kp(side.knee), shape.thighRadius, shape.thighRadius * 0.8, shape.trousers,
                    mask(side.hip, side.knee))
            capsule(kp(side.knee), kp(side.ankle), shape.shinRadius, shape.shinRadius * 0.8,
                    shape.shorts ? shape.skin : shape.trousers, mask(side.knee, side.ankle))
            capsule(kp(side.ankle), body.toe[i], shape.footRadius, shape.footRadius, shape.shoes, mask(side.ankle),
                    bias: 0.001)
        }
        // Painter's order within the person: far parts first (stable for equal depths).
        let order = parts.indices.sorted { (parts[$0].depth, $0) < (parts[$1].depth, $1) }
        var lo = SIMD2<Float>(repeating: .infinity), hi = SIMD2<Float>(repeating: -.infinity)
        for i in order {
            let part = parts[i]
            let id = ownerID(performer: slot, part: i)
            switch part.shape {
            case let .capsule(a, b, ra, rb):
                canvas.capsule(a, b, ra, rb, paint: part.paint, light: light, id: id)
            case let .polygon(points, rr):
                canvas.roundedPolygon(points, radius: rr, paint: part.paint, light: light, id: id)
            }
            let bounds = part.bounds
            lo = pointwiseMin(lo, bounds.lo)
            hi = pointwiseMax(hi, bounds.hi)
        }
        let points = k.map(project)
        let faceDepth = (0..<5).map { (k[$0].z - body.headCentre.z) / r }
        let x0 = max(0, Double(lo.x)), y0 = max(0, Double(lo.y))
        let x1 = min(Double(options.width), Double(hi.x)), y1 = min(Double(options.height), Double(hi.y))
        let box: [Double]? = x1 > x0 && y1 > y0 ? [x0, y0, x1 - x0, y1 - y0] : nil
        // The pixels the person would own drawn alone on a canvas without edges: the visible fraction's
        // denominator. Whether a part takes a pixel over does not depend on what was there, so inside the picture
        // these are the pixels the person owns right after being drawn; only someone reaching past the picture's
        // edges needs the unbounded silhouette.
        var area = 0
        let reach = Silhouette.reach(lo: lo, hi: hi), w = options.width
        let inPicture = reach.x.lowerBound >= 0 && reach.y.lowerBound >= 0 && reach.x.upperBound <= w
            && reach.y.upperBound <= options.height
        if box != nil, inPicture {
            canvas.owner.withUnsafeBufferPointer { owner in
                for y in reach.y {
                    for x in reach.x where owner[y * w + x] >= 0 && Int(owner[y * w + x]) / 64 == slot { area += 1 }
                }
            }
        } else if box != nil {
            var silhouette = Silhouette(lo: lo, hi: hi)
            for part in parts {
                switch part.shape {
                case let .capsule(a, b, ra, rb): silhouette.capsule(a, b, ra, rb)
                case let .polygon(points, rr): silhouette.polygon(points, radius: rr)
                }
            }
            area = silhouette.area
        }
        return Posed(points: points, faceDepth: faceDepth, box: box, masks: parts.map(\.keypoints), area: area)
    }
}
