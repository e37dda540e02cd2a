// The frame being drawn: a float RGB canvas with anti-aliased, shaded primitives (tapered capsules, discs,
// rounded convex polygons) and an owner buffer that records which person part covers each pixel, from which
// keypoint visibility (occlusion) and the visible fraction are read; and a person's silhouette on an unbounded
// pixel grid, the visible fraction's denominator. Both decide coverage with the same distance functions.

/// A shaded fill: base colour lit by a directional light on the primitive's implied round surface.
struct Paint {
    var colour: SIMD3<Float>
    /// Horizontal stripes along `stripeAxis` (image plane, unit), `stripeFrequency` cycles per pixel; 0 = none.
    var stripeFrequency: Float = 0
    var stripeAxis = SIMD2<Float>(0, 1)
    var stripeOrigin = SIMD2<Float>(0, 0)
}

/// Light for a clip: direction in image space (x right, y down, z towards the viewer), unit length.
struct Light {
    var direction: SIMD3<Float>
    var ambient: Float
    var diffuse: Float
}

struct Canvas {
    let width: Int
    let height: Int
    /// Interleaved RGB, 0…1 (may exceed 1 before the final clamp).
    var rgb: [Float]
    /// Owner of each pixel: -1 for background, else `PartID.encode`.
    var owner: [Int32]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        rgb = [Float](repeating: 0, count: width * height * 3)
        owner = [Int32](repeating: -1, count: width * height)
    }

    mutating func clearOwners() {
        owner.withUnsafeMutableBufferPointer { $0.update(repeating: -1) }
    }

    /// Pixel rectangle covering [minX, maxX] × [minY, maxY] (pixel centres at +0.5), clipped to the canvas.
    private func pixelRange(_ minX: Float, _ minY: Float, _ maxX: Float, _ maxY: Float)
        -> (x0: Int, x1: Int, y0: Int, y1: Int)?
    {
        let x0 = max(0, Int((minX - 1).rounded(.down))), x1 = min(width, Int((maxX + 1).rounded(.up)))
        let y0 = max(0, Int((minY - 1).rounded(.down))), y1 = min(height, Int((maxY + 1).rounded(.up)))
        return x0 < x1 && y0 < y1 ? (x0, x1, y0, y1) : nil
    }

    /// A capsule from `a` (radius `ra`) to `b` (radius `rb`); a disc when a == b.
    mutating func capsule(_ a: SIMD2<Float>, _ b: SIMD2<Float>, _ ra: Float, _ rb: Float, paint: Paint,
                          light: Light, id: Int32) {
        let rMax = max(ra, rb)
        guard let r = pixelRange(min(a.x, b.x) - rMax, min(a.y, b.y) - rMax, max(a.x, b.x) + rMax,
                                 max(a.y, b.y) + rMax) else { return }
        let ab = b - a
        let len2 = max((ab * ab).sum(), 1e-6)
        let w = width
        rgb.withUnsafeMutableBufferPointer { rgb in
            owner.withUnsafeMutableBufferPointer { owner in
                for y in r.y0..<r.y1 {
                    let py = Float(y) + 0.5
                    for x in rowSpan(py, a, b, reach: rMax, r.x0..<r.x1) {
                        let p = SIMD2<Float>(Float(x) + 0.5, py)
                        let (sd, d, radius) = capsuleDistance(p, a, ab, len2, ra, rb)
                        if sd >= 0.5 { continue }
                        let coverage = min(1, 0.5 - sd)
                        var n = d / max(radius, 0.5)
                        let m2 = (n * n).sum()
                        if m2 > 1 { n /= m2.squareRoot() }
                        let nz = max(0, 1 - min(1, m2)).squareRoot()
                        let shade = Canvas.shade(n, nz, light)
                        let colour = paint.colour * shade * Canvas.stripe(paint, p)
                        let i = (y * w + x) * 3
                        let keep = 1 - coverage
                        rgb[i] = rgb[i] * keep + colour.x * coverage
                        rgb[i + 1] = rgb[i + 1] * keep + colour.y * coverage
                        rgb[i + 2] = rgb[i + 2] * keep + colour.z * coverage
                        if coverage >= 0.5 { owner[y * w + x] = id }
                    }
                }
            }
        }
    }

    /// A convex polygon (either winding) grown by `radius`: a torso seen from any side.
    mutating func roundedPolygon(_ points: [SIMD2<Float>], radius: Float, paint: Paint, light: Light, id: Int32) {
        guard points.count >= 3 else { return }
        var lo = points[0], hi = points[0]
        for p in points { lo = pointwiseMin(lo, p); hi = pointwiseMax(hi, p) }
        guard let r = pixelRange(lo.x - radius, lo.y - radius, hi.x + radius, hi.y + radius) else { return }
        let orientation = polygonOrientation(points)
        let w = width
        let falloff = max(radius * 1.6, 1)
        rgb.withUnsafeMutableBufferPointer { rgb in
            owner.withUnsafeMutableBufferPointer { owner in
                for y in r.y0..<r.y1 {
                    let py = Float(y) + 0.5
                    for x in rowSpan(py, points, reach: radius, r.x0..<r.x1) {
                        let p = SIMD2<Float>(Float(x) + 0.5, py)
                        let (sd, edge, inside, nearest) = polygonDistance(p, points, orientation, radius)
                        if sd >= 0.5 { continue }
                        let coverage = min(1, 0.5 - sd)
                        // Implied surface normal: tilts outwards near the rim, faces the viewer deep inside.
                        let outward = edge > 1e-4 ? (p - nearest) / edge * (inside ? -1 : 1) : SIMD2<Float>(0, 0)
                        let m = min(1, max(0, 1 + sd / falloff))
                        let n = outward * m
                        let nz = (1 - m * m).squareRoot()
                        let colour = paint.colour * Canvas.shade(n, nz, light) * Canvas.stripe(paint, p)
                        let i = (y * w + x) * 3
                        let keep = 1 - coverage
                        rgb[i] = rgb[i] * keep + colour.x * coverage
                        rgb[i + 1] = rgb[i + 1] * keep + colour.y * coverage
                        rgb[i + 2] = rgb[i + 2] * keep + colour.z * coverage
                        if coverage >= 0.5 { owner[y * w + x] = id }
                    }
                }
            }
        }
    }

    /// A soft elliptical contact shadow: darkens, owns nothing (it is part of the ground, not of a person).
    mutating func shadow(centre: SIMD2<Float>, rx: Float, ry: Float, strength: Float) {
        guard rx > 0.5, ry > 0.25, strength > 0,
              let r = pixelRange(centre.x - rx, centre.y - ry, centre.x + rx, centre.y + ry) else { return }
        let w = width
        rgb.withUnsafeMutableBufferPointer { rgb in
            for y in r.y0..<r.y1 {
                let dy = (Float(y) + 0.5 - centre.y) / ry
                for x in r.x0..<r.x1 {
                    let dx = (Float(x) + 0.5 - centre.x) / rx
                    let d = dx * dx + dy * dy
                    if d >= 1 { continue }
                    let keep = 1 - strength * (1 - d) * (1 - d)
                    let i = (y * w + x) * 3
                    rgb[i] *= keep; rgb[i + 1] *= keep; rgb[i + 2] *= keep
                }
            }
        }
    }

    /// Whether a primitive at signed distance `sd` from a pixel centre takes the pixel over in the owner buffer:
    /// when it covers at least half of it (the same expression the painters use).
    @inline(__always)
    static func owns(_ sd: Float) -> Bool { sd < 0.5 && min(1, 0.5 - sd) >= 0.5 }

    @inline(__always)
    static func shade(_ n: SIMD2<Float>, _ nz: Float, _ light: Light) -> Float {
        let lambert = max(0, n.x * light.direction.x + n.y * light.direction.y + nz * light.direction.z)
        return light.ambient + light.diffuse * lambert
    }

    @inline(__always)
    static func stripe(_ paint: Paint, _ p: SIMD2<Float>) -> Float {
        guard paint.stripeFrequency > 0 else { return 1 }
        let s = ((p - paint.stripeOrigin) * paint.stripeAxis).sum() * paint.stripeFrequency
        return s - s.rounded(.down) < 0.5 ? 1 : 0.72
    }
}

