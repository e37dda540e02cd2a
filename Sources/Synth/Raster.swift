// The frame being drawn: a float RGB canvas with anti-aliased, shaded primitives (tapered capsules, discs,
// rounded convex polygons) and an owner buffer that records which person part covers each pixel, from which
// keypoint visibility (occlusion) is read.

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
                    for x in r.x0..<r.x1 {
                        let p = SIMD2<Float>(Float(x) + 0.5, py)
                        let ap = p - a
                        let t = min(1, max(0, (ap * ab).sum() / len2))
                        let radius = ra + (rb - ra) * t
                        let d = p - (a + ab * t)
                        let dist = (d * d).sum().squareRoot()
                        let sd = dist - radius
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
        // Orientation, so "inside" is the same side of every edge.
        var area: Float = 0
        for i in 0..<points.count {
            let p = points[i], q = points[(i + 1) % points.count]
            area += p.x * q.y - q.x * p.y
        }
        let orientation: Float = area >= 0 ? 1 : -1
        let w = width, count = points.count
        let falloff = max(radius * 1.6, 1)
        rgb.withUnsafeMutableBufferPointer { rgb in
            owner.withUnsafeMutableBufferPointer { owner in
                for y in r.y0..<r.y1 {
                    let py = Float(y) + 0.5
                    for x in r.x0..<r.x1 {
                        let p = SIMD2<Float>(Float(x) + 0.5, py)
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
                        let sd = (inside ? -edge : edge) - radius
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