/// Signed distance from `p` to a capsule from `a` (radius `ra`) to `a + ab` (radius `rb`), `len2` = |ab|²
/// (at least 1e-6); with the offset from the axis and the radius there, for shading.
@inline(__always)
func capsuleDistance(_ p: SIMD2<Float>, _ a: SIMD2<Float>, _ ab: SIMD2<Float>, _ len2: Float, _ ra: Float,
                     _ rb: Float) -> (sd: Float, offset: SIMD2<Float>, radius: Float) {
    let ap = p - a
    let t = min(1, max(0, (ap * ab).sum() / len2))
    let radius = ra + (rb - ra) * t
    let d = p - (a + ab * t)
    let dist = (d * d).sum().squareRoot()
    return (dist - radius, d, radius)
}

/// The columns of `columns` whose pixel centres on the row at height `py` may lie within `reach` of the segment
/// from `a` to `b` (plus a margin): every pixel a primitive of that reach can cover at all is among them, so
/// skipping the others changes nothing. The hull of where the row meets the discs around `a` and `b` and the band
/// along the segment; for a nearly horizontal segment, the segment's extent when the row is near it.
@inline(__always)
func rowSpan(_ py: Float, _ a: SIMD2<Float>, _ b: SIMD2<Float>, reach: Float, _ columns: Range<Int>) -> Range<Int> {
    let r = reach + 1.5
    guard py >= min(a.y, b.y) - r, py <= max(a.y, b.y) + r else { return columns.lowerBound..<columns.lowerBound }
    var lo = min(a.x, b.x) - r, hi = max(a.x, b.x) + r
    let ab = b - a
    let length = (ab * ab).sum().squareRoot()
    if abs(ab.y) > 0.05 * length {
        lo = .infinity
        hi = -.infinity
        @inline(__always) func disc(_ c: SIMD2<Float>) {
            let dy = py - c.y
            if abs(dy) <= r {
                let half = (r * r - dy * dy).squareRoot()
                lo = min(lo, c.x - half)
                hi = max(hi, c.x + half)
            }
        }
        disc(a)
        disc(b)
        let centre = a.x + ab.x * (py - a.y) / ab.y, half = r * length / abs(ab.y)
        lo = min(lo, centre - half)
        hi = max(hi, centre + half)
    }
    // Pixel x has its centre at x + 0.5.
    let first = max(columns.lowerBound, Int((lo - 0.5).rounded(.down)))
    let last = min(columns.upperBound, Int((hi - 0.5).rounded(.up)) + 1)
    return first < last ? first..<last : columns.lowerBound..<columns.lowerBound
}

/// `rowSpan` for a convex polygon grown by `reach`: the hull over its edges (the row's crossing of the inside lies
/// between two edge crossings).
@inline(__always)
func rowSpan(_ py: Float, _ points: [SIMD2<Float>], reach: Float, _ columns: Range<Int>) -> Range<Int> {
    var first = columns.upperBound, last = columns.lowerBound
    for i in 0..<points.count {
        let span = rowSpan(py, points[i], points[(i + 1) % points.count], reach: reach, columns)
        if span.isEmpty { continue }
        first = min(first, span.lowerBound)
        last = max(last, span.upperBound)
    }
    return first < last ? first..<last : columns.lowerBound..<columns.lowerBound
}

/// +1 or -1 by the winding of `points`, so "inside" is the same side of every edge.
func polygonOrientation(_ points: [SIMD2<Float>]) -> Float {
    var area: Float = 0
    for i in 0..<points.count {
        let p = points[i], q = points[(i + 1) % points.count]
        area += p.x * q.y - q.x * p.y
    }
    return area >= 0 ? 1 : -1
}

/// Signed distance from `p` to a convex polygon grown by `radius`; with the distance to the outline, whether `p`
/// is inside the outline and the outline's nearest point, for shading.
@inline(__always)
func polygonDistance(_ p: SIMD2<Float>, _ points: [SIMD2<Float>], _ orientation: Float, _ radius: Float)
    -> (sd: Float, edge: Float, inside: Bool, nearest: SIMD2<Float>)
{
    let count = points.count
    var best: Float = .infinity, nearest = p
    var inside = true
    for i in 0..<count {
        let a = points[i], b = points[(i + 1) % count]
        let ab = b - a, ap = p - a
        if orientation * (ab.x * ap.y - ab.y * ap.x) < 0 { inside = false }
        let t = min(1, max(0, (ap * ab).sum() / max((ab * ab).sum(), 1e-6)))
        let q = a + ab * t
        let d2 = ((p - q) * (p - q)).sum()
        if d2 < best { best = d2; nearest = q }
    }
    let edge = best.squareRoot()
    return ((inside ? -edge : edge) - radius, edge, inside, nearest)
}

/// The pixels one person would own if drawn alone on a canvas without edges: the same pixel grid as the
/// picture (pixel (i, j) covers [i, i+1) × [j, j+1), i and j may be negative) and the same coverage rule, so
/// every pixel the person owns in the picture is one of these.
struct Silhouette {
    let x0: Int, y0: Int, width: Int, height: Int
    private var covered: [Bool]

    /// A grid covering [lo, hi] (plus the painters' one-pixel margin).
    init(lo: SIMD2<Float>, hi: SIMD2<Float>) {
        let reach = Silhouette.reach(lo: lo, hi: hi)
        x0 = reach.x.lowerBound
        y0 = reach.y.lowerBound
        width = reach.x.count
        height = reach.y.count
        covered = [Bool](repeating: false, count: width * height)
    }

    /// The pixels a drawing within [lo, hi] can touch at all, on the unbounded grid (the painters' margin included).
    static func reach(lo: SIMD2<Float>, hi: SIMD2<Float>) -> (x: Range<Int>, y: Range<Int>) {
        let x0 = Int((lo.x - 1).rounded(.down)), y0 = Int((lo.y - 1).rounded(.down))
        return (x0..<max(x0, Int((hi.x + 1).rounded(.up))), y0..<max(y0, Int((hi.y + 1).rounded(.up))))
    }

    /// Pixel range of [minX, maxX] × [minY, maxY] as the painters compute it, without clipping to a picture
    /// (clipped to this grid, which contains it when the grid was made from the person's bounds).
    private func range(_ minX: Float, _ minY: Float, _ maxX: Float, _ maxY: Float) -> (Range<Int>, Range<Int>) {
        let xa = max(x0, Int((minX - 1).rounded(.down))), xb = min(x0 + width, Int((maxX + 1).rounded(.up)))
        let ya = max(y0, Int((minY - 1).rounded(.down))), yb = min(y0 + height, Int((maxY + 1).rounded(.up)))
        return (xa..<max(xa, xb), ya..<max(ya, yb))
    }

    mutating func capsule(_ a: SIMD2<Float>, _ b: SIMD2<Float>, _ ra: Float, _ rb: Float) {
        let rMax = max(ra, rb)
        let (xs, ys) = range(min(a.x, b.x) - rMax, min(a.y, b.y) - rMax, max(a.x, b.x) + rMax, max(a.y, b.y) + rMax)
        let ab = b - a
        let len2 = max((ab * ab).sum(), 1e-6)
        for y in ys {
            let py = Float(y) + 0.5, row = (y - y0) * width - x0
            for x in rowSpan(py, a, b, reach: rMax, xs)
            where !covered[row + x]
                && Canvas.owns(capsuleDistance(SIMD2<Float>(Float(x) + 0.5, py), a, ab, len2, ra, rb).sd) {
                covered[row + x] = true
            }
        }
    }

    mutating func polygon(_ points: [SIMD2<Float>], radius: Float) {
        guard points.count >= 3 else { return }
        var lo = points[0], hi = points[0]
        for p in points { lo = pointwiseMin(lo, p); hi = pointwiseMax(hi, p) }
        let (xs, ys) = range(lo.x - radius, lo.y - radius, hi.x + radius, hi.y + radius)
        let orientation = polygonOrientation(points)
        for y in ys {
            let py = Float(y) + 0.5, row = (y - y0) * width - x0
            for x in rowSpan(py, points, reach: radius, xs)
            where !covered[row + x]
                && Canvas.owns(polygonDistance(SIMD2<Float>(Float(x) + 0.5, py), points, orientation, radius).sd) {
                covered[row + x] = true
            }
        }
    }

    /// Number of pixels covered.
    var area: Int { covered.reduce(0) { $0 + ($1 ? 1 : 0) } }
}
